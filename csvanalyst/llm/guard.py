"""A switch that keeps model requests on this machine: `CSVANALYST_ALLOW_MODEL_REQUESTS=0`.

Tests set it so that no test can ever reach a paid API, even by mistake: with the switch off, a
client may only talk to a loopback base URL (such as the local wire-format server).
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlparse

from csvanalyst.errors import ModelError

ENV = "CSVANALYST_ALLOW_MODEL_REQUESTS"


def requests_allowed() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in {"0", "false", "no", "off"}


def is_loopback(url: str | None) -> bool:
    host = urlparse(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_allowed(base_url: str | None, label: str) -> None:
    """Raise before any request leaves the machine while remote model requests are switched off."""
    if requests_allowed() or is_loopback(base_url):
        return
    target = base_url or f"the default {label} endpoint"
    raise ModelError(
        f"Requests to {target} are switched off by {ENV}=0; only loopback base URLs are allowed.",
        hint=f"Unset {ENV} to allow remote model requests, or point the base URL at a local server.",
    )
