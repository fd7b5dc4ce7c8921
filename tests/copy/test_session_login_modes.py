"""A session's copy logs in to the source the way step 3 says: master user, SASL PLAIN with an
authorization identity, over implicit TLS with a pinned self-signed certificate."""

from __future__ import annotations

import json

import pytest

from tests.servers.dovecot import DovecotFactory, DovecotServer, make_message
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.copy.session_jobs import TARGET_SETTING
from wizard.imap import AuthMode, ImapServerSettings, Security, save_settings
from wizard.imap.credentials import master_secret_key
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.session import create_session


def _session(
    source: DovecotServer, target: DovecotServer, auth: AuthMode, tag: str
) -> tuple[str, list[str], str, str]:
    master = source.add_master()
    logins = []
    for i in range(2):
        account = source.add_user()
        with source.client(account.login) as client:
            for n in range(3 + i):
                client.append("INBOX", make_message(n, subject=f"{tag} {i}.{n}"), flags=("\\Seen",))
        logins.append(account.login)
    store = create_session(f"Login {tag}", "acme.example", example_profile())
    store.add_mailboxes([(login, f"{login}@acme.example", "") for login in logins])
    save_settings(
        store,
        ImapServerSettings(
            host=source.host,
            port=source.imaps_port,
            security=Security.IMPLICIT_TLS,
            auth=auth,
            master_user=master.login,
            pin=source.fingerprint,
        ),
    )
    store.set_setting(TARGET_SETTING, {"url": f"imap://{target.host}:{target.imap_port}?tls=none"})
    secrets = SecretStore(store.name)
    secrets.set(master_secret_key(master.login), master.password)
    for login in logins:
        address = f"{login}@acme.example"
        target.add_user(address)
        secrets.set(target_password_key(address), target.accounts[address].password)
        assert secrets.get(source_password_key(login)) is None  # only the master's password
    name = store.name
    store.close()
    return name, logins, master.login, master.password


@pytest.mark.parametrize("auth", [AuthMode.MASTER, AuthMode.SASL_AUTHZID])
def test_copy_logs_in_with_the_master_user_of_step_3(
    dovecot: DovecotServer,
    dovecot_factory: DovecotFactory,
    auth: AuthMode,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = dovecot_factory()
    name, logins, _master, master_password = _session(dovecot, target, auth, str(auth))

    assert main(["copy", name, "--json"]) == Exit.OK
    result = json.loads(capsys.readouterr().out)
    assert result["ok"]
    assert sorted(m["copied"] for m in result["mailboxes"]) == [3, 4]

    for i, login in enumerate(logins):
        with target.client(f"{login}@acme.example") as client:
            assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 3 + i
    assert master_password not in json.dumps(result)


def test_a_wrong_master_password_is_reported_in_the_imap_engine_words(
    dovecot: DovecotServer, dovecot_factory: DovecotFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    target = dovecot_factory()
    name, _logins, master, _password = _session(dovecot, target, AuthMode.MASTER, "wrong")
    SecretStore(name).set(master_secret_key(master), "not-the-password")

    code = main(["copy", name, "--json"])
    output = capsys.readouterr()
    assert code != Exit.OK
    text = output.out + output.err
    assert "rejected the login" in text or "refused" in text
    assert "not-the-password" not in text
