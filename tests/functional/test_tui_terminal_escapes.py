"""`csvanalyst chat` in a real tmux, over a CSV whose cells and column name carry terminal control codes.

The same bytes are first written raw to a pane of another tmux server with the same configuration,
which proves the detectors work here: that pane's title changes, OSC 52 fills a tmux paste buffer
(`set-clipboard on`), BEL flags its window and CSI 2J wipes what it showed. Then the TUI shows the
table, its SQL and its column names, and none of that may happen: the title is unchanged, no buffer,
no bell, the chrome drawn at start still on screen, and each code visible as an escape.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.requires import require_tool

CLI = Path(sys.executable).with_name("csvanalyst")
HOSTILE = {
    "osc": "\x1b]0;owned\x07",
    "osc52": "\x1b]52;c;cHduZWQ=\x07",
    "csi": "\x1b[2J",
    "bel": "ding\x07",
    "bs": "abc\x08\x08\x08xyz",
    "bidi": "evil\u202etxt.exe",
    "c1": "x\x9by",
}
HEADER = "kind,value,col\x1b]0;hdr\x07name\n"
SHOWN = [
    "\\x1b]0;owned\\x07",
    "\\x1b]52;c;cHduZWQ=\\x07",
    "\\x1b[2J",
    "ding\\x07",
    "abc\\x08",
    "evil\\u202e",
    "a\\x00b",
]
QUERY = "SQL: SELECT *, 'a' || chr(0) || 'b' AS nul FROM hostile"


class Tmux:
    """One private tmux server (its own socket and config), so no other pane or test can interfere."""

    def __init__(self, config: Path) -> None:
        self.socket = f"csvanalyst-esc-{uuid.uuid4().hex[:8]}"
        self.config = config

    def __call__(self, *args: str) -> str:
        command = ["tmux", "-L", self.socket, "-f", str(self.config), *args]
        # the server's environment is this client's: a COLUMNS/LINES set around the tests would pin the
        # app to that size whatever the pane's
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout

    def start(self, command: str) -> str:
        """`command` in the session's first window (sized at creation), then an idle window made current:
        BEL flags a window only while it is not the current one."""
        self("new-session", "-d", "-s", "s", "-x", "200", "-y", "50", command)
        self("new-window", "-t", "s:1", "exec sleep 600")
        return "s:0"

    def state(self, pane: str) -> dict[str, str]:
        title, bell = (
            self("display-message", "-p", "-t", pane, "#{pane_title}\t#{window_bell_flag}").rstrip("\n").split("\t")
        )
        return {
            "title": title,
            "bell": bell,
            "buffers": self("list-buffers"),
            "screen": self("capture-pane", "-p", "-t", pane),
        }

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def until(probe: Callable[[], dict[str, str]], done: Callable[[dict[str, str]], bool]) -> dict[str, str]:
    """Poll until `done` (the app starts and answers at its own pace)."""
    state: dict[str, str] = {}
    for _ in range(600):
        state = probe()
        if done(state):
            return state
        time.sleep(0.1)
    raise AssertionError(f"the pane never reached the expected state:\n{state.get('screen', state)}")


@pytest.fixture
def tmux_servers(tmp_path: Path) -> Iterator[Callable[[], Tmux]]:
    require_tool("tmux", "the TUI's control-code test in a real terminal")
    config = tmp_path / "tmux.conf"
    config.write_text("set -g set-clipboard on\nset -g allow-rename on\n")
    started: list[Tmux] = []

    def new() -> Tmux:
        started.append(Tmux(config))
        return started[-1]

    yield new
    for server in started:
        server.kill()


@pytest.fixture
def hostile_home(tmp_path: Path) -> Path:
    data = tmp_path / "hostile.csv"
    data.write_text(HEADER + "".join(f'{kind},"{value}",1\n' for kind, value in HOSTILE.items()), encoding="utf-8")
    home = tmp_path / "home"
    env = {**os.environ, "CSVANALYST_HOME": str(home)}
    added = subprocess.run(
        [str(CLI), "datasets", "add", str(data), "--name", "hostile"], env=env, capture_output=True, timeout=180
    )
    assert added.returncode == 0, added.stderr
    return home


def test_the_raw_bytes_do_change_this_tmux(tmux_servers: Callable[[], Tmux], tmp_path: Path) -> None:
    """The detectors' control: without escaping, each effect the TUI test rules out is visible here."""
    raw = tmp_path / "raw.txt"
    raw.write_text("drawn before\n" + HEADER + "".join(HOSTILE.values()) + "\n", encoding="utf-8")
    tmux = tmux_servers()
    pane = tmux.start(f"cat {raw}; exec sleep 600")
    state = until(lambda: tmux.state(pane), lambda s: s["bell"] == "1" and "pwned" in s["buffers"])
    assert state["title"] in ("owned", "hdr"), state
    assert "drawn before" not in state["screen"]


def test_control_codes_in_data_do_not_reach_the_terminal(tmux_servers: Callable[[], Tmux], hostile_home: Path) -> None:
    tmux = tmux_servers()
    env = f"CSVANALYST_HOME={hostile_home} CSVANALYST_ALLOW_MODEL_REQUESTS=0 TERM=xterm-256color"
    pane = tmux.start(f"env {env} {CLI} chat -d hostile --provider offline")
    before = until(lambda: tmux.state(pane), lambda s: "ask in plain language" in s["screen"] and "Quit" in s["screen"])
    tmux("send-keys", "-t", pane, "-l", QUERY)
    tmux("send-keys", "-t", pane, "Enter")
    after = until(
        lambda: tmux.state(pane), lambda s: "Ran your SQL: 7 row(s)" in s["screen"] and "bidi " in s["screen"]
    )
    assert after["title"] == before["title"] and "owned" not in after["title"] and "hdr" not in after["title"], after
    assert after["buffers"] == "", f"OSC 52 set the clipboard: {after['buffers']!r}"
    assert after["bell"] == "0", "BEL from the data rang the terminal"
    assert "Quit" in after["screen"] and "datasets" in after["screen"], "the screen was cleared:\n" + after["screen"]
    for shown in [*SHOWN, "col\\x1b]0;hdr\\x07name"]:
        assert shown in after["screen"], (shown, after["screen"])
    tmux("send-keys", "-t", pane, "C-q")
