"""Exchange's error texts may quote what the client sent: a password held by this process never
survives into the classified failure the operator, the evidence and the log see."""

from __future__ import annotations

from exchangelib.errors import ErrorAccessDenied, UnauthorizedError

from tests.imap.test_echoed_secrets import PASSWORD, encodings
from wizard.devservers.ews import EwsSandbox
from wizard.exchange.connection import make_config
from wizard.exchange.errors import classify

from .conftest import service_settings


def test_an_exchange_error_quoting_the_password_loses_it(ews_sandbox: EwsSandbox) -> None:
    settings = service_settings(ews_sandbox)
    make_config(settings, "svc-migration@example.test", PASSWORD)  # as every EWS connection
    forms = encodings()
    for exc in (
        UnauthorizedError(f"Invalid credentials svc-migration:{PASSWORD} ({forms['base64']})"),
        ErrorAccessDenied(f"Access denied for {forms['sasl-plain-authzid']} / {forms['url']}"),
    ):
        failure = classify(exc, settings, "anna@example.test")
        shown = f"{failure.message} {failure.detail}"
        for name, form in forms.items():
            assert form not in shown, name
        assert "[redacted]" in shown
