"""Which requests a browser may make: DNS rebinding and cross-site request forgery.

A web page elsewhere can make the user's browser talk to this server. Two walls keep it out:
- `Host` must name this server (loopback names, the bound address, `--allowed-host`), so a page that
  rebinds its own name to 127.0.0.1 is refused before it can read anything;
- a state-changing request from a browser (it sends `Origin` or `Sec-Fetch-Site`) must come from the
  server's own origin (or a `--cors-origin`), and without a token any browser request must come from
  our own page, or be one the user typed.
Clients that are not browsers (curl, SDKs) send neither header and are judged by the token alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OWN_SITE = frozenset({"same-origin", "none"})  # "none": the user typed the address or opened a bookmark
ANY_HOST = "*"


@dataclass(frozen=True)
class OriginPolicy:
    """What the server accepts, from how it was started."""

    bound_host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    token_required: bool = False
    _names: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names = set(LOOPBACK_NAMES) | {_bare(h) for h in self.allowed_hosts}
        if self.bound_host not in WILDCARD_BINDS:
            names.add(_bare(self.bound_host))
        object.__setattr__(self, "_names", frozenset(names))

    def host_allowed(self, host_header: str | None) -> bool:
        """Host names this server; any host when told so (`*`), or bound to every address behind a token."""
        if ANY_HOST in self.allowed_hosts or (self.bound_host in WILDCARD_BINDS and self.token_required):
            return True
        return host_header is not None and _bare(host_header) in self._names

    def refusal(self, method: str, headers: dict[str, str]) -> str | None:
        """Why a browser request is refused, or None. `headers` are lower-cased names."""
        origin, site = headers.get("origin"), headers.get("sec-fetch-site")
        if (origin is None and site is None) or (origin is not None and origin in self.cors_origins):
            return None  # not a browser (the token, if any, decides), or an origin the operator allowed
        if method in SAFE_METHODS and self.token_required:
            return None  # a cross-site page cannot send the token, and cannot read the answer
        if origin is not None and not self._own_origin(origin, headers.get("host")):
            return f"requests from the web page at {origin} are not accepted"
        if site is not None and site not in OWN_SITE:
            return f"a {site} browser request is not accepted"
        return None

    @staticmethod
    def _own_origin(origin: str, host_header: str | None) -> bool:
        if not host_header:
            return False
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() == host_header.lower()


def _bare(host: str) -> str:
    """The host name of a Host header or address, without port or IPv6 brackets, lower-cased."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host
