"""`csvanalyst chat` in a real terminal: tmux runs it, keys are sent, the answer is read off the screen."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.support.requires import require_tool

CLI = Path(sys.executable).with_name("csvanalyst")


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def _screen_until(session: str, needle: str, attempts: int = 300) -> str:
    """Poll the pane until `needle` shows (the app starts and answers at its own pace)."""
    screen = ""
    for _ in range(attempts):
        screen = _tmux("capture-pane", "-p", "-t", session)
        if needle in screen:
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} never appeared; the screen was:\n{screen}")


def test_chat_answers_a_typed_question_in_tmux(isolated_home: Path) -> None:
    require_tool("tmux", "the real-terminal smoke test")
    session = f"csvanalyst-{uuid.uuid4().hex[:8]}"
    env = f"CSVANALYST_HOME={isolated_home} CSVANALYST_ALLOW_MODEL_REQUESTS=0 TERM=xterm-256color"
    command = f"env {env} {CLI} chat -d retail --provider offline"
    _tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "48", command)
    try:
        _screen_until(session, "ask in plain language")
        _tmux("send-keys", "-t", session, "-l", "how many orders")
        _tmux("send-keys", "-t", session, "Enter")
        _screen_until(session, "There are 3,000 orders")
        screen = _screen_until(session, "SELECT")  # a capture can land between two partial redraws
        assert "There are 3,000 orders" in screen
        _tmux("send-keys", "-t", session, "C-q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
