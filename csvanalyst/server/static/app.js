// The csvanalyst web page: plain ES module, no build step. Every cell value is inserted as text.
const $ = (id) => document.getElementById(id);
const store = window.localStorage;
const state = {
  thread: store.getItem("csvanalyst.thread"), dataset: store.getItem("csvanalyst.dataset"), busy: false, abort: null,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  const token = store.getItem("csvanalyst.token");
  if (token) headers["Authorization"] = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    const given = window.prompt("This server needs a token:");
    if (given) { store.setItem("csvanalyst.token", given); return api(path, options); }
  }
  return response;
}

async function problemText(response) {
  try {
    const body = await response.json();
    return [body.title, body.detail].filter(Boolean).join(" ");
  } catch { return `HTTP ${response.status}`; }
}

// The product's one number rule (csvanalyst/core/numbers.py): up to 10 significant digits, positional
// from 1e-6 to 1e15, scientific beyond; the exact value is in the cell's title.
export function formatNumber(value) {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value < 0 ? "-inf" : "inf";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const rounded = Number(value.toPrecision(10));
  if (rounded === 0) return "0";
  const size = Math.abs(rounded);
  if (size >= 1e10 && size < 1e15) return value.toFixed(0); // a whole part is never rounded away
  if (size >= 1e-6 && size < 1e15) return String(rounded);
  const [mantissa, exponent] = rounded.toExponential().split("e");
  const sign = exponent.startsWith("-") ? "-" : "+";
  return `${mantissa}e${sign}${exponent.replace(/^[+-]/, "").padStart(2, "0")}`;
}

function tableCell(value) {
  if (typeof value === "number") return el("td", { text: formatNumber(value), class: "num", title: String(value) });
  return el("td", { text: value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value) });
}

function table(columns, rows) {
  const head = el("tr", {}, ...columns.map((c) => el("th", {}, c.name, " ", el("small", { text: c.type || "" }))));
  const body = rows.map((row) => el("tr", {}, ...row.map(tableCell)));
  return el("table", { class: "result-table" }, el("thead", {}, head), el("tbody", {}, ...body));
}

// ---- datasets --------------------------------------------------------------------------------
async function loadDatasets() {
  const response = await api("/datasets");
  if (!response.ok) return;
  const datasets = await response.json();
  const select = $("dataset");
  select.replaceChildren(...datasets.map((d) => el("option", { value: d.name, text: `${d.name} (${d.origin})` })));
  if (state.dataset && datasets.some((d) => d.name === state.dataset)) select.value = state.dataset;
  state.dataset = select.value;
  await loadSchema();
}

async function loadSchema() {
  const box = $("schema");
  box.replaceChildren(el("div", { class: "note", text: "loading…" }));
  const response = await api(`/datasets/${encodeURIComponent(state.dataset)}/schema`);
  if (!response.ok) { box.replaceChildren(el("div", { class: "error", text: await problemText(response) })); return; }
  const info = await response.json();
  box.replaceChildren(...info.tables.map((t) => el("div", {},
    el("strong", { text: `${t.name}` }), el("span", { class: "note", text: ` ${t.rows ?? "?"} rows` }),
    table([{ name: "column" }, { name: "type" }], t.columns.map((c) => [c.name, c.type])))));
}

async function upload(event) {
  event.preventDefault();
  const file = $("upload-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  if ($("upload-name").value.trim()) form.append("name", $("upload-name").value.trim());
  $("upload-status").textContent = "uploading…";
  const response = await api("/datasets", { method: "POST", body: form });
  if (!response.ok) { $("upload-status").textContent = await problemText(response); return; }
  const info = await response.json();
  $("upload-status").textContent = `added ${info.name}`;
  state.dataset = info.name;
  store.setItem("csvanalyst.dataset", info.name);
  await loadDatasets();
}

// ---- threads ---------------------------------------------------------------------------------
async function loadThreads() {
  const response = await api("/threads?limit=30");
  if (!response.ok) return;
  const threads = await response.json();
  $("threads").replaceChildren(...threads.map((t) => {
    const item = el("li", { text: t.title, title: t.id, "data-id": t.id, tabindex: "0", role: "button" });
    if (t.id === state.thread) item.className = "current";
    item.addEventListener("click", () => { document.body.classList.remove("drawer-open"); openThread(t.id); });
    item.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openThread(t.id); } });
    return item;
  }));
}

async function openThread(id) {
  const response = await api(`/threads/${encodeURIComponent(id)}/messages`);
  if (!response.ok) { setThread(null); return; }
  const { thread, messages } = await response.json();
  setThread(thread.id);
  if (thread.scope && thread.scope.dataset && thread.scope.dataset !== state.dataset) {
    state.dataset = thread.scope.dataset;
    $("dataset").value = state.dataset;
    await loadSchema();
  }
  const conversation = $("conversation");
  conversation.replaceChildren();
  let turn = null;
  for (const m of messages) {
    if (m.role === "user") { turn = newTurn(m.content); continue; }
    if (!turn) continue;
    for (const runId of m.run_ids || []) await appendRecordedRun(turn, runId);
    turn.append(el("div", { class: "answer", text: m.content }));
  }
  showEmptyState();
  await loadThreads();
}

// A reopened turn shows each run as it was recorded: its SQL, its first rows and its default chart.
async function appendRecordedRun(turn, runId) {
  const response = await api(`/runs/${encodeURIComponent(runId)}`);
  if (!response.ok) return;
  const run = await response.json();
  if (!run.columns || !run.columns.length) return;
  turn.append(runBlock(run.id, run.compiled_sql || run.input, run.columns, run.preview, run.row_count ?? run.preview.length, run.truncated));
  if (run.chart) turn.append(chartBox(run.chart));
}

function showEmptyState() {
  const conversation = $("conversation");
  if (conversation.children.length) return;
  conversation.append(el("div", { class: "empty", text: "No questions yet. Ask about the data below, e.g. “orders per month”, or start with SQL: to run a query." }));
}

function setThread(id) {
  state.thread = id;
  if (id) store.setItem("csvanalyst.thread", id); else store.removeItem("csvanalyst.thread");
}

// ---- a run: its SQL (copyable), its table, downloads of the whole result ---------------------
function runBlock(runId, sql, columns, rows, rowCount, truncated) {
  const shown = rows.length < rowCount ? `, first ${rows.length} shown` : "";
  const note = `${rowCount} row(s)${truncated ? " (truncated)" : ""}${shown} · run ${runId}`;
  const copy = el("button", { type: "button", class: "small copy-sql", title: "Copy the SQL" });
  copy.textContent = "copy SQL";
  copy.addEventListener("click", () => copyText(sql, copy));
  const tools = el("div", { class: "run-tools" }, copy, download(runId, "csv"), download(runId, "parquet"));
  return el("div", { class: "run", "data-run": runId },
    tools, el("pre", { class: "sql", text: sql }), table(columns, rows), el("div", { class: "note", text: note }));
}

function download(runId, format) {
  const button = el("button", { type: "button", class: `small download-${format}`, title: `Download the whole result as ${format}` });
  button.textContent = format === "csv" ? "CSV" : "Parquet";
  button.addEventListener("click", async () => {
    const response = await api(`/runs/${encodeURIComponent(runId)}/result?format=${format}`);
    if (!response.ok) { button.after(el("div", { class: "error", text: await problemText(response) })); return; }
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `run-${runId}.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
  });
  return button;
}

async function copyText(text, button) {
  try { await navigator.clipboard.writeText(text); } catch {
    const area = el("textarea", {}); area.value = text; document.body.append(area); area.select();
    document.execCommand("copy"); area.remove();
  }
  button.textContent = "copied";
  setTimeout(() => { button.textContent = "copy SQL"; }, 1500);
}

function chartBox(spec) {
  const box = el("div", { class: "chart" });
  window.vegaEmbed(box, spec, { actions: false, renderer: "svg" })
    .catch((err) => box.append(el("div", { class: "error", text: `chart: ${err}` })));
  return box;
}

// ---- asking ----------------------------------------------------------------------------------
function newTurn(question) {
  const turn = el("section", { class: "turn" }, el("div", { class: "question", text: question }));
  $("conversation").append(turn);
  return turn;
}

function render(turn, event, ctx) {
  const scroll = () => { $("conversation").scrollTop = $("conversation").scrollHeight; };
  switch (event.type) {
    case "status": turn.append(el("div", { class: "status", text: event.message })); break;
    case "tool_call": turn.append(el("div", { class: "status", text: `→ ${event.name}` })); break;
    case "text_delta":
      if (!ctx.answer) { ctx.answer = el("div", { class: "answer" }); turn.append(ctx.answer); }
      ctx.answer.textContent += event.text; break;
    case "run_finished":
      turn.append(runBlock(event.run_id, event.sql, event.columns, event.rows, event.row_count, event.truncated));
      break;
    case "chart": turn.append(chartBox(event.spec)); break;
    case "answer":
      if (!ctx.answer) { ctx.answer = el("div", { class: "answer" }); turn.append(ctx.answer); }
      ctx.answer.textContent = event.text; break;
    case "error": turn.append(el("div", { class: "error", text: [event.message, event.hint].filter(Boolean).join(" ") })); break;
    case "done": turn.dataset.status = event.status; break;
  }
  if (event.thread_id && event.thread_id !== state.thread) setThread(event.thread_id);
  scroll();
}

async function* sseEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (data) yield JSON.parse(data);
    }
  }
}

function setBusy(busy) {
  state.busy = busy;
  $("ask").disabled = busy;
  $("stop").hidden = !busy;
  $("busy").hidden = !busy;
  $("conversation").setAttribute("aria-busy", busy ? "true" : "false");
}

async function ask(event) {
  event.preventDefault();
  if (state.busy) return; // one turn at a time: Enter while one runs does nothing (Stop ends it)
  const question = $("question").value.trim();
  if (!question) return;
  $("question").value = "";
  for (const empty of document.querySelectorAll("#conversation .empty")) empty.remove();
  const turn = newTurn(question);
  const ctx = {};
  state.abort = new AbortController();
  setBusy(true);
  try {
    const body = JSON.stringify({ message: question, dataset_id: state.dataset, thread_id: state.thread });
    const response = await api("/chat/stream", {
      method: "POST", headers: { "Content-Type": "application/json" }, body, signal: state.abort.signal,
    });
    if (!response.ok) { turn.append(el("div", { class: "error", text: await problemText(response) })); return; }
    for await (const ev of sseEvents(response)) render(turn, ev, ctx);
  } catch (err) {
    const stopped = err && err.name === "AbortError";
    turn.dataset.status = stopped ? "cancelled" : "failed";
    turn.append(el("div", { class: stopped ? "status" : "error", text: stopped ? "Stopped." : `connection lost: ${err}` }));
  } finally {
    setBusy(false);
    loadThreads();
  }
}

function init() {
  $("dataset").addEventListener("change", async () => {
    state.dataset = $("dataset").value;
    store.setItem("csvanalyst.dataset", state.dataset);
    setThread(null);
    $("conversation").replaceChildren();
    showEmptyState();
    await loadSchema();
    await loadThreads();
  });
  $("ask-form").addEventListener("submit", ask);
  $("question").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) ask(e); });
  $("upload-form").addEventListener("submit", upload);
  $("new-thread").addEventListener("click", () => { setThread(null); $("conversation").replaceChildren(); showEmptyState(); loadThreads(); });
  $("stop").addEventListener("click", () => state.abort && state.abort.abort());
  $("menu").addEventListener("click", () => document.body.classList.toggle("drawer-open"));
  $("conversation").addEventListener("click", () => document.body.classList.remove("drawer-open"));
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") document.body.classList.remove("drawer-open"); });
  showEmptyState();
  loadDatasets().then(() => (state.thread ? openThread(state.thread) : loadThreads()));
}

init();
