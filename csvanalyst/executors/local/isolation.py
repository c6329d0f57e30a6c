"""How the local sandbox wraps the runner: bubblewrap, unshare, or a plain process.

Each mode turns an argv into a wrapped argv. What the machine supports is probed once per process
(by actually starting a wrapped interpreter) and cached, because namespaces can be disabled by the
kernel, a container runtime or a seccomp profile even when the tools are installed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from csvanalyst.executors.contract import runner_package_dir

MODES = ("bwrap", "unshare", "none")
SANDBOX_TMP = "/tmp"
RUNNER_MOUNT = "/opt/csvanalyst"
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Promise:
    """What a mode guarantees about code running in it. Python mode needs both walls; SQL is confined to the
    dataset's files by DuckDB's lockdown in every mode, so SQL is safe to run in each."""

    files_isolated: bool
    network_isolated: bool

    @property
    def runs_python(self) -> bool:
        return self.files_isolated and self.network_isolated

    def summary(self) -> str:
        files = "host files hidden" if self.files_isolated else "host files VISIBLE (SQL confined by DuckDB's lockdown)"
        network = "no network" if self.network_isolated else "network open"
        return f"{files}; {network}; Python mode {'allowed' if self.runs_python else 'refused'}"


PROMISES = {
    "bwrap": Promise(files_isolated=True, network_isolated=True),
    "unshare": Promise(files_isolated=False, network_isolated=True),
    "none": Promise(files_isolated=False, network_isolated=False),
}


@dataclass(frozen=True)
class Layout:
    """Paths a wrapped run needs: where the runner package lives and what data it may read."""

    runner_parent: str  # directory that contains the `runner` package, for PYTHONPATH
    scratch: str  # private per-run directory on the host
    data_files: Sequence[str] = ()


def sandbox_scratch(mode: str, layout: Layout) -> str:
    """The private temp dir as the runner sees it."""
    return SANDBOX_TMP if mode == "bwrap" else layout.scratch


def sandbox_runner_parent(mode: str, layout: Layout) -> str:
    return RUNNER_MOUNT if mode == "bwrap" else layout.runner_parent


def wrap(mode: str, argv: Sequence[str], layout: Layout, env: dict[str, str], *, as_pid_1: bool = False) -> list[str]:
    """The full command line for `argv` under `mode`; env is passed through the wrapper explicitly.

    `as_pid_1` makes argv itself the init of its PID namespace (unshare --fork always does), so a
    long-lived worker can kill everything a run left behind in it (runner/worker.py)."""
    if mode == "bwrap":
        return _bwrap(argv, layout, env, as_pid_1=as_pid_1)
    if mode == "unshare":
        return [*_unshare_prefix(), "--", *_read_only_data(layout.data_files), *argv]
    if mode == "none":
        reaper = str(Path(__file__).resolve().parent / "reaper.py")
        return [sys.executable, "-s", "-B", reaper, *argv]
    raise ValueError(f"unknown isolation mode {mode!r}")


def _bwrap(argv: Sequence[str], layout: Layout, env: dict[str, str], *, as_pid_1: bool = False) -> list[str]:
    cmd = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    if as_pid_1:
        cmd.append("--as-pid-1")
    if os.geteuid() == 0:
        cmd += ["--uid", "65534", "--gid", "65534"]
    cmd += ["--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    # /tmp first: the interpreter, the runner or the data may live below /tmp and are bound on top of it.
    cmd += ["--bind", layout.scratch, SANDBOX_TMP]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        cmd += _system_dir(top)
    for extra in ("/etc/ld.so.cache", "/etc/localtime", "/etc/ssl/certs"):
        if os.path.exists(extra):
            cmd += ["--ro-bind", extra, extra]
    for prefix in _interpreter_dirs():
        cmd += ["--ro-bind", prefix, prefix]
    cmd += ["--ro-bind", str(runner_package_dir()), f"{RUNNER_MOUNT}/runner"]
    for path in layout.data_files:
        # A missing file is left for DuckDB to report, so every mode gives the same error.
        if os.path.exists(path):
            cmd += ["--ro-bind", os.path.realpath(path), os.path.abspath(path)]
    # Only the private /tmp stays writable: nothing a run writes elsewhere can outlive it in a warm worker.
    cmd += ["--remount-ro", "/", "--remount-ro", "/dev", "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return [*cmd, "--chdir", SANDBOX_TMP, "--", *argv]


# Run inside the new mount namespace (as its root) before argv: each dataset file is bound onto itself
# read-only, so nothing in the run (DuckDB's COPY, or any code) can write the user's file. A mount that
# fails stops the run: it never goes on with a writable input.
READ_ONLY_DATA = """
n=$1; shift
while [ "$n" -gt 0 ]; do
  mount --bind -o ro -- "$1" "$1" || { echo "cannot mount the dataset file $1 read-only" >&2; exit 70; }
  shift; n=$((n - 1))
done
exec "$@"
"""


def _read_only_data(data_files: Sequence[str]) -> list[str]:
    files = sorted({os.path.realpath(p) for p in data_files if os.path.isfile(p)})
    if not files:
        return []
    return ["/bin/sh", "-c", READ_ONLY_DATA, "sh", str(len(files)), *files]


def _system_dir(top: str) -> list[str]:
    """Merged-/usr systems have /lib -> usr/lib symlinks: recreate the link, don't bind twice."""
    if os.path.islink(top):
        return ["--symlink", os.readlink(top), top]
    if os.path.isdir(top):
        return ["--ro-bind", top, top]
    return []


def _interpreter_dirs() -> list[str]:
    """The venv and the base installation (and the real location of the executable), outside /usr."""
    dirs = {sys.prefix, sys.base_prefix, str(Path(os.path.realpath(sys.executable)).parent.parent)}
    return sorted(d for d in dirs if not d.startswith("/usr/") and os.path.isdir(d))


@functools.lru_cache(maxsize=1)
def _unshare_prefix() -> tuple[str, ...]:
    base = ("unshare", "--net", "--pid", "--mount", "--ipc", "--uts", "--fork", "--kill-child", "--mount-proc")
    if os.geteuid() != 0:
        return (base[0], "--user", "--map-root-user", *base[1:])
    return base


def tool_missing(mode: str) -> str | None:
    """Why a mode cannot work here without starting anything, or None."""
    if mode in ("bwrap", "unshare") and shutil.which(mode) is None:
        return f"{mode} is not installed"
    if mode in ("bwrap", "unshare") and not sys.platform.startswith("linux"):
        return "namespaces need Linux"
    return None


@functools.cache
def probe(mode: str) -> str | None:
    """None if `mode` works here, else why not. A success is remembered on disk (see `_probe_key`),
    because starting a wrapped interpreter costs a quarter of a second on every command otherwise."""
    missing = tool_missing(mode)
    if missing:
        return missing
    key = _probe_key(mode)
    cache = _probe_cache_path()
    if key in _read_probe_cache(cache):
        return None
    reason = _probe_live(mode)
    if reason is None:
        _remember_probe(cache, key)
    return reason


def _probe_key(mode: str) -> str:
    """Everything whose change could make a working mode stop working."""
    tool = shutil.which(mode) or ""
    tool_mtime = os.stat(tool).st_mtime_ns if tool else 0
    return "|".join(
        (mode, sys.executable, tool, str(tool_mtime), os.uname().release, str(runner_package_dir()), str(os.geteuid()))
    )


def _probe_cache_path() -> Path:
    from csvanalyst.config import get_settings

    return get_settings().home / "sandbox-probe.json"


def _read_probe_cache(path: Path) -> set[str]:
    import json

    try:
        return set(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return set()


def _remember_probe(path: Path, key: str) -> None:
    import json

    known = _read_probe_cache(path) | {key}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(sorted(known)))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the probe again next time


def _probe_live(mode: str) -> str | None:
    """Start a wrapped interpreter that imports duckdb; None if it works, else the reason it does not."""
    missing = tool_missing(mode)
    if missing:
        return missing
    with tempfile.TemporaryDirectory(prefix="csvanalyst-probe-") as scratch:
        layout = Layout(str(runner_package_dir().parent), scratch)
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": sandbox_runner_parent(mode, layout)}
        code = "import duckdb, runner.protocol"
        argv = wrap(mode, [sys.executable, "-s", "-B", "-c", code], layout, env)
        try:
            done = subprocess.run(argv, env=env, capture_output=True, timeout=PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{mode} failed to start: {exc}"
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        return f"{mode} failed to start (exit {done.returncode}): {tail[0]}"
    return None


def resolve(requested: str) -> str:
    """The mode to use: `auto` picks the strongest that works here."""
    if requested != "auto":
        return requested
    for mode in MODES:
        if probe(mode) is None:
            return mode
    return "none"
