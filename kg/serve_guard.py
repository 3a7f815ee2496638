"""What `kg serve`'s proxy lets through to the Oxigraph server: the request policy.

A server on a laptop's loopback is still reachable by every web page the laptop opens: a form
POST or a GET to 127.0.0.1 is a "simple" cross-origin request that the browser sends without
asking, and a DNS name the attacker controls can be re-pointed at 127.0.0.1 (DNS rebinding)
so that the page may even read the answers. And the Oxigraph server sends a `SERVICE <url>`
request to any address it is given. So the proxy:

- answers only requests whose Host header names an address it serves (rebinding uses a
  foreign name);
- refuses a request a browser marks as coming from another site (Origin, Sec-Fetch-Site), apart
  from opening the editor page itself;
- reads the query (URL, form or body, at most MAX_QUERY_BYTES) and refuses SERVICE unless
  `kg serve --allow-service`, and FROM, which the server's union default graph would silently
  override (FROM NAMED and GRAPH work);
- passes no CORS header on (the server adds none today; this keeps it so).
"""

from __future__ import annotations

import contextlib
import socket
import urllib.parse
from dataclasses import dataclass, field

from kg.sparql_scan import remote_parts

MAX_QUERY_BYTES = 1024 * 1024  # a query (or form) body longer than this is refused (413)
SPARQL_QUERY = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
# Pages that may be opened from another site (a link, a bookmark): they run nothing.
OPEN_PATHS = frozenset({"/", "/index.html"})
QUERY_PATH = "/query"


class Refusal(Exception):
    """The request is refused: `status` and a one-line reason for the client."""

    def __init__(self, status: int, reason: str):
        self.status = status
        self.reason = reason
        super().__init__(reason)


def interface_addresses() -> list[str]:
    """This machine's own IP addresses (what --host 0.0.0.0 exposes), best effort, sorted."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(info[4][0])
    # The address of the interface a default route would use (no packet is sent: UDP connect).
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect((probe, 9))
            found.add(s.getsockname()[0])
    return sorted(a for a in found if not a.startswith(("127.", "::1", "fe80")) and a != "::1")


def is_wildcard(host: str) -> bool:
    return host in ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _url_name(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@dataclass
class Policy:
    """The request policy of one listening address."""

    host: str  # as given to --host
    port: int
    allow_service: bool = False
    names: set[str] = field(default_factory=set)  # host names a Host header may give

    def __post_init__(self):
        names = set(LOOPBACK_NAMES)
        if is_wildcard(self.host):
            names |= {_url_name(a) for a in interface_addresses()}
            with contextlib.suppress(OSError):
                names.add(socket.gethostname().lower())
        elif self.host:
            names.add(_url_name(self.host).lower())
        self.names = names

    # -- who may ask

    def check_host(self, host_header: str | None) -> None:
        """Refuse a Host header naming another server (DNS rebinding); none at all is allowed
        (HTTP/1.0 clients, which no browser is)."""
        if host_header is None:
            return
        value = host_header.strip().lower()
        allowed = {f"{n}:{self.port}" for n in self.names}
        if self.port == 80:
            allowed |= self.names
        if value not in allowed:
            raise Refusal(
                421,
                f"this server answers to {', '.join(sorted(allowed))} only, not to the host "
                f"{value[:100]!r} (a guard against DNS rebinding)",
            )

    def check_site(self, path: str, origin: str | None, fetch_site: str | None) -> None:
        """Refuse what a browser sends on behalf of another site (a page that posts a form or
        loads an image here). The editor page itself may be opened from anywhere."""
        if path in OPEN_PATHS and origin is None:
            return
        if origin is not None:
            allowed = {f"http://{n}:{self.port}" for n in self.names}
            if origin.strip().lower() not in allowed:
                raise Refusal(
                    403,
                    f"cross-site request refused (Origin {origin[:100]!r}): kg serve answers "
                    "its own pages and programs that are not browsers",
                )
        if fetch_site is not None and fetch_site.strip().lower() not in ("same-origin", "none"):
            raise Refusal(
                403,
                f"cross-site request refused (Sec-Fetch-Site: {fetch_site[:40]}): kg serve "
                "answers its own pages and programs that are not browsers",
            )

    # -- what they may ask

    def check_query(self, query: str) -> None:
        calls, clauses = remote_parts(query)
        if calls and not self.allow_service:
            what = "; ".join(str(c) for c in calls[:3])
            raise Refusal(
                403,
                f"SERVICE is refused: the query calls a remote SPARQL service ({what}); "
                "start kg serve with --allow-service to allow it",
            )
        froms = [c for c in clauses if c.keyword == "FROM"]
        if froms:
            raise Refusal(
                400,
                f"FROM is not supported here ({froms[0]}): the default graph of kg serve is the "
                "union of the named graphs, which would override it; write GRAPH <iri> { … } "
                "(or FROM NAMED) instead",
            )


def query_of_url(target: str) -> list[str]:
    """The `query` (and `update`) values in a request target's query string."""
    fields = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query, keep_blank_values=True)
    return fields.get("query", []) + fields.get("update", [])


def queries_of_body(content_type: str, body: bytes) -> list[str]:
    """The query text(s) a POST body carries, by its media type; refused when it carries
    something else (a form from a web page: text/plain, multipart)."""
    media = content_type.split(";")[0].strip().lower()
    if media == SPARQL_QUERY:
        try:
            return [body.decode("utf-8")]
        except UnicodeDecodeError:
            raise Refusal(400, "the query is not UTF-8 text") from None
    if media == FORM:
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise Refusal(400, "a form body must be URL-encoded ASCII") from None
        fields = urllib.parse.parse_qs(text, keep_blank_values=True)
        return fields.get("query", []) + fields.get("update", [])
    raise Refusal(
        415,
        f"a query is sent as {SPARQL_QUERY} or {FORM}, not {media or 'no Content-Type'}",
    )
