"""One forked request process: become the client's command, run the normal CLI, report its exit code.

It takes on the client's working directory, environment, umask, ignored signals and standard streams
(the client's own descriptors, received over the socket), so the CLI prints, colours and fails exactly
as it would in the client's process. Its exit code goes back over the connection; the connection
closing without one tells the client this process was killed.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import signal
import socket
import sys
from typing import Any, NoReturn

from csvanalyst.daemon import wire

FAILED_SETUP = 70


def serve_request(
    conn: socket.socket, message: dict[str, Any], fds: list[int], pools: socket.socket | None, *, inherited: list[int]
) -> NoReturn:
    code = FAILED_SETUP
    reported = False
    try:
        _leave_parent(inherited, message.get("ignored_signals", []))
        conn.settimeout(None)
        wire.send(conn, {"pid": os.getpid()})
        try:
            _become_client(message, fds)
        except OSError:
            wire.send(conn, {"fallback": True})  # nothing ran: the client runs the command itself
            reported = True
            os._exit(0)
        if pools is not None:
            from csvanalyst.daemon.proxy import serve_local_through

            serve_local_through(pools)
        code = run_cli(message["argv"])
        code = _flush(code)
        atexit._run_exitfuncs()
    except BaseException as exc:  # never back into the fork server's loop
        with contextlib.suppress(Exception):
            print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    finally:
        if not reported:
            with contextlib.suppress(OSError):
                wire.send(conn, {"exit": code})
        os._exit(code)


def _leave_parent(inherited: list[int], ignored: list[int]) -> None:
    """Drop what belongs to the fork server: its sockets, its lock, its exit handlers, its signals."""
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    atexit._clear()
    os.setpgid(0, 0)  # the client signals this group, as a terminal signals its foreground group
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if int(sig) in ignored:
            signal.signal(sig, signal.SIG_IGN)
        else:
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)


def _become_client(message: dict[str, Any], fds: list[int]) -> None:
    os.chdir(message["cwd"])
    os.umask(int(message["umask"]))
    os.environ.clear()
    os.environ.update(message["env"])
    with contextlib.suppress(AttributeError):
        import time

        time.tzset()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        if fd > 2:
            os.close(fd)
    shapes = message.get("streams", {})
    sys.stdin = sys.__stdin__ = _text_stream(0, "r", shapes.get("stdin"))  # type: ignore[misc]
    sys.stdout = sys.__stdout__ = _text_stream(1, "w", shapes.get("stdout"))  # type: ignore[misc]
    sys.stderr = sys.__stderr__ = _text_stream(2, "w", shapes.get("stderr"))  # type: ignore[misc]
    sys.argv = ["csvanalyst", *message["argv"]]
    _forget_cached_state()


def _text_stream(fd: int, mode: str, shape: dict[str, Any] | None) -> Any:
    """The stream as the client's interpreter had set it up (encoding, errors, buffering)."""
    if shape is None:
        return None
    raw = io.FileIO(fd, mode, closefd=False)
    buffered = io.BufferedReader(raw) if mode == "r" else io.BufferedWriter(raw)
    return io.TextIOWrapper(
        buffered,
        encoding=shape["encoding"],
        errors=shape["errors"],
        line_buffering=shape["line_buffering"],
        write_through=shape["write_through"],
    )


def _forget_cached_state() -> None:
    """Cached reads of the environment or of this process (settings, the run owner's pid) were the fork
    server's: clear every functools cache in the package."""
    for name, module in list(sys.modules.items()):
        if not name.startswith("csvanalyst") or module is None:
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()


def run_cli(argv: list[str]) -> int:
    """The command's exit code; the CLI's own fast exit is left to this process's caller, which must report
    the code to the client first."""
    from csvanalyst.cli.app import main

    try:
        main(argv, exit_process=False)
    except SystemExit as exc:
        return _exit_status(exc.code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def _exit_status(value: Any) -> int:
    """What the interpreter would exit with for SystemExit(value)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def _flush(code: int) -> int:
    """Flush as the CLI's own exit does (cli.app.leave): a reader that closed the pipe is no error; any
    other failure to write the output makes the exit code 120, as the interpreter's own flush would."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
        except OSError:
            code = code or 120
    return code
