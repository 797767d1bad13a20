"""A data dir the release before checksums wrote is migrated, never read as damage: every record it holds
survives the upgrade (queued TransactionEvents are delivered after it), the old files are kept as
`<name>.pre-checksum`, damage in them costs only the damaged records, and a crash at any step of the
migration leaves either the old files in place or the new snapshot complete.

That format (`git show 14c4e6c:shell/storage.py`): `station.json` is tinydb's JSON on one line,
`{"values": {"1": {"key": k, "value": v}, ...}}`; `station.journal` is one compact JSON line per batch,
`[[key, value], ...]`, a null value deleting; no checksums, no seqs, no lock file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_storage_damage import EVENTS, KEYS, middle_of, overwrite, queued

from chargecore.shell.storage import StationStore
from chargecore.shell.store_files import adopt_shared_files
from chargecore.shell.store_records import decode_record
from chargecore.testing.csms_double import wait_until
from chargecore.tools.csms import LocalCsms

SNAPSHOT, JOURNAL = "station.json", "station.journal"


def old_json(value: Any) -> bytes:
    """What the old release's compact_json wrote: compact, ASCII only."""
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def old_snapshot(keys: list[str]) -> bytes:
    documents = {str(doc_id): {"key": key, "value": EVENTS[key]} for doc_id, key in enumerate(keys, 1)}
    return old_json({"values": documents})


def old_batch(*entries: tuple[str, Any]) -> bytes:
    return old_json([[key, value] for key, value in entries]) + b"\n"


OLD_SNAPSHOT = old_snapshot(KEYS[:5])
"""Five queued events, KEYS[0..4], in the old snapshot (one line, no newline)."""
OLD_BATCHES = [
    old_batch((KEYS[5], EVENTS[KEYS[5]])),
    old_batch((KEYS[6], EVENTS[KEYS[6]])),
    old_batch((KEYS[7], EVENTS[KEYS[7]]), (KEYS[0], None)),  # the CSMS acknowledged the first event
    old_batch((KEYS[8], EVENTS[KEYS[8]])),
]
OLD_JOURNAL = b"".join(OLD_BATCHES)
TORN = old_batch((KEYS[9], EVENTS[KEYS[9]]))[:-40]
"""The batch a crash interrupted (no newline): the old release dropped it at start, as `put` had not returned."""
STORED = {key: EVENTS[key] for key in KEYS[1:9]}
"""What the old release would have loaded from OLD_SNAPSHOT and OLD_JOURNAL (+ TORN)."""


def old_data_dir(data_dir: Path, snapshot: bytes | None = OLD_SNAPSHOT, journal: bytes | None = OLD_JOURNAL) -> Path:
    data_dir.mkdir()
    for name, content in ((SNAPSHOT, snapshot), (JOURNAL, journal)):
        if content is not None:
            (data_dir / name).write_bytes(content)
    return data_dir


def migrated_line(data_dir: Path, records: int, kept: str) -> tuple[str, str]:
    counted = "1 record" if records == 1 else f"{records} records"
    return (
        "info",
        f"{data_dir}: migrated from the format before checksums, {counted} rewritten with checksums; "
        f"the old files are kept as {kept}",
    )


def new_snapshot_values(path: Path) -> dict[str, Any] | None:
    """The values of a whole snapshot in the checksummed format; None when it is anything else."""
    records = [decode_record(line) for line in path.read_bytes().split(b"\n")[:-1]]
    if not records or None in records or records[0] != (0, {"records": len(records) - 1}):
        return None
    return {key: value for _, (key, value) in records[1:]}  # type: ignore[misc]


def reopened_cleanly(data_dir: Path, expected: dict[str, Any]) -> None:
    """The migrated store is a store of the new format: read without a notice, every record there."""
    store = StationStore(data_dir)
    assert store.notices == []
    assert store.load() == expected
    store.close()


@pytest.mark.parametrize(
    ("snapshot", "journal", "expected"),
    [
        (OLD_SNAPSHOT, OLD_JOURNAL, STORED),
        (None, OLD_JOURNAL, {key: EVENTS[key] for key in KEYS[5:9]}),  # never compacted: the usual old data dir
        (OLD_SNAPSHOT, None, {key: EVENTS[key] for key in KEYS[:5]}),
        (OLD_SNAPSHOT, b"", {key: EVENTS[key] for key in KEYS[:5]}),  # the old compaction left an empty journal
        (None, OLD_BATCHES[0], {KEYS[5]: EVENTS[KEYS[5]]}),
        (b'{"values":{}}', None, {}),
    ],
    ids=["snapshot and journal", "journal only", "snapshot only", "snapshot and empty journal", "one batch", "empty"],
)
def test_an_old_data_dir_is_migrated_with_every_record(
    tmp_path: Path, snapshot: bytes | None, journal: bytes | None, expected: dict[str, Any]
) -> None:
    data_dir = old_data_dir(tmp_path / "data", snapshot, journal)
    old_files = [name for name, content in ((SNAPSHOT, snapshot), (JOURNAL, journal)) if content]

    store = StationStore(data_dir)

    assert store.load() == expected
    kept = ", ".join(f"{name}.pre-checksum" for name in old_files)
    assert store.notices == [migrated_line(data_dir, len(expected), kept)]
    assert {path.name: path.read_bytes() for path in data_dir.glob("*.pre-checksum")} == {
        f"{name}.pre-checksum": content for name, content in ((SNAPSHOT, snapshot), (JOURNAL, journal)) if content
    }, "each old file with records is kept as it was"
    assert not list(data_dir.glob("*.damaged-*"))
    assert new_snapshot_values(data_dir / SNAPSHOT) == expected
    assert (data_dir / JOURNAL).read_bytes() == b""
    store.put([("after", 1)])
    store.close()
    reopened_cleanly(data_dir, {**expected, "after": 1})
    assert {path.name for path in data_dir.glob("*.pre-checksum")} == {f"{name}.pre-checksum" for name in old_files}


def test_the_old_literal_format_is_read_as_the_old_release_read_it(tmp_path: Path) -> None:
    """Written as the old release wrote it, byte for byte: a device-model value in the snapshot, a journal that
    sets, overwrites and deletes."""
    data_dir = old_data_dir(
        tmp_path / "data",
        b'{"values":{"1":{"key":"device_model/OCPPCommCtrlr/HeartbeatInterval/Actual","value":"60"},'
        b'"2":{"key":"auth/cache/ISO14443:04A2B3C4","value":{"status":"Accepted"}}}}',
        b'[["device_model/OCPPCommCtrlr/HeartbeatInterval/Actual","300"]]\n'
        b'[["tx_queue/000000000001",{"action":"TransactionEvent","payload":{"seqNo":0}}],'
        b'["auth/cache/ISO14443:04A2B3C4",null]]\n',
    )
    store = StationStore(data_dir)
    assert store.load() == {
        "device_model/OCPPCommCtrlr/HeartbeatInterval/Actual": "300",
        "tx_queue/000000000001": {"action": "TransactionEvent", "payload": {"seqNo": 0}},
    }
    store.close()


def test_a_torn_last_batch_is_dropped_as_the_old_release_did_and_said(tmp_path: Path) -> None:
    data_dir = old_data_dir(tmp_path / "data", journal=OLD_JOURNAL + TORN)

    store = StationStore(data_dir)

    assert store.load() == STORED
    assert store.notices == [
        migrated_line(data_dir, 8, f"{SNAPSHOT}.pre-checksum, {JOURNAL}.pre-checksum"),
        (
            "info",
            f"{data_dir / JOURNAL}: dropped the last batch, a write a crash interrupted before it was acknowledged",
        ),
    ]
    assert (data_dir / f"{JOURNAL}.pre-checksum").read_bytes() == OLD_JOURNAL + TORN, "the torn bytes are kept too"
    store.close()
    reopened_cleanly(data_dir, STORED)


def test_a_file_with_one_checksummed_record_is_not_old(tmp_path: Path) -> None:
    """A mix is damage of the new format, not an old file: the old-looking line is lost and said."""
    data_dir = tmp_path / "data"
    store = StationStore(data_dir)
    store.put([(KEYS[0], EVENTS[KEYS[0]])])
    store.close()
    with (data_dir / JOURNAL).open("ab") as journal:
        journal.write(OLD_BATCHES[1])

    mixed = StationStore(data_dir)

    assert mixed.load() == {KEYS[0]: EVENTS[KEYS[0]]}
    ((level, line),) = mixed.notices
    assert level == "warning" and line.startswith(f"{data_dir / JOURNAL}: 1 damaged line, ")
    assert not list(data_dir.glob("*.pre-checksum"))
    mixed.close()


# --- damage in an old file -------------------------------------------------------------------------------------


def _spoiled(content: bytes, at: int, bad: bytes) -> bytes:
    return content[:at] + bad + content[at + len(bad) :]


def _in_document(number: int) -> int:
    """An offset inside the old snapshot's document `number` (1-based), past its key."""
    return OLD_SNAPSHOT.index(b'"%d":{"key":' % number) + 60


def _in_line(number: int) -> int:
    return sum(map(len, OLD_BATCHES[: number - 1])) + 60


@dataclass(frozen=True)
class OldDamage:
    name: str
    file: str
    damaged: bytes
    lost: tuple[str, ...]
    said: str
    kept: int


OLD_DAMAGE = [
    OldDamage(
        "snapshot with a zero byte in a document",
        SNAPSHOT,
        _spoiled(OLD_SNAPSHOT, _in_document(3), b"\0"),
        (KEYS[2],),
        "not whole JSON, at least 1 records lost",
        4,
    ),
    OldDamage(
        "snapshot cut in a document",
        SNAPSHOT,
        OLD_SNAPSHOT[: _in_document(4)],
        (KEYS[3], KEYS[4]),
        "not whole JSON, an unknown number of records lost",
        3,
    ),
    OldDamage(
        "snapshot with a document without its value",
        SNAPSHOT,
        OLD_SNAPSHOT.replace(old_json({"key": KEYS[1], "value": EVENTS[KEYS[1]]}), old_json({"key": KEYS[1]})),
        (KEYS[1],),
        "1 damaged document, 1 of 5 records lost",
        4,
    ),
    OldDamage(
        "journal with a garbled line",
        JOURNAL,
        _spoiled(OLD_JOURNAL, _in_line(2), b"\xff\xfe"),
        (KEYS[6],),
        "1 damaged line, 1 of 4 records lost",
        3,
    ),
    OldDamage(
        "journal with zeros after its end",
        JOURNAL,
        OLD_JOURNAL + bytes(512),
        (),
        "a partial last line, an unknown number of records lost",
        4,
    ),
]


@pytest.mark.parametrize("damage", OLD_DAMAGE, ids=lambda d: d.name)
def test_damage_in_an_old_file_costs_only_the_damaged_records(tmp_path: Path, damage: OldDamage) -> None:
    contents = {SNAPSHOT: OLD_SNAPSHOT, JOURNAL: OLD_JOURNAL, damage.file: damage.damaged}
    data_dir = old_data_dir(tmp_path / "data", contents[SNAPSHOT], contents[JOURNAL])
    expected = {key: value for key, value in STORED.items() if key not in damage.lost}

    store = StationStore(data_dir)

    assert store.load() == expected
    (aside,) = data_dir.glob(f"{damage.file}.damaged-*")
    assert aside.read_bytes() == damage.damaged, "the damaged file is kept as it was"
    intact = SNAPSHOT if damage.file == JOURNAL else JOURNAL
    assert (data_dir / f"{intact}.pre-checksum").read_bytes() == contents[intact]
    warning = (
        f"{data_dir / damage.file}: in the format before checksums, {damage.said}; "
        f"moved aside to {aside.name}, its {damage.kept} intact records kept"
    )
    names = sorted([aside.name, f"{intact}.pre-checksum"], key=lambda name: not name.startswith(SNAPSHOT))
    assert store.notices == [("warning", warning), migrated_line(data_dir, len(expected), ", ".join(names))]
    store.close()
    reopened_cleanly(data_dir, expected)


# --- a crash during the migration ------------------------------------------------------------------------------


class Crash(BaseException):
    """The process dies here: nothing after this step happens (not even the store's own clean-up of OSErrors)."""


CRASH_POINTS = ("open", "write", "fsync", "ftruncate", "rename", "replace")
"""The os calls a migration makes that change the data dir; the crash comes at one of them."""


@contextmanager
def crash_at_call(number: int) -> Iterator[Callable[[], int]]:
    """Crash at the `number`th call of any CRASH_POINTS; yields how many calls were made."""
    calls = 0
    patch = pytest.MonkeyPatch()

    def crashing(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == number:
                raise Crash
            return real(*args, **kwargs)

        return call

    for name in CRASH_POINTS:
        patch.setattr(os, name, crashing(getattr(os, name)))
    try:
        yield lambda: calls
    finally:
        patch.undo()


def _damaged_journal(data_dir: Path) -> None:
    """The checksummed store of test_storage_damage with zeros in the journal's record 3 (KEYS[7])."""
    queued(data_dir)
    journal = data_dir / JOURNAL
    overwrite(journal, middle_of(journal, 3), middle_of(journal, 3) + 3, bytes)


@dataclass(frozen=True)
class Rewrite:
    name: str
    prepare: Callable[[Path], object]
    expected: dict[str, Any]
    kept: dict[str, str]
    """The files the rewrite keeps a copy of, and the label the copy's name begins with after `<name>.`."""


REWRITES = [
    Rewrite(
        "old format migrated",
        lambda data_dir: old_data_dir(data_dir, journal=OLD_JOURNAL + TORN),
        STORED,
        {SNAPSHOT: "pre-checksum", JOURNAL: "pre-checksum"},
    ),
    Rewrite(
        "damaged journal moved aside",
        _damaged_journal,
        {k: EVENTS[k] for k in KEYS if k != KEYS[7]},
        {JOURNAL: "damaged-"},
    ),
]


def _content(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


def whole_copies(data_dir: Path, name: str, label: str) -> set[bytes]:
    return {path.read_bytes() for path in data_dir.glob(f"{name}.{label}*") if path.suffix != ".tmp"}


@pytest.mark.parametrize("rewrite", REWRITES, ids=lambda r: r.name)
def test_a_crash_at_any_step_of_a_rewrite_leaves_the_old_files_or_the_new_snapshot(
    tmp_path: Path, rewrite: Rewrite
) -> None:
    number = 0
    while True:
        number += 1
        data_dir = tmp_path / f"crash-at-{number}"
        rewrite.prepare(data_dir)
        before = {name: (data_dir / name).read_bytes() for name in (SNAPSHOT, JOURNAL)}
        with crash_at_call(number) as calls:
            try:
                StationStore(data_dir).close()
            except Crash:
                crashed = True
            else:
                crashed = False
        if not crashed:
            assert number > 10, f"a rewrite makes more than 10 steps, not {calls()}"
            break
        after = {name: _content(data_dir / name) for name in (SNAPSHOT, JOURNAL)}
        new_complete = after[SNAPSHOT] is not None and new_snapshot_values(data_dir / SNAPSHOT) == rewrite.expected
        assert after == before or new_complete, f"crash at step {number}"

        store = StationStore(data_dir)

        assert store.load() == rewrite.expected, f"crash at step {number}"
        assert bool(store.notices) == (after[JOURNAL] == before[JOURNAL]), "what the crash left unfinished is done now"
        store.close()
        for name, label in rewrite.kept.items():
            assert whole_copies(data_dir, name, label) == {before[name]}, f"crash at step {number}: {name}"
        reopened_cleanly(data_dir, rewrite.expected)


# --- the upgrade of a running station --------------------------------------------------------------------------


@pytest.mark.parametrize("explicit", [True, False], ids=["--data-dir", "the old default ./data"])
def test_chargecore_run_delivers_the_events_an_old_release_queued(tmp_path: Path, explicit: bool) -> None:
    """With --data-dir, or without it where the old release kept its files directly in ./data (its default):
    they move to ./data/CS1, the station's data dir now, and are migrated there."""
    old_dir = old_data_dir(tmp_path / "data", journal=OLD_JOURNAL + TORN)
    data_dir = old_dir if explicit else old_dir / "CS1"
    command = [str(Path(sys.executable).parent / "chargecore"), "run", "--id", "CS1"]
    command += ["--data-dir", str(data_dir)] if explicit else []
    with LocalCsms(heartbeat_interval=60, on_log=lambda _line: None) as csms:
        station = subprocess.Popen(
            [*command, "--csms", csms.url],
            cwd=tmp_path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            wait_until(lambda: len(_transaction_events(csms)) >= len(STORED) or None, "the queued events", 30)
            # one CALL in flight at a time (Part 4): a Heartbeat after the last event means that event was answered
            since = len(csms.messages)
            csms.call("CS1", "TriggerMessage", {"requestedMessage": "Heartbeat"}, timeout=30)
            csms.wait_for("Heartbeat", timeout=30, since=since)
            stdout, stderr = station.communicate(b"quit\n", timeout=30)
        finally:
            if station.poll() is None:
                station.kill()
                station.communicate()
        sent = _transaction_events(csms)
    assert station.returncode == 0, stderr
    assert sent == [value["payload"] for value in STORED.values()], "every queued event, in order, once"
    printed = stdout.decode()
    assert "migrated from the format before checksums, 8 records rewritten with checksums" in printed
    assert b"Traceback" not in stdout + stderr
    if not explicit:
        for name in (SNAPSHOT, JOURNAL):
            assert (
                f"CS1 [info] moved data/{name} of an earlier release, which kept it there, to data/CS1/{name}"
                in printed
            )
        assert not (old_dir / SNAPSHOT).exists() and not (old_dir / JOURNAL).exists()
    assert (data_dir / f"{JOURNAL}.pre-checksum").read_bytes() == OLD_JOURNAL + TORN
    reopened = StationStore(data_dir)
    assert not reopened.load().keys() & STORED.keys(), "every migrated event acknowledged and gone"
    reopened.close()


def test_the_files_of_the_old_default_data_dir_move_once_and_never_over_a_station_s_own(tmp_path: Path) -> None:
    root = old_data_dir(tmp_path / "data")
    own = root / "CS2"
    own.mkdir()
    (own / JOURNAL).write_bytes(b"")

    assert adopt_shared_files(root, own) == [
        f"moved {root / SNAPSHOT} of an earlier release, which kept it there, to {own / SNAPSHOT}",
        f"{root / JOURNAL} of an earlier release stays where it is: {own} has its own {JOURNAL}",
    ]
    assert (own / SNAPSHOT).read_bytes() == OLD_SNAPSHOT and (own / JOURNAL).read_bytes() == b""
    assert (root / JOURNAL).read_bytes() == OLD_JOURNAL, "left, not deleted"


def test_a_crash_between_the_two_moves_is_finished_at_the_next_start(tmp_path: Path) -> None:
    root = old_data_dir(tmp_path / "data")
    station = root / "CS1"
    station.mkdir()
    os.rename(root / SNAPSHOT, station / SNAPSHOT)  # the first move, then the crash

    assert adopt_shared_files(root, station) == [
        f"moved {root / JOURNAL} of an earlier release, which kept it there, to {station / JOURNAL}"
    ]
    assert adopt_shared_files(root, station) == [], "moved once"
    store = StationStore(station)
    assert store.load() == {key: EVENTS[key] for key in KEYS[1:9]}
    store.close()


def _transaction_events(csms: LocalCsms) -> list[Any]:
    return [
        record.payload
        for record in csms.messages
        if record.direction == "in" and record.kind == "CALL" and record.action == "TransactionEvent"
    ]
