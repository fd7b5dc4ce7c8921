"""The EWS stand-in: a small Exchange Web Services server on the standard library's HTTP server.

    with EwsSandbox(users={"anna@example.test": "secret"}) as ews:
        config = Configuration(
            service_endpoint=ews.url, credentials=Credentials("anna@example.test", "secret"),
            auth_type=BASIC, version=Version(Build(*SANDBOX_BUILD), SANDBOX_API_VERSION))

It speaks HTTP or HTTPS (a generated self-signed certificate, ``fingerprint`` is its SHA-256),
checks Basic and NTLM (v2) logins against its users, honours the ExchangeImpersonation header
for service accounts allowed to impersonate, keeps mailboxes in memory (and in ``storage_dir``
if given), answers POX Autodiscover with its own EWS URL (``autodiscover_redirects`` maps an
address to a redirect, see autodiscover.py), and injects faults through ``faults`` (see
faults.py). Each answer goes out in one
write with Nagle off, so a keep-alive client is not held up by delayed ACKs.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import socket
import ssl
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from .autodiscover import AUTODISCOVER_PATH, autodiscover_answer
from .ews import EwsOperations
from .faults import FaultInjector
from .model import MailboxStore, SandboxMailbox
from .ntlm import make_challenge, message_type, ntlm_available, verify
from .soap import DEFAULT_API_VERSION, SoapFault, fault_response, parse_request
from .tls import SelfSignedCertificate, make_self_signed

EWS_PATH = "/EWS/Exchange.asmx"
REALM = "EWS sandbox"
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class RequestRecord:
    """One request as the stand-in saw it (for tests: what did the client send?)."""

    operation: str
    login: str
    status: int
    impersonated: str | None = None
    request_bytes: int = 0


class EwsSandbox:
    """An EWS stand-in on ``host``; ``port=0`` picks a free port. Use as a context manager or
    call ``start()``/``stop()``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        users: dict[str, str] | None = None,
        storage_dir: str | Path | None = None,
        *,
        max_request_bytes: int = 64 * 1024 * 1024,
        max_message_bytes: int | None = None,
        auth: tuple[str, ...] = ("basic", "ntlm"),
        autosave_seconds: float = 1.0,
    ) -> None:
        self.host = host
        self.auth = tuple(a for a in auth if a != "ntlm" or ntlm_available())
        self.port = port
        self.tls = tls
        self.storage_dir = Path(storage_dir) if storage_dir else None
        self.max_request_bytes = max_request_bytes
        self.store = MailboxStore()
        self.faults = FaultInjector()
        self.operations = EwsOperations(
            self.store, self.faults, max_message_bytes=max_message_bytes
        )
        self.requests: list[RequestRecord] = []
        self.autodiscover_redirects: dict[str, str] = {}  # address (lower case) -> address or URL
        self.errors: list[str] = []  # tracebacks of requests the stand-in failed on (its bugs)
        self.certificate: SelfSignedCertificate | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._saver: threading.Thread | None = None
        self._stopping = threading.Event()
        self.autosave_seconds = autosave_seconds  # with storage_dir: save changes this often
        if self.storage_dir:
            self.store.load(self.storage_dir)
        for address, password in (users or {}).items():
            self.add_mailbox(address, password)

    # -- accounts -------------------------------------------------------------------------------

    def add_mailbox(
        self,
        address: str,
        password: str | None = None,
        display_name: str | None = None,
        *,
        quota_bytes: int | None = None,
    ) -> SandboxMailbox:
        """A mailbox; with a password its owner can log in (as the address). ``quota_bytes``
        limits what it holds (ErrorQuotaExceeded per item) and is readable as MAPI quotas."""
        mailbox = self.store.add_mailbox(address, display_name)
        if quota_bytes is not None:
            mailbox.quota_bytes = quota_bytes
        if password is not None:
            with self.store.lock:
                self.store.passwords[address.lower()] = password
        return mailbox

    def add_service_account(self, login: str, password: str, *, impersonate: bool = True) -> None:
        """A login without a mailbox; with ``impersonate`` it holds ApplicationImpersonation."""
        with self.store.lock:
            self.store.passwords[login.lower()] = password
            if impersonate:
                self.store.impersonators.add(login.lower())
            else:
                self.store.impersonators.discard(login.lower())

    def grant_full_access(self, login: str, address: str) -> None:
        """Delegate (FullAccess) rights for ``login`` on a mailbox, without impersonation."""
        with self.store.lock:
            self.store.delegates.setdefault(login.lower(), set()).add(address.lower())

    def mailbox(self, address: str) -> SandboxMailbox:
        found = self.store.mailbox(address)
        if found is None:
            raise KeyError(f"the sandbox has no mailbox {address}")
        return found

    @property
    def mailboxes(self) -> list[SandboxMailbox]:
        with self.store.lock:
            return list(self.store.mailboxes.values())

    # -- life cycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the EWS sandbox is not running")
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}{EWS_PATH}"

    @property
    def fingerprint(self) -> str | None:
        """SHA-256 of the HTTPS certificate (lower-case hex), None over plain HTTP."""
        return self.certificate.fingerprint if self.certificate else None

    def start(self) -> EwsSandbox:
        if self._server is not None:
            return self
        self._stopping.clear()
        context = None
        if self.tls:
            cert_dir = self.storage_dir
            if cert_dir is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="ews-sandbox-")
                cert_dir = Path(self._tmp.name)
            self.certificate = make_self_signed(cert_dir, self.host)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.certificate.cert_path, self.certificate.key_path)
        server = _Server((self.host, self.port), _Handler, self, context)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"ews-sandbox-{self.port}",
        )
        self._thread.start()
        if self.storage_dir:
            self._saver = threading.Thread(
                target=self._autosave, daemon=True, name=f"ews-sandbox-save-{self.port}"
            )
            self._saver.start()
        return self

    def _autosave(self) -> None:
        """Save changed mailboxes every ``autosave_seconds`` while running, so a killed demo
        keeps what was written before."""
        saved = self.store.version
        while not self._stopping.wait(self.autosave_seconds):
            if self.store.version != saved:
                saved = self.store.version
                self.save()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        if self._saver is not None:
            self._saver.join(timeout=10)
            self._saver = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        if self.storage_dir:
            self.save()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def save(self) -> None:
        """Write the mailboxes to ``storage_dir`` (also done by ``stop()``)."""
        if self.storage_dir is None:
            raise RuntimeError("the EWS sandbox has no storage directory")
        self.store.save(self.storage_dir)

    def __enter__(self) -> EwsSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- serving --------------------------------------------------------------------------------

    def check_login(self, header: str | None) -> str | None:
        """The login named by a valid Basic Authorization header, or None."""
        if "basic" not in self.auth or not header or not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        with self.store.lock:
            expected = self.store.passwords.get(user.lower())
        return user if expected is not None and expected == password else None

    def check_ntlm(self, token: bytes, server_challenge: bytes) -> str | None:
        with self.store.lock:
            passwords = dict(self.store.passwords)
        return verify(token, server_challenge, passwords)

    def answer(self, body: bytes, login: str) -> tuple[int, bytes, str, str | None]:
        """(status, response body, operation, impersonated mailbox) for one SOAP request."""
        try:
            request = parse_request(body)
        except SoapFault as fault:
            return 500, fault_response(fault), "?", None
        impersonated = request.impersonated()
        try:
            return 200, self.operations.handle(request, login), request.operation, impersonated
        except SoapFault as fault:
            answer = fault_response(fault, request.api_version)
            return 500, answer, request.operation, impersonated
        except Exception as exc:  # a bug here must reach the client and the test, not vanish
            self.errors.append(f"{request.operation}: {traceback.format_exc()}")
            fault = SoapFault("ErrorInternalServerError", f"EWS sandbox bug: {exc!r}")
            return 500, fault_response(fault, request.api_version), request.operation, impersonated


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        sandbox: EwsSandbox,
        context: ssl.SSLContext | None,
    ) -> None:
        self.sandbox = sandbox
        self.context = context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's own thread, not in the accept loop.
        if self.context is not None:
            try:
                request.settimeout(30)
                request = self.context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        with self._open_lock:
            self._open.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-request (reset, timed out, TLS torn down) is dropped quietly, as a
        real server would; anything else is a fault of the stand-in and printed as before."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._open_lock:
            open_sockets = list(self._open)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    timeout = 300
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.ntlm_login: str | None = None  # NTLM logs in a connection, not a request
        self.ntlm_challenge: bytes | None = None
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/xml; charset=utf-8",
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Server", self.server_version),
            ("X-EwsSandbox", "1"),  # not a step number: a marker header
            *(extra or []),
        ]
        if self.close_connection:
            headers.append(("Connection", "close"))
        head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers
        )
        self.wfile.write(head.encode("latin-1") + b"\r\n" + body)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _refuse(self, body: bytes, extra: list[tuple[str, str]] | None = None) -> None:
        sandbox = self.server.sandbox
        sandbox.requests.append(RequestRecord("?", "", 401, None, len(body)))
        offers = extra or [
            *([("WWW-Authenticate", "NTLM")] if "ntlm" in sandbox.auth else []),
            *([("WWW-Authenticate", f'Basic realm="{REALM}"')] if "basic" in sandbox.auth else []),
        ]
        self._send(
            401,
            b"401 - Unauthorized: Access is denied due to invalid credentials.",
            "text/html",
            offers,
        )

    def _login(self, body: bytes) -> str | None:
        """The login of this request, or None after answering 401 (a refusal or an NTLM leg)."""
        sandbox = self.server.sandbox
        header = self.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("ntlm", "negotiate") and "ntlm" in sandbox.auth:
            try:
                token = base64.b64decode(value.strip())
            except binascii.Error:
                token = b""
            kind = message_type(token)
            if kind == 1:
                challenge, self.ntlm_challenge = make_challenge(token)
                encoded = base64.b64encode(challenge).decode()
                self._refuse(body, [("WWW-Authenticate", f"{scheme} {encoded}")])
                return None
            if kind == 3 and self.ntlm_challenge is not None:
                login = sandbox.check_ntlm(token, self.ntlm_challenge)
                self.ntlm_challenge = None
                if login is not None:
                    self.ntlm_login = login
                    return login
            self._refuse(body)
            return None
        if header:
            login = sandbox.check_login(header)
            if login is None:
                self._refuse(body)
            return login
        if self.ntlm_login is not None:
            return self.ntlm_login
        self._refuse(body)
        return None

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._send(405, b"EWS takes SOAP requests by POST.", "text/plain; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        sandbox = self.server.sandbox
        path = self.path.split("?", 1)[0].lower()
        if path == AUTODISCOVER_PATH:
            self._autodiscover()
            return
        if path != EWS_PATH.lower():
            self._read_body()
            self._send(404, b"Not found", "text/plain; charset=utf-8")
            return
        body = self._read_body() or b""
        login = self._login(body)
        if login is None:
            return
        if len(body) > sandbox.max_request_bytes:
            sandbox.requests.append(RequestRecord("?", login, 413, None, len(body)))
            self.close_connection = True
            self._send(413, b"Request Entity Too Large", "text/plain; charset=utf-8")
            return
        operation = _peek_operation(body)
        delay = sandbox.faults.delay_for(operation)
        if delay:
            time.sleep(delay)
        rule = sandbox.faults.request_fault(operation)
        if rule is not None:
            sandbox.requests.append(RequestRecord(operation, login, 0, None, len(body)))
            if rule.kind == "drop":
                if rule.after_processing:
                    sandbox.answer(body, login)
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if rule.kind == "http":
                extra = [("Retry-After", str(rule.retry_after))] if rule.retry_after else []
                self._send(
                    rule.status,
                    f"{rule.status} {_REASONS.get(rule.status, 'Error')}".encode(),
                    "text/plain; charset=utf-8",
                    extra,
                )
                return
            fault = SoapFault(
                "ErrorServerBusy",
                "The server cannot service this request right now. Try again later.",
                back_off_ms=rule.back_off_ms,
            )
            self._send(500, fault_response(fault, DEFAULT_API_VERSION))
            return
        status, answer, operation, impersonated = sandbox.answer(body, login)
        sandbox.requests.append(RequestRecord(operation, login, status, impersonated, len(body)))
        self._send(status, answer)

    def _autodiscover(self) -> None:
        sandbox = self.server.sandbox
        body = self._read_body() or b""
        login = self._login(body)
        if login is None:
            return
        known = sandbox.store.mailbox
        answer = autodiscover_answer(
            body, sandbox.url, lambda a: known(a) is not None, sandbox.autodiscover_redirects
        )
        sandbox.requests.append(RequestRecord("Autodiscover", login, 200, None, len(body)))
        self._send(200, answer)


def _peek_operation(body: bytes) -> str:
    """The operation name without a full parse (faults are decided before parsing)."""
    marker = body.find(b"Body>")
    if marker < 0:
        return "?"
    start = body.find(b"<", marker)
    end = start + 1
    while end < len(body) and body[end : end + 1] not in (b" ", b">", b"/", b"\n", b"\r", b"\t"):
        end += 1
    name = body[start + 1 : end].decode("ascii", "replace")
    return name.rsplit(":", 1)[-1]
