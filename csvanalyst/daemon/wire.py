"""What the client and the worker share: where the socket lives, how messages are framed, who may talk.

Standard library only: the client imports this on every command, before deciding anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

SOCKET_NAME = "daemon.sock"
LOCK_NAME = "daemon.lock"
LOG_NAME = "daemon.log"
MAX_MESSAGE = 64 * 1024 * 1024
MAX_UNIX_PATH = 100  # sun_path holds 108 bytes on Linux, fewer elsewhere
_LENGTH = struct.Struct(">I")
_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


def home() -> Path:
    """CSVANALYST_HOME, else the platform's user data dir (the same rule as config.default_home)."""
    env = os.environ.get("CSVANALYST_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("csvanalyst", appauthor=False)


def socket_path(base: Path) -> Path:
    return base / SOCKET_NAME


def lock_path(base: Path) -> Path:
    return base / LOCK_NAME


def usable_path(path: Path) -> bool:
    """A socket path the OS can bind (a very deep home directory cannot hold one)."""
    return len(os.fsencode(str(path))) <= MAX_UNIX_PATH


def supported() -> bool:
    """The worker needs fork, SCM_RIGHTS and SO_PEERCRED: Linux."""
    import sys

    return sys.platform.startswith("linux") and hasattr(socket, "SO_PEERCRED")


def code_version() -> str:
    """The package version plus the name, size and mtime of every source file, so an upgrade (or an
    edited checkout) is a different version and the old worker is replaced. The interpreter's version and
    the mtime of each site-packages directory (pip changes it when it installs or removes anything) make a
    dependency's upgrade one too."""
    import sys

    package = Path(__file__).resolve().parent.parent
    version = installed_version()
    digest = hashlib.sha256(f"{version}|{package}|{sys.version}".encode())
    for entry in sys.path[1:]:  # the first is the script's or the working directory: it differs per caller
        if entry.endswith(("site-packages", "dist-packages")):
            with contextlib.suppress(OSError):
                digest.update(f"{entry}:{os.stat(entry).st_mtime_ns}".encode())
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(root, name))
                digest.update(f"{root}/{name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return f"{version}+{digest.hexdigest()[:16]}"


def installed_version() -> str:
    """The version in the installed distribution's metadata directory name, read without importlib.metadata
    (whose import alone costs more than the rest of the client)."""
    import sys

    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith("csvanalyst-") and name.endswith(".dist-info"):
                return name[len("csvanalyst-") : -len(".dist-info")]
    return "0+unknown"


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end, as the kernel saw it when it connected."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
    uid: int = _CRED.unpack(raw)[1]
    return uid


def same_user(sock: socket.socket) -> bool:
    return peer_uid(sock) == os.getuid()


def send(sock: socket.socket, message: dict[str, Any], fds: list[int] | None = None) -> None:
    """One length-prefixed JSON message; `fds` travel with its first byte (SCM_RIGHTS)."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    data = _LENGTH.pack(len(body)) + body
    if fds:
        sent = socket.send_fds(sock, [data], fds)
        data = data[sent:]
    if data:
        sock.sendall(data)


def receive(sock: socket.socket, *, max_fds: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """The next message and any descriptors sent with it; (None, []) at a clean end of stream."""
    fds: list[int] = []
    if max_fds:
        first, fds, _flags, _addr = socket.recv_fds(sock, _LENGTH.size, max_fds)
    else:
        first = sock.recv(_LENGTH.size)
    if not first:
        return None, fds
    header = first + _exactly(sock, _LENGTH.size - len(first))
    (length,) = _LENGTH.unpack(header)
    if length > MAX_MESSAGE:
        raise ValueError(f"message of {length} bytes is over the limit")
    return json.loads(_exactly(sock, length)), fds


def _exactly(sock: socket.socket, count: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < count:
        chunk = sock.recv(count - len(chunks))
        if not chunk:
            raise EOFError("the connection closed in the middle of a message")
        chunks += chunk
    return bytes(chunks)
