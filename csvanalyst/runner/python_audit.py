"""The runtime half of the restricted Python mode: a `sys.addaudithook` hook in the snippet's process.

Installed in the snippet's own process (python_child), after its tables are loaded and right before
the snippet runs; an audit hook cannot be removed, and this one is a closure over tuples that reports
each refusal through a pipe to the runner, a separate process. No object holds its decisions (no
policy object to patch, no list of violations to clear), and the process lives for one snippet.

It refuses, whoever calls (the snippet, or pandas/numpy code the snippet reached through some path the
AST check did not foresee):
- opening a file for writing (or creating, deleting, renaming, chmod-ing one) outside the run's
  private temp directory; opening, listing or stat-ing anything but the interpreter's own files, the
  dataset files and the temp directory (stat has no audit event of its own: `install` routes `os.stat`,
  `os.lstat`, `os.access`, `os.readlink` and `os.statvfs` through one, so `os.path.exists` and
  `pathlib` probes are judged too);
- every `socket.*` event; `subprocess.Popen`, `os.system`, `os.exec*`, `os.spawn*`, `os.posix_spawn`,
  `os.fork`/`forkpty`, `os.kill`, `pty.spawn`; every `ctypes.*` event;
- loading a dangerous module at runtime (subprocess, socket, ctypes, pickle, multiprocessing, ...);
- unpickling anything that names a class or function (`pickle.find_class`);
- reaching generator frames, `sys.settrace`, `sys.setprofile`, new audit hooks, `code.__new__`,
  `function.__new__`, `builtins.input`, `gc.get_objects`/`get_referrers`/`get_referents`.

This is defence in depth: Landlock (confine.py) and the OS sandbox hold even if the hook is escaped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

DENIED_EVENTS = frozenset(
    {
        "subprocess.Popen", "os.system", "os.posix_spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
        "pty.spawn", "pickle.find_class", "sys.setprofile", "sys.settrace",
        "sys.addaudithook", "os.putenv", "os.unsetenv", "winreg.OpenKey", "webbrowser.open", "resource.setrlimit",
        "os.chroot", "os.setuid", "shutil.chown", "code.__new__", "function.__new__", "builtins.input",
        "sys._current_frames", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    }
)  # fmt: skip
DENIED_PREFIXES = ("socket.", "ctypes.", "os.exec", "os.spawn", "msvcrt.", "_winapi.")
# tb_frame stays readable: the runner's own error report reads the snippet's traceback.
FRAME_ATTRIBUTES = frozenset({"gi_frame", "cr_frame", "ag_frame", "f_back", "gi_code", "f_globals"})
PATH_WRITE_EVENTS = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.link": (0, 1),
    "os.symlink": (0, 1),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.truncate": (0,),
    "os.utime": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
    "shutil.move": (1,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
}
LISTING_EVENTS = ("os.listdir", "os.scandir", "glob.glob", "glob.glob/2", "os.chdir")
PROBING_EVENTS = ("os.stat", "os.lstat", "os.access", "os.readlink", "os.statvfs")  # raised by probe wrappers
REPORT_BYTES = 4000  # one refusal is one write below PIPE_BUF, so refusals never interleave
NO_AUDIT_EVENT = ("mkfifo", "mknod")  # os functions that raise no audit event: removed instead
DENIED_MODULES = frozenset(
    {
        "subprocess", "socket", "_socket", "ctypes", "_ctypes", "pickle", "_pickle", "marshal", "multiprocessing",
        "pty", "shutil", "http", "urllib", "ftplib", "smtplib", "ssl", "asyncio", "webbrowser", "code",
        "codeop", "pdb", "importlib.util", "runpy", "zipimport", "cffi", "mmap",
    }
)  # fmt: skip
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class SandboxViolation(PermissionError):
    """An action restricted Python refuses at runtime."""


Hook = Callable[[str, tuple[Any, ...]], None]


def make_hook(write_dirs: Iterable[str], read_paths: Iterable[str], report_fd: int) -> Hook:
    """The hook, a closure over tuples and one descriptor: no object holds its decisions.

    Each refusal is written to `report_fd` (a pipe the runner reads from outside this process) before it
    is raised, so a snippet that catches the exception still ends as refused.
    """
    writable = _roots(write_dirs)
    readable = writable + _roots(read_paths)
    decide, write = judge, os.write  # bound now: replacing the module's functions later changes nothing here

    def refuse(what: str) -> None:
        message = f"Restricted Python refused: {what}"
        write(report_fd, message.encode("utf-8", "replace")[:REPORT_BYTES] + b"\n")
        raise SandboxViolation(message)

    def audit(event: str, args: tuple[Any, ...]) -> None:
        verdict = decide(event, args, writable, readable)
        if verdict is not None:
            refuse(verdict)

    return audit


def judge(event: str, args: tuple[Any, ...], writable: tuple[str, ...], readable: tuple[str, ...]) -> str | None:
    """What is refused about this event, or None."""
    if event == "open":
        return _open(args, writable, readable)
    if event == "import":
        name = str(args[0])
        return f"importing {name!r}" if name in DENIED_MODULES or name.split(".")[0] in DENIED_MODULES else None
    if event in DENIED_EVENTS or event.startswith(DENIED_PREFIXES):
        return _describe(event)
    if event in LISTING_EVENTS:
        path = args[0] if args else "."
        if isinstance(path, (str, bytes, os.PathLike)) and not _inside(path, readable):
            return f"{event} of {path!r} (only the run's temp directory and the dataset are visible)"
        return None
    if event in PROBING_EVENTS:
        return _probe(event, args, readable)
    if event in PATH_WRITE_EVENTS:
        for index in PATH_WRITE_EVENTS[event]:
            if index < len(args) and not _inside(args[index], writable):
                return f"{event} on {args[index]!r} (only the run's temp directory is writable)"
        return None
    if event == "object.__getattr__" and len(args) > 1 and args[1] in FRAME_ATTRIBUTES:
        return f"reaching interpreter frames ({args[1]})"
    return None


def _open(args: tuple[Any, ...], writable: tuple[str, ...], readable: tuple[str, ...]) -> str | None:
    path, mode, flags = ((*tuple(args), None, None, None))[:3]
    if isinstance(path, int) or path is None:
        return None  # an already open descriptor (the result pipe, stdout)
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & WRITE_FLAGS
    )
    if writing and not _inside(path, writable):
        return f"opening {path!r} for writing (only the run's temp directory is writable)"
    if not writing and not _inside(path, readable):
        return f"opening {path!r} (only the dataset is readable; its tables are already loaded)"
    return None


def _probe(event: str, args: tuple[Any, ...], readable: tuple[str, ...]) -> str | None:
    """stat & co. judged on the path as written (resolving it would stat again): inside a readable root,
    or one of the directories leading to one (realpath walks those)."""
    path, dir_fd = ((*tuple(args), None, None))[:2]
    if isinstance(path, int):
        return None  # an open descriptor
    try:
        lexical = os.path.abspath(os.fsdecode(path))
    except (TypeError, ValueError):
        return None  # the call itself rejects it
    if dir_fd is None and any(_under(lexical, root) or _under(root, lexical) for root in readable):
        return None
    return f"{event} of {path!r} (only the run's temp directory and the dataset are visible)"


def route_probes() -> None:
    """Give the stat family an audit event, in this one-snippet process (importlib uses posix directly)."""
    for name in ("stat", "lstat", "access", "readlink", "statvfs"):
        original = getattr(os, name)

        def probe(path: Any, *args: Any, _original: Any = original, _event: str = f"os.{name}", **kwargs: Any) -> Any:
            sys.audit(_event, path, kwargs.get("dir_fd"))
            return _original(path, *args, **kwargs)

        probe.__name__ = name
        setattr(os, name, probe)


def _roots(paths: Iterable[str]) -> tuple[str, ...]:
    """Each root resolved (what open and listing are judged on) and as written (what stat probes are)."""
    roots = [r for p in paths for r in (_real(p), os.path.abspath(p)) if r]
    return tuple(dict.fromkeys(roots))


def _inside(path: object, roots: tuple[str, ...]) -> bool:
    """Inside a root as written, and once resolved (a path as written outside every root is refused
    before resolving it, since resolving stats each of its directories)."""
    try:
        lexical = os.path.abspath(os.fsdecode(path))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    if not any(_under(lexical, root) for root in roots):
        return False
    real = _real(path)
    return real is not None and any(_under(real, root) for root in roots)


def _describe(event: str) -> str:
    if event.startswith("socket."):
        return f"network access ({event})"
    if event in ("subprocess.Popen", "os.system", "os.posix_spawn", "pty.spawn") or event.startswith(
        ("os.exec", "os.spawn")
    ):
        return f"starting a process ({event})"
    if event.startswith("ctypes."):
        return f"native code through ctypes ({event})"
    if event in ("pickle.find_class", "marshal.loads", "marshal.load"):
        return f"unpickling code or classes ({event})"
    return event


def _real(path: object) -> str | None:
    try:
        return os.path.realpath(os.fsdecode(path))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _under(path: str, root: str | None) -> bool:
    return root is not None and (path == root or path.startswith(root.rstrip("/") + "/"))


def interpreter_paths() -> list[str]:
    """Where the interpreter and installed packages read their own files from (lazy imports, data)."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    roots.update(p for p in sys.path if p and os.path.isabs(p))
    roots.update(("/usr/lib", "/usr/local/lib", "/usr/share/zoneinfo", "/dev/null", "/dev/urandom"))
    return sorted(roots)


def install(write_dirs: Iterable[str], read_paths: Iterable[str], report_fd: int) -> None:
    """Add the hook for good (an audit hook cannot be removed); nothing is returned to hold on to."""
    import posix

    for name in NO_AUDIT_EVENT:  # no hook could see these: this one-run process loses them instead
        for module in (os, posix):
            if hasattr(module, name):
                delattr(module, name)
    sys.addaudithook(make_hook([*write_dirs, "/dev/null"], [*read_paths, *interpreter_paths()], report_fd))
    route_probes()
