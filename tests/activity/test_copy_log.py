"""A real copy between two Dovecot servers leaves its story in the session's activity log."""

from __future__ import annotations

import json
import uuid
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from tests.servers.dovecot import SeedMessage, make_message
from wizard import activity
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.copy.errors import Throttled
from wizard.copy.session_jobs import SOURCE_SETTING, TARGET_SETTING
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.session import create_session, session_path


@pytest.fixture(scope="module")
def servers(dovecot_factory):  # type: ignore[no-untyped-def]
    return dovecot_factory(), dovecot_factory(separator=".")


def make_session(servers) -> tuple[str, str, str, str]:  # type: ignore[no-untyped-def]
    source, target = servers
    src = source.add_user()
    dst = target.add_user(f"anna{uuid.uuid4().hex[:8]}@log.example")  # logs in as its address
    address = dst.login
    source.seed(src.login, "INBOX", [make_message(n) for n in range(5)])
    source.seed(src.login, "Projects/2026", [SeedMessage(make_message(9), flags=("\\Seen",))])
    store = create_session("Copy Log", "log.example", example_profile())
    store.add_mailboxes([(src.login, address, "Anna")])
    store.set_setting(
        SOURCE_SETTING, {"host": source.host, "port": source.imap_port, "security": "none"}
    )
    store.set_setting(
        TARGET_SETTING,
        {"url": f"imap://{target.host}:{target.imap_port}?tls=none"},
    )
    secrets = SecretStore(store.name)
    secrets.set(source_password_key(src.login), src.password)
    secrets.set(target_password_key(address), dst.password)
    name = store.name
    store.close()
    return name, address, src.password, dst.password


def test_copy_writes_the_log_beside_the_session_without_passwords(servers, capsys) -> None:  # type: ignore[no-untyped-def]
    name, address, source_pw, target_pw = make_session(servers)
    assert main(["copy", name, "--json"]) == Exit.OK
    capsys.readouterr()

    log = activity.log_path(session_path(name))
    assert log.parent == session_path(name).parent and log.is_file()
    raw = log.read_text(encoding="utf-8")
    assert source_pw not in raw and target_pw not in raw
    records = [json.loads(line) for line in raw.splitlines()]
    assert all(r["engine"] == "copy" for r in records)
    mine = [r for r in records if r["mailbox"] == address]
    events = [r["event"] for r in mine]
    assert "started" in events and events[-1] == "done"
    connects = [r["fields"]["side"] for r in mine if r["event"] == "connect"]
    assert connects == ["source", "target"]
    folders = {r["fields"]["folder"] for r in mine if r["event"] == "folder"}
    assert {"INBOX", "Projects.2026"} <= folders
    batches = [r for r in mine if r["event"] == "batch"]
    assert sum(r["fields"]["messages"] for r in batches) == 6
    assert all(r["fields"]["bytes"] > 0 for r in batches)
    assert mine[-1]["message"].startswith("6 copied")


def test_a_password_echoed_by_an_engine_is_redacted(servers, capsys) -> None:  # type: ignore[no-untyped-def]
    """The copy's own passwords (from the keyring) are what the filter removes."""
    from wizard.store import SessionStore

    name, address, source_pw, target_pw = make_session(servers)
    with SessionStore.open(session_path(name)) as store:
        activity.log_event(
            store, "error", "imap", "login", f"server said: bad {source_pw}", mailbox=address
        )
        activity.close_log(store)
    raw = activity.log_path(session_path(name)).read_text()
    assert source_pw not in raw and "server said: bad [redacted]" in raw


def test_report_with_log_bundles_report_log_and_readme(servers, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name, address, source_pw, target_pw = make_session(servers)
    assert main(["copy", name]) == Exit.OK
    capsys.readouterr()
    assert main(["report", name, "--format", "html", "--with-log"]) == Exit.OK
    out = capsys.readouterr().out
    path = Path(out.strip().rsplit(" to ", 1)[1])
    assert path.is_file() and path.suffix == ".zip"
    with zipfile.ZipFile(path) as bundle:
        names = bundle.namelist()
        assert sorted(names) == sorted(
            ["README.txt", f"{name}-onboarding-report.html", f"logs/{name}.onboard.log"]
        )
        readme = bundle.read("README.txt").decode()
        report = bundle.read(f"{name}-onboarding-report.html").decode()
        log = bundle.read(f"logs/{name}.onboard.log").decode()
    assert "Copy Log" in readme and "[redacted]" in readme and f"logs/{name}.onboard.log" in readme
    assert "Activity log" in report and f"{name}.onboard.log" in report
    records = [json.loads(line) for line in log.splitlines()]
    assert any(r["event"] == "batch" and r["mailbox"] == address for r in records)
    for secret in (source_pw, target_pw):
        assert secret not in log and secret not in report

    chosen = tmp_path / "for-colleague.zip"
    assert main(["report", name, "--with-log", "-o", str(chosen)]) == Exit.OK
    assert str(chosen) in capsys.readouterr().out
    with zipfile.ZipFile(chosen) as bundle:
        assert f"{name}-onboarding-report.md" in bundle.namelist()


def test_verification_is_logged_too(servers, capsys) -> None:  # type: ignore[no-untyped-def]
    name, address, _source_pw, _target_pw = make_session(servers)
    assert main(["copy", name]) == Exit.OK
    assert main(["verify", name]) == Exit.OK
    capsys.readouterr()
    records = activity.read_records(session_path(name))
    checks = [r for r in records if r.engine == "verify" and r.mailbox == address]
    assert [r.event for r in checks] == ["started", "done"]
    assert checks[-1].level == "info"


class BusyOnce:
    """A real target that answers the first upload with "slow down", as a busy Exchange does."""

    busy = True

    def __init__(self, target) -> None:  # type: ignore[no-untyped-def]
        self.target = target

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.target, name)

    def append(self, folder, messages):  # type: ignore[no-untyped-def]
        if BusyOnce.busy:
            BusyOnce.busy = False
            raise Throttled("target: the server is busy", retry_after=0.2)
        return self.target.append(folder, messages)


def test_throttling_waits_and_retries_are_logged(servers) -> None:  # type: ignore[no-untyped-def]
    from wizard.copy.engine import CopyEngine, CopySettings
    from wizard.copy.folder_map import PlanOptions
    from wizard.copy.ledger import CopyLedger
    from wizard.copy.session_jobs import session_jobs
    from wizard.store import SessionStore

    name, address, _source_pw, _target_pw = make_session(servers)
    with SessionStore.open(session_path(name)) as store:
        (job,) = session_jobs(store, [], PlanOptions(), interactive=False)
        real_target = job.target
        job = replace(job, target=lambda sink: BusyOnce(real_target(sink)))
        settings = CopySettings(backoff_initial=0.01, backoff_max=0.05)
        sink = activity.event_logger(store, "copy")
        result = CopyEngine(CopyLedger(store), [job], settings, sink=sink).run()
        assert result.ok and result.copied == 6
    records = activity.read_records(session_path(name))
    problems = [(r.level, r.event) for r in records if r.level != "info"]
    assert problems == [("warning", "retry"), ("warning", "throttle")]
    (throttle,) = [r for r in records if r.event == "throttle"]
    assert throttle.mailbox == address and throttle.fields["seconds"] >= 0.2
    assert "waiting" in throttle.message
    assert sum(r.fields["messages"] for r in records if r.event == "batch") == 6
