"""Who did a thing, as the customer reads it in the report: a person, or the provider's engineer
instead of a machine account ("root")."""

from __future__ import annotations

# Accounts a laptop runs as; the customer reads "the provider's engineer" instead of "root".
SYSTEM_ACCOUNTS = frozenset({"", "root", "admin", "administrator", "user", "ubuntu", "debian"})


def person(actor: str, provider: str) -> str:
    """Who did a thing, as the customer should read it."""
    if actor.strip().lower() in SYSTEM_ACCOUNTS:
        return f"{provider} engineer"
    return actor
