"""Outgoing HTTP that cannot be turned against the inside (SSRF).

A URL is posted to only when every address its host resolves to is public — not loopback,
private, link-local, multicast, reserved or unspecified — unless an administrator allowed
that host (`AllowedHost`). The connection then goes to the address that was checked (the
host name still goes in the Host header and TLS SNI), so a DNS answer that changes between
the check and the connect cannot slip through. Redirects are not followed.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

TIMEOUT = 10.0


class UnsafeURL(Exception):
    def __init__(self, code: str, message) -> None:
        super().__init__(str(message))
        self.code, self.message = code, message


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string


def check_syntax(url: str) -> Target:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL("bad_url", _("地址格式不正确")) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("bad_url", _("只支持 http:// 或 https:// 地址"))
    if parts.username or parts.password:
        raise UnsafeURL("bad_url", _("地址中不能包含用户名或密码"))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname.lower(), port or default, path)


def blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve(target: Target, allowed: frozenset[str]) -> str:
    """The address to connect to, or UnsafeURL."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL("unresolvable", _("无法解析主机名 %(h)s") % {"h": target.host}) from exc
    addresses = [info[4][0] for info in infos]
    if target.host not in allowed and any(blocked(a) for a in addresses):
        raise UnsafeURL(
            "blocked_address",
            _("地址 %(h)s 指向内网或本机，已拒绝；如确需使用，请管理员将其加入允许的内网地址")
            % {"h": target.host},
        )
    return addresses[0]


def allowed_hosts() -> frozenset[str]:
    from .models import AllowedHost

    return frozenset(AllowedHost.objects.values_list("host", flat=True))


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT) -> Response:
    """POST `body` to `url` through the checks above."""
    target = check_syntax(url)
    address = resolve(target, allowed_hosts())
    if target.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPS(
            target.host, target.port, address, timeout=timeout
        )
    else:
        conn = _PinnedHTTP(target.host, target.port, address, timeout=timeout)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        reply = conn.getresponse()
        return Response(reply.status, reply.read(64 * 1024))
    finally:
        conn.close()


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, **kwargs) -> None:
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
