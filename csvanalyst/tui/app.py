"""The terminal analyst: sidebar (datasets, threads), conversation, prompt and status bar.

Workers run the Session and the sandbox and post typed messages (messages.py); the handlers here own
every piece of state, so nothing is drawn from a worker thread.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, OptionList, Static, Tree

from csvanalyst.core.query import DataScope
from csvanalyst.events import Done, UsageEvent
from csvanalyst.tui import collector, commands, jobs
from csvanalyst.tui import messages as msg
from csvanalyst.tui.palette import SlashCommands
from csvanalyst.tui.widgets.dataset_tree import DatasetTree, column_samples
from csvanalyst.tui.widgets.prompt import PromptInput
from csvanalyst.tui.widgets.run_block import RunBlock
from csvanalyst.tui.widgets.status_bar import StatusBar
from csvanalyst.tui.widgets.thread_list import ThreadList
from csvanalyst.tui.widgets.turn_view import ErrorView, TurnView


class AnalystApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "csvanalyst"
    COMMANDS: ClassVar[set[Any]] = {*App.COMMANDS, SlashCommands}
    # None of these is an editing key of the prompt (TextArea uses Ctrl+A/D/E/K/U/W/X/Y/Z…); a test checks.
    BINDINGS: ClassVar[list[Any]] = [
        Binding("escape", "cancel_turn", "Cancel", tooltip="cancel the running question"),
        Binding("ctrl+n", "new_thread", "New thread", tooltip="start a new thread"),
        Binding("ctrl+r", "focus_threads", "Threads", tooltip="focus the thread list"),
        Binding("ctrl+o", "focus_datasets", "Datasets", tooltip="focus the datasets"),
        Binding("ctrl+l", "focus_prompt", "Prompt", tooltip="focus the prompt"),
        Binding("ctrl+b", "toggle_sidebar", "Sidebar", tooltip="hide / show the sidebar"),
        Binding("f1", "help", "Help", tooltip="this help"),
        Binding("ctrl+q", "quit", "Quit", priority=True, tooltip="quit"),
    ]

    def __init__(self, session: Any, scope: DataScope, thread_id: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.scope = scope
        self.thread_id = thread_id
        self.dataset_info: Any = None
        self.turns: dict[int, TurnView] = {}
        self.active_turn: int | None = None
        self._cancel = threading.Event()
        self._turn_counter = 0
        self.selected_run: RunBlock | None = None  # the result last focused: /export and /chart use it

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield DatasetTree(id="datasets")
                yield Static("", id="samples")
                yield ThreadList(id="threads")
            with Vertical(id="center"):
                yield VerticalScroll(id="conversation")
                yield PromptInput(id="prompt")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Only what the first frame shows; the store, the catalog and the model client are read by
        workers once it is on screen (`_after_first_paint`)."""
        self.query_one("#datasets").border_title = "datasets"
        self.query_one("#threads").border_title = "threads"
        status = self.query_one(StatusBar)
        status.sandbox = self.session.settings.sandbox
        status.dataset = self.scope.dataset or ", ".join(p.name for p in self.scope.files)
        status.thread = self.thread_id or ""
        status.provider = self.session.provider
        self.query_one(PromptInput).focus()
        self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        self.start_job(jobs.startup, self.session, self.scope)
        self.start_job(jobs.describe_model, self.session)
        if self.thread_id:
            commands.show_thread(self, self.thread_id)

    # -- workers -------------------------------------------------------------------------------

    # A fixed description: by default Textual's @work describes a worker with the repr of its arguments,
    # which for a 100k-row result (export, sort) held the screen for ~150 ms.
    @work(thread=True, group="actions", description="csvanalyst background action")
    def start_job(self, job: Any, *args: Any, **kwargs: Any) -> None:
        """Any background action: its messages come back through the handlers below."""
        jobs.guarded(self.post_message, partial(job, self.post_message, *args, **kwargs))

    @work(thread=True, exclusive=True, group="turn", description="csvanalyst turn")
    def _run_turn(self, text: str, turn: int, thread_id: str | None, cancel: threading.Event) -> None:
        jobs.guarded(
            self.post_message,
            partial(jobs.ask, self.post_message, self.session, text, self.scope, thread_id, turn, cancel),
        )

    # -- input ---------------------------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def _submitted(self, event: PromptInput.Submitted) -> None:
        if event.text.startswith("/"):
            await commands.dispatch(self, event.text)
        else:
            await self.ask(event.text)

    async def ask(self, text: str) -> None:
        """Start a turn; one at a time (Esc cancels the running one)."""
        if self.active_turn is not None:
            self.notify("A question is still running; Esc cancels it.", severity="warning")
            return
        self._turn_counter += 1
        turn = self._turn_counter
        view = TurnView(text)
        self.turns[turn] = view
        await self.conversation.mount(view)
        self.follow()
        self.active_turn = turn
        collector.hold()  # released when the turn ends
        self._cancel = threading.Event()
        self.query_one(StatusBar).busy = "running… (Esc cancels)"
        self._run_turn(text, turn, self.thread_id, self._cancel)

    def follow(self) -> None:
        """Keep the newest output in view as it grows (until the user scrolls away)."""
        self.conversation.anchor()

    @property
    def conversation(self) -> VerticalScroll:
        return self.query_one("#conversation", VerticalScroll)

    async def clear_conversation(self) -> None:
        """Remove every turn shown; their widgets go back to the garbage collector's full collections."""
        await self.conversation.remove_children()
        collector.thaw()

    def on_unmount(self) -> None:
        """Leave the interpreter's collector as it was (the app may run inside another program)."""
        collector.reset()

    # -- handlers: they own the state ------------------------------------------------------------

    def on_turn_event(self, message: msg.TurnEvent) -> None:
        view = self.turns.get(message.turn)
        if view is None or view.status == "cancelled":
            return  # a cancelled turn's late events are not shown
        event = message.event
        if event.thread_id and event.thread_id != self.thread_id:
            self.thread_id = event.thread_id
            self.query_one(StatusBar).thread = event.thread_id
        if isinstance(event, UsageEvent):
            self.query_one(StatusBar).add_usage(event.input_tokens + event.output_tokens, event.cost_usd)
        view.apply(event)
        if isinstance(event, Done):
            self._end_turn(message.turn)
        self.follow()

    def on_thread_started(self, message: msg.ThreadStarted) -> None:
        """The turn's thread exists before its first event: a turn cancelled early stays in it too."""
        if self.thread_id is None and message.turn == self._turn_counter:
            self.thread_id = message.thread_id
            self.query_one(StatusBar).thread = message.thread_id

    def on_turn_ended(self, message: msg.TurnEnded) -> None:
        view = self.turns.get(message.turn)
        if view is not None and view.status is None:
            view.finish("failed")  # it ended without its Done event (the error is shown below it)
        self._end_turn(message.turn)

    def _end_turn(self, turn: int) -> None:
        if self.active_turn == turn:
            self.active_turn = None
            collector.release()
            self.query_one(StatusBar).busy = ""
            commands.refresh_threads(self)

    def action_cancel_turn(self) -> None:
        """Stop consuming the turn now; the thread records it as cancelled."""
        if self.active_turn is None:
            return
        self._cancel.set()
        self.turns[self.active_turn].finish("cancelled")
        self._end_turn(self.active_turn)
        self.notify("Cancelled: the sandbox run is stopped.")

    def on_full_result(self, message: msg.FullResult) -> None:
        for block in self.query(RunBlock):
            if block.run.run_id == message.run_id:
                block.show_rows(message.columns, message.rows)

    def on_exported(self, message: msg.Exported) -> None:
        self.notify(f"Exported {message.rows:,} row(s) to {message.path}")

    async def on_action_failed(self, message: msg.ActionFailed) -> None:
        await self.conversation.mount(ErrorView(message.code, message.message, message.hint))
        self.follow()

    def on_sidebar_loaded(self, message: msg.SidebarLoaded) -> None:
        tree = self.query_one(DatasetTree)
        tree.set_datasets(message.datasets, self.scope.dataset)
        if self.dataset_info is not None and self.dataset_info.name in message.datasets:
            tree.show_dataset(self.dataset_info)
        self.query_one(ThreadList).set_threads(message.threads, self.thread_id)

    def on_model_described(self, message: msg.ModelDescribed) -> None:
        status = self.query_one(StatusBar)
        status.provider, status.model = message.provider, message.model

    def on_dataset_progress(self, message: msg.DatasetProgress) -> None:
        self.query_one(StatusBar).busy = f"{message.stage} {message.fraction:.0%}"

    async def on_dataset_ready(self, message: msg.DatasetReady) -> None:
        stale = self.scope.dataset is not None and message.info.name != self.scope.dataset
        if stale and not message.switch:  # loaded for data the app has left since (a reopened thread)
            return
        self.dataset_info = message.info
        if message.switch:  # a new or another dataset: the list of names may have changed
            await commands.switch_dataset(self, message.info.name)
            commands.refresh_datasets(self)
        self.query_one(DatasetTree).show_dataset(message.info)
        self.query_one(StatusBar).busy = ""

    async def on_replayed(self, message: msg.Replayed) -> None:
        view = TurnView(f"replay of run {message.original_id}")
        await self.conversation.mount(view)
        view.add_run(message.event)
        view.finish("answered")
        self.follow()

    @on(RunBlock.LoadAll)
    def _load_all(self, event: RunBlock.LoadAll) -> None:
        self.query_one(StatusBar).busy = "loading every row…"
        self.start_job(jobs.full_result, event.block.run.run_id, event.block.run.sql, self.scope, self.session)

    @on(RunBlock.ExportRequested)
    def _prefill_export(self) -> None:
        self.action_prefill("/export result.csv")

    @on(Tree.NodeHighlighted, "#datasets")
    def _column_samples(self, event: Tree.NodeHighlighted[Any]) -> None:
        column = (event.node.data or {}).get("column")
        self.query_one("#samples", Static).update(column_samples(column) if column else "")

    @on(Tree.NodeSelected, "#datasets")
    async def _choose_dataset(self, event: Tree.NodeSelected[Any]) -> None:
        name = (event.node.data or {}).get("dataset")
        if name and name != self.scope.dataset:
            await commands.dispatch(self, f"/dataset {name}")

    @on(OptionList.OptionSelected, "#threads")
    def _choose_thread(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            commands.show_thread(self, event.option.id)

    # -- actions -------------------------------------------------------------------------------

    def action_prefill(self, text: str) -> None:
        prompt = self.query_one(PromptInput)
        prompt.load_text(text)
        prompt.move_cursor(prompt.document.end)
        prompt.focus()

    async def action_new_thread(self) -> None:
        await commands.dispatch(self, "/new")

    def action_focus_threads(self) -> None:
        self._show_sidebar(True)
        self.query_one(ThreadList).focus()

    def action_focus_datasets(self) -> None:
        self._show_sidebar(True)
        self.query_one(DatasetTree).focus()

    def action_toggle_sidebar(self) -> None:
        """Hide the sidebar to give the conversation the whole width (and show it again)."""
        sidebar = self.query_one("#sidebar")
        self._show_sidebar(not sidebar.display)
        if not sidebar.display:
            self.query_one(PromptInput).focus()

    def _show_sidebar(self, shown: bool) -> None:
        self.query_one("#sidebar").display = shown

    def action_focus_prompt(self) -> None:
        self.query_one(PromptInput).focus()

    def action_help(self) -> None:
        from csvanalyst.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def selected_block(self) -> RunBlock | None:
        """The result last focused (still on screen), else the latest one."""
        if self.selected_run is not None and self.selected_run.is_attached:
            return self.selected_run
        blocks = list(self.query(RunBlock))
        return blocks[-1] if blocks else None
