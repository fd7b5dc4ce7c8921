"""The Exchange target engine over EWS (exchangelib): settings, connection, mailbox checks,
folders, writing messages from MIME. No Textual here.

Public API (for the copy engine, the CLI and the screens):

- ``settings``: ``ExchangeSettings``, ``AuthType``, ``Access``, ``load_settings``/``save_settings``
- ``connection``: ``open_account``, ``check_transport``, ``fetch_certificate``, ``discover_ews_url``
- ``mailbox``: ``ExchangeMailbox`` (``open``, ``check``, ``folders``, ``special_folder``,
  ``ensure_folder``, ``write``, ``find_by_message_id``, ``count``, ``read_messages``, ``close``),
  ``check_mailbox``, ``MimeMessage``, ``WriteOutcome``, ``WriteLimits``, ``Waiting``
- ``errors``: ``ExchangeError`` (carries an ``ExchangeFailure`` with a stable ``FailureCode``)
"""

from .connection import check_transport, discover_ews_url, fetch_certificate, open_account
from .errors import ExchangeError, ExchangeFailure, FailureCode
from .mailbox import (
    ExchangeMailbox,
    FolderInfo,
    FolderRef,
    MailboxCheck,
    MimeMessage,
    StoredMessage,
    Waiting,
    WriteLimits,
    WriteOutcome,
    check_mailbox,
)
from .settings import Access, AuthType, ExchangeSettings, load_settings, save_settings

__all__ = [
    "Access",
    "AuthType",
    "ExchangeError",
    "ExchangeFailure",
    "ExchangeMailbox",
    "ExchangeSettings",
    "FailureCode",
    "FolderInfo",
    "FolderRef",
    "MailboxCheck",
    "MimeMessage",
    "StoredMessage",
    "Waiting",
    "WriteLimits",
    "WriteOutcome",
    "check_mailbox",
    "check_transport",
    "discover_ews_url",
    "fetch_certificate",
    "load_settings",
    "open_account",
    "save_settings",
]
