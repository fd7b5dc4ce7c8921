"""The demo IMAP server answers the IMAP engine as an old server would: folders without
SPECIAL-USE (roles from the names), the generated messages byte for byte, pinned TLS."""

from __future__ import annotations

import pytest

from wizard.devservers.demo import DemoCompany, DemoImapServer
from wizard.imap import (
    FailureCode,
    ImapError,
    ImapServerSettings,
    Role,
    Security,
    connect,
    examine,
    fetch_messages,
    list_folders,
    list_uids,
)
from wizard.imap.connection import close


def settings_for(server: DemoImapServer, pin: str | None = None) -> ImapServerSettings:
    return ImapServerSettings(
        host=server.host,
        port=server.port,
        security=Security.IMPLICIT_TLS,
        pin=server.fingerprint if pin is None else pin,
        timeout=10,
    )


def test_folders_get_their_roles_from_the_names(
    demo_imap: DemoImapServer, demo_company: DemoCompany
) -> None:
    mailbox = demo_company.mailbox("juergen.weiss")
    client = connect(settings_for(demo_imap), mailbox.login, mailbox.password)
    try:
        folders = {f.name: f for f in list_folders(client)}
    finally:
        close(client)
    assert set(folders) >= {f.name for f in mailbox.folders}
    assert not any(f.special_use for f in folders.values())  # the server has no SPECIAL-USE
    assert folders["Gesendet"].role is Role.SENT
    assert folders["Entwürfe"].role is Role.DRAFTS
    assert folders["Papierkorb"].role is Role.TRASH
    assert folders["Spamverdacht"].role is Role.JUNK
    assert all(folders[n].role_from == "name" for n in ("Gesendet", "Entwürfe", "Papierkorb"))
    nested = folders["Buchhaltung/Rechnungen 2011"]
    assert nested.delimiter == "/" and nested.parts == ("Buchhaltung", "Rechnungen 2011")
    assert folders["INBOX/Wichtig"].role is None


def test_every_message_fetched_as_generated(
    demo_imap: DemoImapServer, demo_company: DemoCompany
) -> None:
    for mailbox in demo_company.mailboxes:
        client = connect(settings_for(demo_imap), mailbox.login, mailbox.password)
        try:
            for folder in mailbox.folders:
                state = examine(client, folder.name)
                assert state.exists == len(folder.messages), (mailbox.login, folder.name)
                fetched = list(fetch_messages(client, list_uids(client)))
                assert [m.raw for m in fetched] == [m.raw for m in folder.messages]
                assert [set(m.flags) for m in fetched] == [set(m.flags) for m in folder.messages]
        finally:
            close(client)


def test_non_ascii_folders_and_dates_survive_the_wire(
    demo_imap: DemoImapServer, demo_company: DemoCompany
) -> None:
    mailbox = demo_company.mailbox("mei.chen")
    client = connect(settings_for(demo_imap), mailbox.login, mailbox.password)
    try:
        names = [f.name for f in list_folders(client)]
        assert "项目/上海展会" in names
        examine(client, "项目/上海展会")
        uids = list_uids(client)
        data = client.fetch(uids[:1], ["INTERNALDATE"])
    finally:
        close(client)
    expected = mailbox.folder("项目/上海展会").messages[0].internal_date
    got = data[uids[0]][b"INTERNALDATE"]
    assert got.timestamp() == pytest.approx(expected.timestamp(), abs=1)


def test_wrong_password_and_wrong_pin_are_refused(
    demo_imap: DemoImapServer, demo_company: DemoCompany
) -> None:
    mailbox = demo_company.mailboxes[0]
    with pytest.raises(ImapError) as refused:
        connect(settings_for(demo_imap), mailbox.login, "not-the-password")
    assert refused.value.failure.code is FailureCode.LOGIN_REJECTED
    with pytest.raises(ImapError) as untrusted:
        connect(settings_for(demo_imap, pin="ab" * 32), mailbox.login, mailbox.password)
    assert untrusted.value.failure.code is FailureCode.CERTIFICATE_MISMATCH


def test_same_uidvalidity_on_every_start(demo_company: DemoCompany, demo_imap) -> None:
    """A resumed demo must see the same folders, or its copy would start again."""
    mailbox = demo_company.mailboxes[1]

    def validity(server: DemoImapServer) -> dict[str, int]:
        client = connect(settings_for(server), mailbox.login, mailbox.password)
        try:
            return {f.name: examine(client, f.name).uidvalidity for f in mailbox.folders}
        finally:
            close(client)

    first = validity(demo_imap)
    with DemoImapServer(demo_company, certificate=demo_imap.certificate) as second:
        assert second.port != demo_imap.port
        assert validity(second) == first


def test_listens_on_loopback_only(demo_company: DemoCompany) -> None:
    with pytest.raises(ValueError, match="loopback"):
        DemoImapServer(demo_company, host="0.0.0.0")
