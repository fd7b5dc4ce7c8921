"""Terms step: who at the customer agreed the account terms, and when.

Records "terms" evidence; saves the typed ``AgreedTerms`` as the setting "terms". Done is the
operator's call: no check speaks against it. The saved terms prove all three checklist items:
the customer got in touch, agreed, and its contact person is on record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..forms import check_email, check_name, parse_day
from ..playbook import Kind
from ..session_records import Evidence
from .base import Proof, StepController, proof_from

SETTING = "terms"


@dataclass(frozen=True)
class AgreedTerms:
    contact: str
    email: str
    phone: str
    agreed_on: str  # ISO day

    def describe(self) -> str:
        return f"Terms agreed on {self.agreed_on} with {self.contact} ({self.email})."


def describe(terms: AgreedTerms | None) -> str:
    return terms.describe() if terms else "Nothing recorded yet."


class TermsController(StepController):
    kind = Kind.TERMS
    records = ("terms",)

    def saved(self) -> AgreedTerms | None:
        data = self.store.setting(SETTING, {}) or {}
        if not data:
            return None
        return AgreedTerms(
            contact=str(data.get("contact", "")),
            email=str(data.get("email", "")),
            phone=str(data.get("phone", "")),
            agreed_on=str(data.get("agreed_on", "")),
        )

    def agree(self, *, contact: str, email: str, phone: str, agreed_on: str) -> Evidence:
        """Check what was typed and save it; raises ValueError saying what to fix."""
        terms = AgreedTerms(
            contact=check_name(contact, "contact person's name"),
            email=check_email(email, "contact's email address"),
            phone=phone.strip(),
            agreed_on=parse_day(agreed_on, "agreement date").isoformat(),
        )
        self.store.set_setting(SETTING, asdict(terms))
        return self.record("terms", terms.describe(), asdict(terms), ok=True)

    def proofs(self) -> dict[str, Proof]:
        proof = proof_from(self.latest("terms"))
        return {item: proof for item in ("contacted", "terms", "contact") if proof}

    def work_result(self) -> str:
        terms = self.saved()
        return terms.describe() if terms and self.latest("terms") else ""
