"""The audit policy's former gaps, in a fresh interpreter with the policy installed as in a run.

Outside the run's temp dir, a FIFO, a device node or an extended attribute could be created, and the
whole host listed or probed with stat; each is now refused (or the function is gone, where Python raises
no audit event; stat & co. are given one), and the host file system shows no effect.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from csvanalyst.executors.contract import runner_package_dir

PROBE = r"""
import json, os, sys
from runner import python_audit
scratch, outside = sys.argv[1], sys.argv[2]
_, report_fd = os.pipe()
python_audit.install([scratch], [], report_fd)
report = {}
def attempt(name, fn):
    try:
        fn()
        report[name] = "done"
    except (PermissionError, AttributeError, OSError, ZeroDivisionError) as exc:
        report[name] = "refused" if isinstance(exc, (PermissionError, AttributeError)) else type(exc).__name__
attempt("mkfifo", lambda: os.mkfifo(os.path.join(outside, "fifo")))
attempt("mknod", lambda: os.mknod(os.path.join(outside, "node")))
attempt("setxattr", lambda: os.setxattr(os.path.join(outside, "file"), "user.x", b"1"))
attempt("listdir", lambda: os.listdir("/"))
attempt("scandir", lambda: list(os.scandir("/etc")))
attempt("glob", lambda: __import__("glob").glob("/etc/*"))
attempt("stat", lambda: os.stat(outside))
attempt("lstat", lambda: os.lstat(os.path.join(outside, "file")))
# os.path answers False when stat is refused, pathlib raises: an existing host file never answers True
attempt("exists", lambda: os.path.exists(os.path.join(outside, "file")) and 1 / 0)
attempt("isfile", lambda: os.path.isfile(os.path.join(outside, "file")) and 1 / 0)
attempt("pathlib_exists", lambda: __import__("pathlib").Path(outside, "file").exists() and 1 / 0)
attempt("access", lambda: os.access(outside, os.R_OK))
attempt("dir_fd", lambda: os.stat("file", dir_fd=os.open(scratch, os.O_RDONLY)))
attempt("scratch_stat", lambda: os.stat(scratch))
attempt("scratch_listdir", lambda: os.listdir(scratch))
attempt("scratch_fifo_gone", lambda: os.mkfifo(os.path.join(scratch, "fifo")))
print(json.dumps(report))
"""


def test_fifo_node_xattr_and_host_listing_are_refused(tmp_path: Path) -> None:
    scratch, outside = tmp_path / "scratch", tmp_path / "outside"
    scratch.mkdir()
    outside.mkdir()
    (outside / "file").write_text("x")
    env = {**os.environ, "PYTHONPATH": str(runner_package_dir().parent)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(scratch), str(outside)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for refused in ("mkfifo", "mknod", "setxattr", "listdir", "scandir", "glob"):
        assert report[refused] == "refused", (refused, report)
    for probe in ("stat", "lstat", "access", "dir_fd"):
        assert report[probe] == "refused", (probe, report)
    for probe in ("exists", "isfile", "pathlib_exists"):
        assert report[probe] in ("done", "refused"), (probe, report)  # False or refused, for a file that exists
    assert report["scratch_listdir"] == report["scratch_stat"] == "done"
    assert sorted(p.name for p in outside.iterdir()) == ["file"]
    assert not any(name.startswith("user.") for name in os.listxattr(outside / "file"))
