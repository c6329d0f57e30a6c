// The csvanalyst web page: plain ES module, no build step. Every cell value is inserted as text.
const $ = (id) => document.getElementById(id);
const store = window.localStorage;
const state = { thread: store.getItem("csvanalyst.thread"), dataset: store.getItem("csvanalyst.dataset") };

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
    const item = el("li", { text: t.title, title: t.id, "data-id": t.id });
    if (t.id === state.thread) item.className = "current";
    item.addEventListener("click", () => openThread(t.id));
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
    if (turn) turn.append(el("div", { class: "answer", text: m.content }));
  }
  await loadThreads();
}

function setThread(id) {
  state.thread = id;
  if (id) store.setItem("csvanalyst.thread", id); else store.removeItem("csvanalyst.thread");
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
    case "run_finished": {
      const note = `${event.row_count} row(s)${event.truncated ? " (truncated)" : ""} · run ${event.run_id}`;
      turn.append(el("div", { class: "run", "data-run": event.run_id },
        el("pre", { class: "sql", text: event.sql }), table(event.columns, event.rows), el("div", { class: "note", text: note })));
      break;
    }
    case "chart": {
      const box = el("div", { class: "chart" });
      turn.append(box);
      window.vegaEmbed(box, event.spec, { actions: false, renderer: "svg" })
        .catch((err) => box.append(el("div", { class: "error", text: `chart: ${err}` })));
      break;
    }
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

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  $("ask").disabled = true;
  $("question").value = "";
  const turn = newTurn(question);
  const ctx = {};
  try {
    const body = JSON.stringify({ message: question, dataset_id: state.dataset, thread_id: state.thread });
    const response = await api("/chat/stream", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    if (!response.ok) { turn.append(el("div", { class: "error", text: await problemText(response) })); return; }
    for await (const ev of sseEvents(response)) render(turn, ev, ctx);
  } catch (err) {
    turn.append(el("div", { class: "error", text: `connection lost: ${err}` }));
  } finally {
    $("ask").disabled = false;
    loadThreads();
  }
}

function init() {
  $("dataset").addEventListener("change", async () => {
    state.dataset = $("dataset").value;
    store.setItem("csvanalyst.dataset", state.dataset);
    setThread(null);
    $("conversation").replaceChildren();
    await loadSchema();
    await loadThreads();
  });
  $("ask-form").addEventListener("submit", ask);
  $("question").addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) ask(e); });
  $("upload-form").addEventListener("submit", upload);
  $("new-thread").addEventListener("click", () => { setThread(null); $("conversation").replaceChildren(); loadThreads(); });
  loadDatasets().then(() => (state.thread ? openThread(state.thread) : loadThreads()));
}

init();
