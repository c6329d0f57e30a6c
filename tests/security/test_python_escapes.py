"""The known escapes from restricted Python, in every sandbox that runs Python, judged by host effects.

The sandboxes: bwrap, a runner container, a runner pod (the kubernetes sandbox against the stand-in API
server and kubelet of tests.support.kube_sandbox, whose pods are real containers) and a microVM (skipped,
with the runtime's reason, where none can boot). The dataset path the snippet attacks is the one it sees.

Each snippet uses one escape class (builtins reached through module re-exports, a `match` class
pattern reading dunders, pandas' string dispatch to eval, the audit policy patched from inside, frames
through sys._getframe, gc.get_objects) and,
with whatever it obtained, tries to write a file on the host, overwrite the dataset, connect to a
listener on the host's loopback and leave a process behind. Whatever the run answers, none of that
may have happened; the run must also not end `ok` (the restricted layer is defence in depth).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import RunRequest
from tests.support.sandboxes import ESCAPE_SANDBOXES, python_sandbox, table_paths

ORIGINAL = b"a,b\n1,x\n2,y\n"

# `act(b)` does the damage with a builtins module or dict `b`; `{marker}` etc. are filled per test.
ACT = """
def act(b):
    get = b.get if isinstance(b, dict) else (lambda k: b.getattr(b, k))
    ga = get("getattr")
    opener = get("open")
    opener({marker!r}, "w").write("escaped")
    opener({data!r}, "w").write("pwned")
    imp = get("_" * 2 + "import" + "_" * 2)
    ga(imp("soc" + "ket"), "create_connection")(("127.0.0.1", {port}), timeout=2).sendall(b"escaped")
    ga(imp("o" + "s"), "sys" + "tem")("sleep 600 & echo {tag} >/dev/null")
"""

ESCAPES = {
    "module_reexport": "import re\nact(re.enum.bltns)\nresult = 1",
    "match_class_dunder": (
        "def f():\n    pass\n"
        "match f:\n    case F(__globals__=g):\n        act(g['_' * 2 + 'builtins' + '_' * 2])\n"
        "result = 1"
    ),
    "string_dispatch_eval": "t.agg('eval', expr='a + 1')\nresult = 1",
    "string_dispatch_query": "result = t.agg('query', expr='a > 0')",
    # sys reached through a pandas module by a match class pattern, then frames and gc for the builtins
    "frames_via_getframe": (
        "match pd.compat._constants:\n    case M(sys=s):\n"
        "        f = s._getframe(0)\n"
        "        while f.f_back is not None:\n            f = f.f_back\n"
        "        act(f.f_globals['_' * 2 + 'builtins' + '_' * 2])\n"
        "result = 1"
    ),
    "gc_objects": (
        "match pd.compat._constants:\n    case M(sys=s):\n"
        "        g = s.modules['gc']\n"
        "        act([o for o in g.get_objects() if isinstance(o, dict) and 'open' in o and 'print' in o][0])\n"
        "result = 1"
    ),
    "audit_policy_patched": ("import re\nb = re.enum.bltns\nb.setattr(b.type(b.print), 'x', 1)\nact(b)\nresult = 1"),
}


@pytest.fixture(params=ESCAPE_SANDBOXES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[object]:
    with python_sandbox(request.param) as executor:
        yield executor


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def connections(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def host_processes_with(tag: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if tag.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("escape", sorted(ESCAPES))
def test_an_escape_has_no_effect_on_the_host(
    sandbox: object, escape: str, tmp_path: Path, listener: socket.socket
) -> None:
    data = tmp_path / "t.csv"
    data.write_bytes(ORIGINAL)
    marker, tag = tmp_path / "escaped-marker", f"csvanalyst-escape-{uuid.uuid4().hex}"
    tables = {"t": TableSource(path=str(data), format="csv")}
    seen = table_paths(sandbox, RunRequest(code="", tables=tables))["t"]
    act = ACT.format(marker=str(marker), data=seen, port=listener.getsockname()[1], tag=tag)
    code = act + ESCAPES[escape]
    result = sandbox.run(RunRequest(kind="python", code=code, tables=tables))  # type: ignore[attr-defined]
    assert result.status != "ok", f"{escape} ran to the end: {result}"
    assert not marker.exists()
    assert data.read_bytes() == ORIGINAL
    assert connections(listener) == 0
    assert host_processes_with(tag) == []
