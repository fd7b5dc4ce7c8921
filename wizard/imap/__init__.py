"""The IMAP source engine: settings, connection, folders, read-only fetching, sizing, tests.

No Textual here. Public API (stable for the copy engine and the screens):

- ``settings``: ``ImapServerSettings``, ``Security``, ``AuthMode``, ``load_settings``/``save_settings``
- ``connection``: ``connect(settings, login, secret) -> IMAPClient``, ``fetch_certificate``, ``close``
- ``folders``: ``list_folders(client) -> list[Folder]``, ``Role``
- ``fetch``: ``examine``, ``list_uids``, ``message_sizes``, ``fetch_messages``
- ``errors``: ``ImapError`` (carries an ``ImapFailure`` with a stable ``FailureCode``)
- ``sizing``: ``size_mailbox(client) -> MailboxSize``, ``folder_size`` (STATUS=SIZE or RFC822.SIZE)
- ``probe``: ``probe_mailbox(settings, login, secret) -> ProbeResult``, ``run_probes`` (step 4)
"""

from ..tls import CertificateInfo
from .connection import close, connect, fetch_certificate
from .errors import FailureCode, ImapError, ImapFailure
from .fetch import FetchedMessage, FolderState, examine, fetch_messages, list_uids, message_sizes
from .folders import Folder, Role, list_folders
from .settings import AuthMode, ImapServerSettings, Security, load_settings, save_settings

__all__ = [
    "AuthMode",
    "CertificateInfo",
    "FailureCode",
    "FetchedMessage",
    "Folder",
    "FolderState",
    "ImapError",
    "ImapFailure",
    "ImapServerSettings",
    "Role",
    "Security",
    "close",
    "connect",
    "examine",
    "fetch_certificate",
    "fetch_messages",
    "list_folders",
    "list_uids",
    "load_settings",
    "message_sizes",
    "save_settings",
]
