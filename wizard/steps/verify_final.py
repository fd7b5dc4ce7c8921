"""Verify-final step: source and target compared once more after the differential copy.

Records "verification" evidence, as the check after the initial copy does.
"""

from __future__ import annotations

from ..playbook import Kind
from .verify_initial import VerificationController


class VerifyFinalController(VerificationController):
    kind = Kind.VERIFY_FINAL
