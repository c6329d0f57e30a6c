"""Half-open connections are closed by the server itself: the real `csvanalyst serve`, real sockets.

Three kinds of slow client hold connections: one that never sends a byte, one that sends part of its
headers and stops, and one that sends headers promising a body and only part of it. The server must
close every one of them (the test waits for the close; the socket timeout only keeps a broken server
from hanging the suite), and still answer a normal request afterwards.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx

from tests.support.live import ServeProcess

PER_KIND = 40
NEVER_CLOSED_S = 60.0  # a server that never closes fails here instead of hanging the suite


def open_slow(host: str, port: int, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection((host, port))
    sock.settimeout(NEVER_CLOSED_S)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server closed its side: recv reads EOF (or a reset)."""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    finally:
        sock.close()


def test_slow_clients_are_disconnected_and_the_server_keeps_answering() -> None:
    with ServeProcess(["--header-timeout", "1", "--body-timeout", "2"]) as server:
        parts = urlsplit(server.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        head = f"GET /datasets HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()
        body = f"POST /runs HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        body_start = (body + "Content-Length: 4096\r\n\r\n{").encode()
        slow = [open_slow(host, port, first) for first in (b"", head, body_start) for _ in range(PER_KIND)]
        assert httpx.get(f"{server.url}/healthz").status_code == 200  # answers while they hang
        assert all(closed_by_server(sock) for sock in slow)
        assert httpx.get(f"{server.url}/datasets").status_code == 200
