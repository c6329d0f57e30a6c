"""The runtime half of the restricted Python mode: a `sys.addaudithook` policy.

Installed only inside a sandboxed runner process, right before a snippet runs; an audit hook cannot
be removed, so the process never runs anything unrestricted afterwards (the runner answers one request
and exits, or is a forked child of the warm worker that exits after its one request).

It refuses, whoever calls (the snippet, or pandas/numpy code the snippet reached through some path the
AST check did not foresee):
- opening a file for writing (or creating, deleting, renaming, chmod-ing one) outside the run's
  private temp directory; opening for reading anything but the interpreter's own files, the dataset
  files and the temp directory;
- every `socket.*` event; `subprocess.Popen`, `os.system`, `os.exec*`, `os.spawn*`, `os.posix_spawn`,
  `os.fork`/`forkpty`, `os.kill`, `pty.spawn`; every `ctypes.*` event;
- loading a dangerous module at runtime (subprocess, socket, ctypes, pickle, multiprocessing, ...);
- unpickling anything that names a class or function (`pickle.find_class`; `marshal.loads` stays
  allowed because the import system loads .pyc files with it, and the module is unreachable);
- while the snippet itself runs: reaching frames (`gi_frame`, `tb_frame`, ...), `sys.settrace`,
  `sys.setprofile`, new audit hooks, `code.__new__`, `function.__new__`, `builtins.input`.

A refusal raises `SandboxViolation` and is also recorded, so a snippet that catches the exception still
ends as refused (`python_mode` checks `violations` after the run).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

DENIED_EVENTS = frozenset(
    {
        "subprocess.Popen", "os.system", "os.posix_spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
        "pty.spawn", "pickle.find_class", "sys.setprofile", "sys.settrace",
        "sys.addaudithook", "os.putenv", "os.unsetenv", "winreg.OpenKey", "webbrowser.open", "resource.setrlimit",
        "os.chroot", "os.setuid", "shutil.chown",
    }
)  # fmt: skip
DENIED_PREFIXES = ("socket.", "ctypes.", "os.exec", "os.spawn", "msvcrt.", "_winapi.")
DENIED_WHILE_RUNNING = frozenset({"code.__new__", "function.__new__", "builtins.input", "sys._current_frames"})
FRAME_ATTRIBUTES = frozenset({"gi_frame", "cr_frame", "ag_frame", "tb_frame", "f_back", "gi_code", "f_globals"})
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


class Policy:
    """The hook's state; unreachable from the snippet (no frames, no globals, no dunders)."""

    def __init__(self, write_dirs: Iterable[str], read_paths: Iterable[str]) -> None:
        self.write_dirs = tuple(_real(p) for p in write_dirs)
        self.read_paths = tuple(_real(p) for p in read_paths)
        self.violations: list[str] = []
        self.snippet_running = False

    def refuse(self, what: str) -> None:
        message = f"Restricted Python refused: {what}"
        self.violations.append(message)
        raise SandboxViolation(message)

    def __call__(self, event: str, args: tuple[object, ...]) -> None:
        if event == "open":
            self._open(args)
        elif event == "import":
            name = str(args[0])
            if name in DENIED_MODULES or name.split(".")[0] in DENIED_MODULES:
                self.refuse(f"importing {name!r}")
        elif event in DENIED_EVENTS or event.startswith(DENIED_PREFIXES):
            self.refuse(_describe(event))
        elif event in LISTING_EVENTS:
            path = args[0] if args else "."
            if isinstance(path, (str, bytes, os.PathLike)) and not self._readable(path):
                self.refuse(f"{event} of {path!r} (only the run's temp directory and the dataset are visible)")
        elif event in PATH_WRITE_EVENTS:
            for index in PATH_WRITE_EVENTS[event]:
                if index < len(args) and not self._writable(args[index]):
                    self.refuse(f"{event} on {args[index]!r} (only the run's temp directory is writable)")
        elif self.snippet_running:
            if event in DENIED_WHILE_RUNNING:
                self.refuse(_describe(event))
            if event == "object.__getattr__" and len(args) > 1 and args[1] in FRAME_ATTRIBUTES:
                self.refuse(f"reaching interpreter frames ({args[1]})")

    def _open(self, args: tuple[object, ...]) -> None:
        path, mode, flags = ((*tuple(args), None, None, None))[:3]
        if isinstance(path, int) or path is None:
            return  # an already open descriptor (the result pipe, stdout)
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & WRITE_FLAGS
        )
        if writing:
            if not self._writable(path):
                self.refuse(f"opening {path!r} for writing (only the run's temp directory is writable)")
        elif not self._readable(path):
            self.refuse(f"opening {path!r} (only the dataset is readable; its tables are already loaded)")

    def _writable(self, path: object) -> bool:
        real = _real(path)
        return real is not None and any(_under(real, d) for d in self.write_dirs if d)

    def _readable(self, path: object) -> bool:
        real = _real(path)
        if real is None:
            return False
        return self._writable(path) or any(_under(real, p) for p in self.read_paths if p)


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


def install(write_dirs: Iterable[str], read_paths: Iterable[str]) -> Policy:
    import posix

    for name in NO_AUDIT_EVENT:  # no hook could see these: this one-run process loses them instead
        for module in (os, posix):
            if hasattr(module, name):
                delattr(module, name)
    policy = Policy([*write_dirs, "/dev/null"], [*read_paths, *interpreter_paths()])
    sys.addaudithook(policy)
    return policy
