"""An EWS stand-in server for tests, benchmarks and the demo mode (no Textual here).

``EwsSandbox`` (server.py) runs it; ``faults`` injects throttling and outages; the mailboxes
(model.py) can be inspected directly: folders, items with their MIME bytes and MAPI properties.

Like Exchange: a message created without PR_MESSAGE_FLAGS (0x0E07) is a draft (unsent bit);
PR_MESSAGE_DELIVERY_TIME (0x0E06) becomes DateTimeReceived and PR_CLIENT_SUBMIT_TIME (0x0039)
DateTimeSent (else the MIME Date header); a generic folder created without FolderClass has none;
the Archive folder is a plain folder under the message root (EWS has no distinguished id for it).
Unlike Exchange: GetItem returns the MIME bytes exactly as written (Exchange re-renders MIME from
its properties, so headers and encodings may differ there); no quotas, no sending, no archive
mailbox, no search folders; busy answers only when injected.
"""

from ...lazy_exports import lazy_exports

# Imported on first use: a light submodule (settings, an enum) loads alone.
__getattr__, __all__ = lazy_exports(
    __name__,
    {
        ".faults": ("FaultInjector", "FaultRule", "FiredFault", "IncomingItem"),
        ".model": (
            "MSGFLAG_READ",
            "MSGFLAG_UNSENT",
            "PR_CLIENT_SUBMIT_TIME",
            "PR_FLAG_STATUS",
            "PR_MESSAGE_DELIVERY_TIME",
            "PR_MESSAGE_FLAGS",
            "PropertyKey",
            "PropertyValue",
            "SandboxFolder",
            "SandboxItem",
            "SandboxMailbox",
        ),
        ".ntlm": ("ntlm_available",),
        ".server": ("EWS_PATH", "EwsSandbox", "RequestRecord"),
        ".soap": ("SANDBOX_API_VERSION", "SANDBOX_BUILD"),
    },
)
