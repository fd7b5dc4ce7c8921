"""Where onboard keeps its files: the user's data directory (sessions, exports, the secrets file)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    """The user's data directory for onboard (ONBOARD_DATA_DIR overrides it, e.g. in tests)."""
    override = os.environ.get("ONBOARD_DATA_DIR")
    return (
        Path(override) if override else Path(platformdirs.user_data_dir("onboard", appauthor=False))
    )
