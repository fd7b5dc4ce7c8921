"""`onboard serve`: the app in a web browser through textual-serve, behind a token made per start.

Every HTTP request and the WebSocket must carry the token (in the URL's ``token`` query, or in
the cookie the page sets when it is opened with it), and the WebSocket's ``Origin`` must be the
served origin, so neither another local user nor a web page open in the operator's browser can
reach the app. Like cli.py, this module wires the UI in lazily (textual-serve is imported only
when the verb runs).
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .cliutil import Exit, fail

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

FORBIDDEN_TEXT = (
    "403 Forbidden: this onboard serve needs the address with its token, as printed in the "
    "terminal where `onboard serve` was started.\n"
)


def is_loopback(host: str) -> bool:
    """Whether an address to listen on reaches this machine only."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServeAccess:
    """What a request to `onboard serve` must show: the token, and for the WebSocket the origin."""

    token: str
    origin: str  # scheme://host:port the page is served from, e.g. http://127.0.0.1:8000
    port: int

    @classmethod
    def new(cls, host: str, port: int) -> ServeAccess:
        import secrets  # this module is imported to build the parser: only what the verb runs

        shown = f"[{host}]" if ":" in host else host
        return cls(token=secrets.token_urlsafe(32), origin=f"http://{shown}:{port}", port=port)

    @property
    def cookie(self) -> str:
        # One cookie per port: cookies do not tell ports apart, two serves may run side by side.
        return f"onboard_serve_token_{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/?token={quote(self.token)}"

    def token_ok(self, offered: str | None) -> bool:
        import hmac

        return offered is not None and hmac.compare_digest(offered.encode(), self.token.encode())

    def allows(self, query_token: str | None, cookie_token: str | None) -> bool:
        return self.token_ok(query_token) or self.token_ok(cookie_token)

    def origin_ok(self, origin: str | None) -> bool:
        return origin is not None and origin.rstrip("/") == self.origin


def access_middleware(access: ServeAccess) -> Callable[..., Any]:
    """An aiohttp middleware: 403 without the token, 403 for a WebSocket from another origin."""
    from aiohttp import hdrs, web

    @web.middleware
    async def check_access(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        query_token = request.query.get("token")
        if not access.allows(query_token, request.cookies.get(access.cookie)):
            return web.Response(status=403, text=FORBIDDEN_TEXT)
        upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
        if upgrade and not access.origin_ok(request.headers.get(hdrs.ORIGIN)):
            return web.Response(
                status=403,
                text=f"403 Forbidden: the app's WebSocket opens only from {access.origin}.\n",
            )
        response = await handler(request)
        if access.token_ok(query_token) and not upgrade:
            # The page's scripts, styles, WebSocket and downloads then carry the token themselves.
            response.set_cookie(
                access.cookie, access.token, httponly=True, samesite="Strict", path="/"
            )
        return response

    return check_access


def token_server(command: str, *, host: str, port: int, title: str, access: ServeAccess) -> Any:
    """A textual-serve Server for `command` that lets through only requests `access` allows."""
    from aiohttp import web
    from textual_serve.server import Server  # loaded only for this verb

    class TokenServer(Server):
        """textual-serve with the access check in front of every route."""

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(access_middleware(access))
            return app

        async def on_startup(self, app: web.Application) -> None:
            # textual-serve would print the address without its token; cmd_serve printed it whole.
            return None

    return TokenServer(command, host=host, port=port, title=title, public_url=access.origin)


def serve_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each browser that connects: this same app."""
    from .session import session_path

    command = [sys.executable, "-m", "wizard.cli"]
    if getattr(args, "demo", False):
        if args.session or getattr(args, "profile", None):
            fail("--demo brings its own session and provider profile", Exit.USAGE)
        return shlex.join([*command, "--demo"])
    if getattr(args, "profile", None):
        command += ["--profile", str(Path(args.profile).resolve())]
    if args.session:
        command += ["--resume", str(session_path(args.session).resolve())]
    return shlex.join(command)


def cmd_serve(args: argparse.Namespace) -> int:
    from .session import session_path

    if args.session and not session_path(args.session).exists():
        fail(f"there is no session named {args.session!r} (see `onboard sessions`)", Exit.NOT_FOUND)
    if not is_loopback(args.host):
        print(
            "\n"
            "  !!! WARNING: onboard serve is listening on "
            f"{args.host}:{args.port}, not on 127.0.0.1.\n"
            "  !!! Anyone who can reach this address and learns the link below (with its token)\n"
            "  !!! can open the app and the customer's session, and start copies with its stored\n"
            "  !!! passwords; the link travels unencrypted over plain http. Share your screen or\n"
            "  !!! use an SSH tunnel instead; stop this (ctrl+c) when the call is over.\n",
            file=sys.stderr,
            flush=True,
        )
    access = ServeAccess.new(args.host, args.port)
    title = f"onboard · {Path(args.session).stem}" if args.session else "onboard"
    server = token_server(
        serve_command(args), host=args.host, port=args.port, title=title, access=access
    )
    print(
        f"Serving onboard on {access.url}\n"
        "Open that link (it holds this run's token; without it the server answers 403). One app "
        "per browser tab; a session opens in one tab at a time. ctrl+c stops it.",
        file=sys.stderr,
        flush=True,
    )
    server.serve()
    return Exit.OK


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="run the app in a web browser (for sharing during a call), on 127.0.0.1, "
        "behind a link with a token made per start",
    )
    p.add_argument("session", nargs="?", help="open this session (default: the start screen)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; any other is warned about)",
    )
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--profile", metavar="FILE", help="provider profile (TOML) for new sessions")
    p.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,
        help="serve the demo (local demo servers start in each browser tab's app)",
    )
    p.set_defaults(handler=cmd_serve)
