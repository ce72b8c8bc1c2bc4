"""`sme-bot serve`: listen, say where (and, on a LAN, the address and QR code a phone opens), and
run the app under uvicorn until Ctrl-C or SIGTERM; uvicorn then finishes the requests in hand and
the app closes its database."""

import ipaddress
import os
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sme_bot.config import Config
from sme_bot.questionnaire import Questionnaire
from sme_bot.web.app import create_app
from sme_bot.web.security import HideResumeCodes, session_secret

_ANY = ("0.0.0.0", "::", "")


def serve(config: Config, questionnaire: Questionnaire, *, database: Path, host: str, port: int, access_log: bool,
          echo: Callable[[str], None], qr: Callable[[str], None]) -> None:
    import uvicorn

    zalo = zalo_webhook_settings(os.environ)
    app = create_app(config, questionnaire, database=database, secret=session_secret(database), zalo=zalo)
    listener = listen(host, port)
    bound = listener.getsockname()[1]
    echo(f"sme-bot: serving {questionnaire.id} {questionnaire.version} at {_url(host, bound)} "
         f"(database {database}); Ctrl-C stops it")
    phones = phone_urls(host, bound, lan_addresses())
    if config.web.public_url:
        echo(f"Public address: {config.web.public_url}")
    if zalo:
        echo("Zalo's webhook: /zalo/webhook (set it with `sme-bot zalo webhook set URL`)")
    if phones:
        echo("Phones on the same Wi-Fi open: " + "  ".join(phones))
        qr(phones[0])
    uvicorn.Server(uvicorn.Config(app, **uvicorn_settings(config, access_log=access_log))).run(sockets=[listener])


def zalo_webhook_settings(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """Zalo's token and webhook secret when both are in the environment: then /zalo/webhook is served."""
    token = environ.get("SME_BOT_ZALO_TOKEN", "").strip()
    secret = environ.get("SME_BOT_ZALO_WEBHOOK_SECRET", "")
    if not secret:
        return None
    if not token:
        raise ValueError("SME_BOT_ZALO_WEBHOOK_SECRET is set but SME_BOT_ZALO_TOKEN is not; set both to serve Zalo's webhook")
    return token, secret


def uvicorn_settings(config: Config, *, access_log: bool) -> dict[str, Any]:
    """How uvicorn runs the app (tests run it the same way): client address and https believed
    only from the proxies listed in bot.toml; no server header; the access log off unless asked."""
    return {"log_config": _logging(), "access_log": access_log, "proxy_headers": True,
            "forwarded_allow_ips": config.web.forwarded_allow_ips, "server_header": False, "lifespan": "on"}


def phone_urls(host: str, port: int, lan: list[str]) -> list[str]:
    """What a phone on the same network opens: nothing when only this computer can connect."""
    if host in _ANY:
        return [_url(address, port) for address in lan]
    ip = _ip(host)
    if host == "localhost" or (ip is not None and ip.is_loopback):
        return []
    return [_url(host, port)]


def lan_addresses() -> list[str]:
    """This computer's IPv4 addresses other than loopback, private networks first. Read from the
    system, never by sending anything (Debian maps the host name to 127.0.1.1, so the names
    alone often say nothing; Linux also answers per interface)."""
    found: set[str] = set()
    try:
        found |= {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except OSError:
        pass
    if sys.platform == "linux":
        found |= _interface_addresses()
    usable = [ip for ip in (_ip(a) for a in found) if ip is not None and not ip.is_loopback and not ip.is_link_local]
    return [str(ip) for ip in sorted(usable, key=lambda ip: (not ip.is_private, ip))]


def _interface_addresses() -> set[str]:
    import fcntl
    import struct

    siocgifaddr = 0x8915
    found = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            try:
                answer = fcntl.ioctl(probe.fileno(), siocgifaddr, struct.pack("256s", name[:15].encode()))
            except OSError:  # an interface with no IPv4 address
                continue
            found.add(socket.inet_ntoa(answer[20:24]))
    return found


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts, so the port is known (and 0 picks one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # they are TCP, and with Nagle on, every keep-alive response waits 40 ms for a delayed ACK.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _logging() -> dict[str, Any]:
    """uvicorn's own logging, with resume codes masked should the access log be turned on."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {**LOGGING_CONFIG, "filters": {"codes": {"()": HideResumeCodes}}}
    config["handlers"] = {**LOGGING_CONFIG["handlers"],
                          "access": {**LOGGING_CONFIG["handlers"]["access"], "filters": ["codes"]}}
    return config
