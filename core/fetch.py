"""Fetch a file from a URL given by a territory (a listing's photo), safely: http(s) only, each
host resolved once and refused when private, every redirect checked, a deadline and a size cap."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 3
USER_AGENT = "VivrauBassindeVie/1.0 (photo fetcher)"
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(RuntimeError):
    """A refused or failed fetch. Codes: not_http, bad_url, private_address, unresolved,
    timeout, unreachable, http_status, too_large, too_many_redirects."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code, self.message, self.params = code, message, params


def _allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_loopback: bool) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if allow_loopback and ip == ipaddress.IPv4Address("127.0.0.1"):
        return True
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int, allow_loopback: bool = False) -> str:
    """The one address to connect to; refused when any address of the name is not public (a
    name that resolves to both could be steered to the private one)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError("unresolved", f"the host {host!r} cannot be resolved", host=host) from exc
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not _allowed(ip, allow_loopback):
            raise FetchError(
                "private_address",
                f"the host {host!r} has the private address {ip}",
                host=host,
                address=str(ip),
            )
        addresses.append(str(ip))
    if not addresses:
        raise FetchError("unresolved", f"the host {host!r} has no address", host=host)
    return addresses[0]


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address resolved and checked beforehand, never resolving again."""

    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the name, not the address connected to.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def fetch(url: str, *, timeout: float, max_bytes: int, allow_loopback: bool = False) -> bytes:
    """The body of `url` (status 200), or FetchError. `timeout` bounds the whole fetch,
    redirects included; the body is read up to `max_bytes` and refused past it."""
    deadline = time.monotonic() + timeout
    for _hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError("not_http", "only http and https addresses are fetched", url=url)
        try:
            host, port = parts.hostname, parts.port
        except ValueError as exc:
            raise FetchError("bad_url", "the address is malformed", url=url) from exc
        if not host:
            raise FetchError("bad_url", "the address names no host", url=url)
        port = port or (443 if parts.scheme == "https" else 80)
        address = resolve(host, port, allow_loopback)
        kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
        connection = kind(host, port, address, _left(deadline))
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "image/*"})
            sock = connection.sock  # the response may take it over from the connection
            response = connection.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchError("http_status", "a redirect without a Location", status=302)
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise FetchError(
                    "http_status",
                    f"the server answered {response.status}",
                    status=response.status,
                )
            return _read(response, sock, deadline, max_bytes)
        except TimeoutError as exc:
            raise FetchError("timeout", f"no answer within {timeout:g} s", seconds=timeout) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError("unreachable", f"the server cannot be reached: {exc}") from exc
        finally:
            connection.close()
    raise FetchError("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _read(response, sock, deadline: float, max_bytes: int) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("too_large", "the file is too large", size=int(declared), max=max_bytes)
    chunks, size = [], 0
    while True:
        sock.settimeout(_left(deadline))
        chunk = response.read1(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError("too_large", "the file is too large", size=size, max=max_bytes)
        chunks.append(chunk)
