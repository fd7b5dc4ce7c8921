"""A mailbox's folders are listed with commands sent ahead, not one round trip per folder.

Over a WAN every command that waits for its answer costs a round trip: a mailbox of 200 folders
listed one folder at a time (EXAMINE, then the listing FETCH) waits some 400 round trips before
its first message is read. Against a real Dovecot: the folders' listings read ahead are the
ones read one at a time, they take a few writes to the server, and folders the server refuses,
empty ones and ones too large for one answer are left to the usual path, which still reads
them right.
"""

from __future__ import annotations

import pytest

import wizard.copy.source as source_module
from wizard.copy.connect import source_factory
from wizard.endpoint import parse_endpoint

from .corpus import WHEN, message
from .test_imap_to_imap import job_for, run, store  # noqa: F401 - the fixture

FOLDERS = [f"Projekte/P{n:02d}" for n in range(6)] + ["Leer"]
FOLDERS += [f"Projekte/P{n:02d}" for n in range(6, 12)] + ["Kunden/M\u00fcller & S\u00f6hne"]


def seed(server, user: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Folders with 1 to 3 messages each (flags and all) and an empty one, as a count per
    folder."""
    client = server.client(user)
    counts = {}
    try:
        for n, name in enumerate(FOLDERS):
            client.create_folder(name)
            count = 0 if name == "Leer" else n % 3 + 1
            for m in range(count):
                flags = ("\\Seen",) if m % 2 else ("\\Flagged", "$Label1")
                client.append(name, message(100 * n + m), flags=flags, msg_time=WHEN)
            counts[name] = count
        client.append("INBOX", message(9999), msg_time=WHEN)
        counts["INBOX"] = 1
    finally:
        client.logout()
    return counts


def held_on_target(server, user: str, counts: dict[str, int]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """How many messages the target holds in each source folder's counterpart."""
    target = server.client(user)
    try:
        return {
            name: target.select_folder(name.replace("/", "."), readonly=True)[b"EXISTS"]
            for name in counts
        }
    finally:
        target.logout()


def count_writes(source):  # type: ignore[no-untyped-def]
    """How many times the source's connection writes to the server from now on (each write
    that waits for an answer is a round trip)."""
    imap = source.client._imap  # noqa: SLF001
    writes = [0]
    real_send = imap.send

    def send(data: bytes) -> None:
        writes[0] += 1
        real_send(data)

    imap.send = send
    return writes


@pytest.mark.parametrize("headers", [False, True])
def test_listings_read_ahead_are_the_ones_read_one_by_one(dovecots, users, headers) -> None:  # type: ignore[no-untyped-def]
    src, _dst = dovecots
    counts = seed(src, users[0])
    source = source_factory(parse_endpoint(src.url(users[0])), src.password)()
    try:
        names = ["INBOX", *FOLDERS]
        one_by_one = {}
        for name in names:
            status = source.examine(name)
            one_by_one[name] = (status, source.list_messages(name, headers=headers))
        writes = count_writes(source)
        ahead = source.list_ahead([(name, headers) for name in names])
        assert writes[0] == 2  # the STATUS of every folder, then every EXAMINE and FETCH
        # The connection is left in the last folder, as examine() would have left it.
        last = source.list_messages(names[-1], headers=headers)
        assert writes[0] == 3
    finally:
        source.close()
    assert ahead == one_by_one
    assert {name: len(listing) for name, (_status, listing) in ahead.items()} == counts
    assert last == one_by_one[names[-1]][1]
    assert ahead["Leer"][1] == [] and ahead["Leer"][0].uidvalidity > 0


def test_refused_and_large_folders_are_left_to_the_usual_listing(
    dovecots, users, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    src, _dst = dovecots
    counts = seed(src, users[0])
    monkeypatch.setattr(source_module, "LIST_CHUNK", 2)  # folders of 3 are "too large"
    source = source_factory(parse_endpoint(src.url(users[0])), src.password)()
    try:
        asked = [(name, False) for name in ["Gibt es nicht", *FOLDERS, "Auch weg"]]
        ahead = source.list_ahead(asked)
        # What was left out is listed the usual way, on the same connection, and right.
        large = [name for name in FOLDERS if counts[name] > 2]
        listed = {name: len(source.list_messages(name, headers=False)) for name in large}
        with pytest.raises(Exception, match="Gibt es nicht|doesn't exist|NONEXISTENT"):
            source.examine("Gibt es nicht")
    finally:
        source.close()
    assert set(ahead) == {name for name in FOLDERS if counts[name] <= 2}
    assert listed == {name: counts[name] for name in large} and large


def test_a_copy_lists_its_folders_ahead_and_copies_all(dovecots, users, store) -> None:  # noqa: F811
    import dataclasses

    src, dst = dovecots
    counts = seed(src, users[0])
    job = job_for(dovecots, users)
    real_factory = job.source
    writes_during_scan: list[int] = []

    def counted():  # type: ignore[no-untyped-def]
        real = real_factory()
        writes = count_writes(real)
        real_ahead = real.list_ahead

        def list_ahead(folders):  # type: ignore[no-untyped-def]
            before = writes[0]
            out = real_ahead(folders)
            writes_during_scan.append(writes[0] - before)
            return out

        real.list_ahead = list_ahead  # type: ignore[method-assign]
        return real

    result, _events = run(store, dataclasses.replace(job, source=counted))
    assert result.state.value == "done" and result.copied == sum(counts.values()), result.error
    assert writes_during_scan == [2]
    assert held_on_target(dst, users[1], counts) == counts


def test_a_folder_is_opened_with_its_first_fetch_in_one_write(dovecots, users) -> None:  # type: ignore[no-untyped-def]
    src, _dst = dovecots
    seed(src, users[0])
    name = FOLDERS[2]  # three messages
    source = source_factory(parse_endpoint(src.url(users[0])), src.password)()
    try:
        expected_status = source.examine(name)
        uids = [m.uid for m in source.list_messages(name, headers=False)]
        expected = source.fetch(uids)
        source.examine("INBOX")
        writes = count_writes(source)
        status, bodies = source.open_and_fetch(name, uids[:2])
        assert writes[0] == 1
        assert source.fetch(uids[2:]) == {uids[2]: expected[uids[2]]}  # it stays open
        # A folder the server refuses: the same error as examine(), nothing read, and the
        # connection goes on working.
        with pytest.raises(Exception, match="doesn't exist|NONEXISTENT|Gibt es nicht"):
            source.open_and_fetch("Gibt es nicht", uids)
        assert source.open_and_fetch(name, uids)[1] == expected
    finally:
        source.close()
    assert status == expected_status
    assert bodies == {uid: expected[uid] for uid in uids[:2]}


def test_a_folder_made_anew_between_listing_and_reading_is_not_copied(
    dovecots,
    users,
    store,  # noqa: F811
) -> None:
    """The folder's messages of the new generation have UIDs the listing gave to other
    messages: the copy stops that mailbox with a message, and copies none of them."""
    import dataclasses

    src, dst = dovecots
    seed(src, users[0])
    name = FOLDERS[2]
    job = job_for(dovecots, users)
    real_factory = job.source
    remade = []

    def remaking():  # type: ignore[no-untyped-def]
        real = real_factory()
        real_open = real.open_and_fetch_many

        def open_and_fetch_many(reads):  # type: ignore[no-untyped-def]
            if name in (folder for folder, _uids in reads) and not remade:
                other = src.client(users[0])
                try:
                    other.delete_folder(name)
                    other.create_folder(name)
                    for m in range(3):
                        other.append(name, message(7000 + m), msg_time=WHEN)
                finally:
                    other.logout()
                remade.append(name)
            return real_open(reads)

        real.open_and_fetch_many = open_and_fetch_many  # type: ignore[method-assign]
        return real

    result, _events = run(store, dataclasses.replace(job, source=remaking))
    assert remade == [name]
    assert "changed its UIDVALIDITY during the copy" in result.error, result.error
    target = dst.client(users[1])
    try:
        shown = name.replace("/", ".")
        held = (
            target.select_folder(shown, readonly=True)[b"EXISTS"]
            if target.folder_exists(shown)
            else 0
        )
    finally:
        target.logout()
    assert held == 0


@pytest.mark.parametrize("cut", ["listing", "bodies"])
def test_a_connection_cut_with_answers_sent_ahead_half_read_loses_nothing(
    dovecots,
    users,
    store,  # noqa: F811
    monkeypatch,
    cut,
) -> None:
    """Cut with the answers half read (of the listing, or of several folders' bodies): a new
    connection, that part read again, every message copied once."""
    import dataclasses
    import socket

    from wizard.copy import imapwire

    src, dst = dovecots
    counts = seed(src, users[0])
    cuts: list[str] = []

    def cut_halfway(client, commands):  # type: ignore[no-untyped-def]
        bodies = b"BODY.PEEK[]" in commands[1][1] if len(commands) > 2 else None
        if commands[0][0] != "EXAMINE" or cuts or bodies is not (cut == "bodies"):
            return imapwire.pipelined(client, commands)
        imap = client._imap  # noqa: SLF001
        real_answers = imapwire._answers  # noqa: SLF001
        read = [0]

        def answers(imap_, tag, name):  # type: ignore[no-untyped-def]
            read[0] += 1
            if read[0] == len(commands) // 2:  # the server's answers half read
                imap.sock.shutdown(socket.SHUT_RDWR)
                cuts.append(name)
            return real_answers(imap_, tag, name)

        monkeypatch.setattr(imapwire, "_answers", answers)
        try:
            return imapwire.pipelined(client, commands)
        finally:
            monkeypatch.setattr(imapwire, "_answers", real_answers)

    monkeypatch.setattr(source_module, "pipelined", cut_halfway)
    job = job_for(dovecots, users)
    result, events = run(store, dataclasses.replace(job, options=job.options))
    assert cuts, f"the connection should have been cut while the {cut} were read"
    assert result.failed == 0 and result.copied == sum(counts.values()), result.error
    assert sum("connected to the source" in getattr(e, "message", "") for e in events) == 2
    assert held_on_target(dst, users[1], counts) == counts


def test_verification_lists_the_folders_ahead_and_finds_the_same(
    dovecots,
    users,
    store,  # noqa: F811
    monkeypatch,
) -> None:
    import dataclasses

    from wizard.copy.ledger import CopyLedger
    from wizard.copy.verify import verify_mailbox

    src, _dst = dovecots
    counts = seed(src, users[0])
    job = job_for(dovecots, users)
    result, _events = run(store, job)
    assert result.copied == sum(counts.values()), result.error
    writes: list[list[int]] = []

    def counted():  # type: ignore[no-untyped-def]
        source = job.source()
        writes.append(count_writes(source))
        return source

    ahead = verify_mailbox(dataclasses.replace(job, source=counted), CopyLedger(store))
    monkeypatch.delattr(source_module.ImapSource, "list_ahead")
    one_by_one = verify_mailbox(dataclasses.replace(job, source=counted), CopyLedger(store))
    assert ahead == one_by_one and not ahead.error
    found = {f.source_folder: f.source_count for f in ahead.folders}
    assert {name: found[name] for name in counts} == counts
    assert all(f.missing_count == 0 and f.extra_count == 0 for f in ahead.folders)
    # LIST, LSUB, the folders ahead (two writes) and LOGOUT, against one or two per folder.
    assert writes[0][0] <= 6 < len(found) <= writes[1][0], writes


def test_a_server_that_fails_commands_sent_ahead_is_listed_one_folder_at_a_time(
    dovecots,
    users,
    store,  # noqa: F811
    monkeypatch,
) -> None:
    """A server that garbles or drops every listing sent ahead: the copy says so, lists each
    folder on its own and copies everything; verification does the same."""
    from wizard.copy.errors import TransientError
    from wizard.copy.events import CopyLog
    from wizard.copy.ledger import CopyLedger
    from wizard.copy.verify import verify_mailbox
    from wizard.retry import RetryPolicy

    src, _dst = dovecots
    counts = seed(src, users[0])
    tries: list[int] = []

    def fails(self, folders):  # type: ignore[no-untyped-def]
        tries.append(len(folders))
        raise TransientError(f"{self.host}: an answer of no shape during the listing")

    monkeypatch.setattr(source_module.ImapSource, "list_ahead", fails)
    job = job_for(dovecots, users)
    result, events = run(store, job, retries=2, backoff_initial=0.01)
    assert result.failed == 0 and result.copied == sum(counts.values()), result.error
    warned = [e.message for e in events if isinstance(e, CopyLog) and e.level == "warning"]
    assert any("listing them one at a time" in line for line in warned), warned
    copy_tries = len(tries)
    assert copy_tries >= 2  # retried on a new connection before giving up on it
    check = verify_mailbox(job, CopyLedger(store), RetryPolicy(attempts=3, initial=0.01))
    assert not check.error and all(f.missing_count == 0 for f in check.folders)
    assert len(tries) == copy_tries + 1  # verification: the second try lists one at a time


def test_small_folders_are_read_several_to_a_write(dovecots, users, store) -> None:  # noqa: F811
    import dataclasses

    src, dst = dovecots
    counts = seed(src, users[0])
    job = job_for(dovecots, users)  # batches of 5 messages (run's settings)
    real_factory = job.source
    reads: list[list[str]] = []

    def counted():  # type: ignore[no-untyped-def]
        real = real_factory()
        real_many = real.open_and_fetch_many

        def open_and_fetch_many(wanted):  # type: ignore[no-untyped-def]
            reads.append([folder for folder, _uids in wanted])
            return real_many(wanted)

        real.open_and_fetch_many = open_and_fetch_many  # type: ignore[method-assign]
        return real

    result, _events = run(store, dataclasses.replace(job, source=counted))
    assert result.failed == 0 and result.copied == sum(counts.values()), result.error
    with_mail = [name for name, count in counts.items() if count]
    assert sorted(f for read in reads for f in read) == sorted(with_mail)  # each read once
    assert max(len(read) for read in reads) >= 2
    assert len(reads) < len(with_mail)
    assert held_on_target(dst, users[1], counts) == counts


def test_a_folder_deleted_before_it_is_read_fails_the_same_either_way(
    dovecots,
    users,
    store,  # noqa: F811
    monkeypatch,
) -> None:
    """Read with other small folders in one write or on its own, a folder the source no longer
    has ends the mailbox the same way, with the same messages copied."""
    import dataclasses

    src, dst = dovecots
    gone = FOLDERS[3]

    def copy_with(pair: tuple[str, str]):  # type: ignore[no-untyped-def]
        seed(src, pair[0])
        job = job_for(dovecots, pair)
        real_factory = job.source

        def deleting():  # type: ignore[no-untyped-def]
            real = real_factory()
            real_ahead = real.list_ahead

            def list_ahead(folders):  # type: ignore[no-untyped-def]
                out = real_ahead(folders)
                other = src.client(pair[0])
                try:
                    other.delete_folder(gone)  # listed, then gone before it is read
                finally:
                    other.logout()
                return out

            real.list_ahead = list_ahead  # type: ignore[method-assign]
            return real

        result, _events = run(store, dataclasses.replace(job, source=deleting))
        target = dst.client(pair[1])
        try:
            held = {
                name: target.select_folder(name, readonly=True)[b"EXISTS"]
                for _flags, _sep, name in target.list_folders()
            }
        finally:
            target.logout()
        return result.error.replace(pair[0], "USER"), result.copied, held

    grouped = copy_with(users)
    monkeypatch.delattr(source_module.ImapSource, "open_and_fetch_many")
    monkeypatch.setattr(
        source_module.ImapSource,
        "open_and_fetch",
        lambda self, folder, uids: (self.examine(folder), self.fetch(uids)),
    )
    alone = copy_with((users[0] + "x", users[1] + "x"))
    assert "doesn't exist" in grouped[0] or gone in grouped[0], grouped[0]
    assert grouped == alone
