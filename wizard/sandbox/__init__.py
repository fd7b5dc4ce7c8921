"""An EWS stand-in server for tests, benchmarks and the demo mode (no Textual here).

``EwsSandbox`` (server.py) runs it; ``faults`` injects throttling and outages; the mailboxes
(model.py) can be inspected directly: folders, items with their MIME bytes and MAPI properties.
"""

from .faults import FaultInjector, FaultRule, FiredFault, IncomingItem
from .model import (
    MSGFLAG_READ,
    MSGFLAG_UNSENT,
    PR_CLIENT_SUBMIT_TIME,
    PR_FLAG_STATUS,
    PR_MESSAGE_DELIVERY_TIME,
    PR_MESSAGE_FLAGS,
    PropertyKey,
    PropertyValue,
    SandboxFolder,
    SandboxItem,
    SandboxMailbox,
)
from .ntlm import ntlm_available
from .server import EWS_PATH, EwsSandbox, RequestRecord
from .soap import SANDBOX_API_VERSION, SANDBOX_BUILD

__all__ = [
    "EWS_PATH",
    "MSGFLAG_READ",
    "MSGFLAG_UNSENT",
    "PR_CLIENT_SUBMIT_TIME",
    "PR_FLAG_STATUS",
    "PR_MESSAGE_DELIVERY_TIME",
    "PR_MESSAGE_FLAGS",
    "SANDBOX_API_VERSION",
    "SANDBOX_BUILD",
    "EwsSandbox",
    "FaultInjector",
    "FaultRule",
    "FiredFault",
    "IncomingItem",
    "PropertyKey",
    "PropertyValue",
    "RequestRecord",
    "SandboxFolder",
    "SandboxItem",
    "SandboxMailbox",
    "ntlm_available",
]
