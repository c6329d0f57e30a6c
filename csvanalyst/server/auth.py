"""Who may call the API, and where the server may listen.

With a token set, every API call needs `Authorization: Bearer <token>` (compared in constant time).
The web page's own files, liveness/readiness probes and the OpenAPI document stay public: they hold
no data, and the page asks for the token itself.
"""

from __future__ import annotations

import hmac
import ipaddress

from csvanalyst.errors import UsageError

PUBLIC_PREFIXES = ("/static/",)
PUBLIC_PATHS = {"/", "/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/favicon.ico"}


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def authorized(header: str | None, token: str | None) -> bool:
    """True when no token is configured, or the header carries exactly that bearer token."""
    if not token:
        return True
    if not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, insecure: bool) -> None:
    """Refuse to expose an unauthenticated analyst beyond this machine unless told so explicitly."""
    if is_loopback(host) or token or insecure:
        return
    raise UsageError(
        f"Refusing to listen on {host} without a token: anyone who can reach it could query your data.",
        hint="Set --token (or CSVANALYST_TOKEN), or pass --insecure if the network is trusted.",
    )
