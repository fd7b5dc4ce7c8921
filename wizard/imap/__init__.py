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

from ..lazy_exports import lazy_exports

# Imported on first use: a light submodule (settings, an enum) loads alone.
__getattr__, __all__ = lazy_exports(
    __name__,
    {
        "..tls": ("CertificateInfo",),
        ".connection": ("close", "connect", "fetch_certificate"),
        ".errors": ("FailureCode", "ImapError", "ImapFailure"),
        ".fetch": (
            "FetchedMessage",
            "FolderState",
            "examine",
            "fetch_messages",
            "list_uids",
            "message_sizes",
        ),
        ".folders": ("Folder", "Role", "list_folders"),
        ".settings": (
            "AuthMode",
            "ImapServerSettings",
            "Security",
            "load_settings",
            "save_settings",
        ),
    },
)
