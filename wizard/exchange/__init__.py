"""The Exchange target engine over EWS (exchangelib): settings, connection, mailbox checks,
folders, writing messages from MIME. No Textual here.

Public API (for the copy engine, the CLI and the screens; the copy engine's adapter over it is
``wizard.copy.exchange_target``):

- ``settings``: ``ExchangeSettings``, ``AuthType``, ``Access``, ``load_settings``/``save_settings``
- ``connection``: ``open_account``, ``check_transport``, ``fetch_certificate``
- ``autodiscover``: ``discover_ews_url`` (POX Autodiscover through the given DNS resolver)
  -> ``Autodiscovery`` (``ews_url``, ``attempts``: every candidate tried, ``failure``)
- ``mailbox``: ``ExchangeMailbox`` (``open``, ``check``, ``folders``, ``special_folder``,
  ``ensure_folder``, ``write``, ``find_by_message_id``, ``find_by_received``, ``message_ids``,
  ``count``, ``set_read``, ``read_messages``, ``close``), ``check_mailbox``, ``MimeMessage``,
  ``WriteOutcome``, ``WriteLimits``, ``Waiting``
- ``target_mailboxes``: a session's target mailboxes: ``check_mailboxes``, ``save_checks``,
  ``latest_checks``, ``export_provisioning`` (CSV + New-Mailbox PowerShell)
- ``errors``: ``ExchangeError`` (carries an ``ExchangeFailure`` with a stable ``FailureCode``)
"""

from ..lazy_exports import lazy_exports

# Imported on first use: a light submodule (settings, an enum) loads alone.
__getattr__, __all__ = lazy_exports(
    __name__,
    {
        ".autodiscover": ("AutodiscoverAttempt", "Autodiscovery", "discover_ews_url"),
        ".connection": ("check_transport", "fetch_certificate", "open_account"),
        ".errors": ("ExchangeError", "ExchangeFailure", "FailureCode"),
        ".mailbox": (
            "ExchangeMailbox",
            "FolderInfo",
            "FolderRef",
            "MailboxCheck",
            "MimeMessage",
            "StoredMessage",
            "Waiting",
            "WriteLimits",
            "WriteOutcome",
            "check_mailbox",
        ),
        ".settings": ("Access", "AuthType", "ExchangeSettings", "load_settings", "save_settings"),
    },
)
