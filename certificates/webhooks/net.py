"""Where a webhook may be sent: SSRF protection.

A subscription's URL is checked when it is saved and again before every delivery (a name may resolve elsewhere
later): http(s) only (https only where WEBHOOK_REQUIRE_HTTPS, i.e. production), no credentials in the URL, and every
address the host resolves to must be a public one — loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7),
link-local (169.254/16, including cloud metadata at 169.254.169.254), shared (100.64/10), multicast, reserved and
unspecified addresses are refused, IPv4-mapped IPv6 included. WEBHOOK_ALLOWED_HOSTS names hosts exempt from the
address check (the tests' local receiver; an organisation's system on a private network the operator vouches for).
Redirects are never followed. What remains: a name that resolves to a public address when checked and to a private
one a moment later (DNS rebinding) — the check is repeated at every delivery, and a production deployment should
also send webhooks through an egress proxy or firewall that refuses private ranges.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import ValidationFailed


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_check(url: str) -> str:
    """The URL, stripped, if webhooks may be sent to it; ValidationFailed (field `url`) saying why not."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed(_("接收地址格式不正确"), details={"field": "url"}) from None
    allowed_schemes = ("https",) if settings.WEBHOOK_REQUIRE_HTTPS else ("https", "http")
    if parts.scheme not in allowed_schemes or not parts.hostname:
        message = _("接收地址须以 https:// 开头") if settings.WEBHOOK_REQUIRE_HTTPS else _("接收地址须为 http(s) 地址")
        raise ValidationFailed(message, details={"field": "url"})
    if parts.username or parts.password:
        raise ValidationFailed(_("接收地址中不能包含用户名或密码"), details={"field": "url"})
    host = parts.hostname.lower()
    if host in {h.lower() for h in settings.WEBHOOK_ALLOWED_HOSTS}:
        return url
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ValidationFailed(_("无法解析接收地址的域名"), details={"field": "url"}) from None
    for info in infos:
        if not _address_allowed(info[4][0]):
            raise ValidationFailed(
                _("接收地址指向内网、本机或保留地址(%(ip)s),出于安全考虑不予推送") % {"ip": info[4][0]},
                details={"field": "url"},
            )
    return url
