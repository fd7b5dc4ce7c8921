"""The report with the activity log, as one zip file for the customer or a colleague.

``onboard report SESSION --with-log`` writes it. The log lines are redacted when written; they are
redacted again on the way into the zip with the secrets known now (a password stored after a line
was written is still kept out).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from ..activity import log_files
from ..exports import private_file
from ..redaction import Redactor
from ..store import SessionStore, now_iso
from . import render_report, report_filename

README = """\
Onboarding of {customer} ({domain}) to {provider}
Session: {session}    Bundle written: {written}

What is in this bundle
- {report}: the completion report (steps, who did what and when, evidence, copy
  and verification figures, open items).
- logs/{log}: the activity log, one JSON object per line:
  time (UTC), level (debug/info/warning/error), engine (copy, imap, exchange, dns ...), mailbox,
  event (connect, folder, batch, retry, throttle, failure, done ...), message and fields.
  Older lines are in the files ending .1 to .{backups} (.{backups} is the oldest).
  Passwords and tokens were removed before the lines were written and again for this bundle;
  they show as [redacted].

Reading the log
- Every line of one mailbox:    grep '"mailbox": "anna@example.com"' logs/*.log*
- Only problems:                grep -E '"level": "(warning|error)"' logs/*.log*
- In a terminal with jq:        jq -r '[.time,.level,.mailbox,.message]|@tsv' logs/{log}

Questions about this onboarding: {support}
"""


def _redacted_line(line: str, redactor: Redactor) -> str:
    """One log line redacted as data (a JSON string's escapes cannot hide a secret)."""
    try:
        data = json.loads(line)
    except ValueError:
        return redactor.text(line)
    return json.dumps(redactor.value(data), ensure_ascii=False)


def bundle_filename(store: SessionStore) -> str:
    return f"{store.name}-onboarding-report-with-log.zip"


def write_bundle(store: SessionStore, fmt: str, path: Path) -> Path:
    """Write the report (in ``fmt``), the redacted log files and a README into a zip at ``path``."""
    from ..activity import BACKUP_COUNT, log_path

    redactor = Redactor.for_session(store)
    report_name = report_filename(store, fmt)
    support = store.profile.support
    readme = README.format(
        customer=store.customer,
        domain=store.domain,
        provider=store.profile.name,
        session=store.name,
        written=now_iso(),
        report=report_name,
        log=log_path(store).name,
        backups=BACKUP_COUNT,
        support=", ".join(x for x in (support.email, support.phone, support.url) if x) or "-",
    )
    with (
        private_file(path) as out,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle,
    ):
        bundle.writestr("README.txt", readme)
        bundle.writestr(report_name, render_report(store, fmt, "operator"))
        for log in log_files(store):
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            text = "".join(_redacted_line(line, redactor) + "\n" for line in lines)
            bundle.writestr(f"logs/{log.name}", text)
    return path


__all__ = ["bundle_filename", "write_bundle"]
