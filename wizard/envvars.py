"""The environment variables `onboard` reads, named once (a light module: the command line's
help names them before any engine is imported)."""

from __future__ import annotations

PASSPHRASE_ENV = "ONBOARD_SECRETS_PASSPHRASE"
# The headless verbs' passwords, read from the environment (never from the command line).
SOURCE_PASSWORD_ENV = "ONBOARD_SOURCE_PASSWORD"
DEST_PASSWORD_ENV = "ONBOARD_DEST_PASSWORD"

__all__ = ["DEST_PASSWORD_ENV", "PASSPHRASE_ENV", "SOURCE_PASSWORD_ENV"]
