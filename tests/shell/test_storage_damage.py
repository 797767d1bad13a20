"""Damage to the data dir: every intact record survives, each damaged file is moved aside and named in one line
with the number of records lost, and what the station cannot repair refuses the start in one line (exit 2).

The store under test holds ten queued TransactionEvents after a clean stop: the first five in the snapshot
(record seq 1-5 after the header, seq 0), the last five in the journal (seq 1-5), one event per record.
"""

from __future__ import annotations

import errno
import os
import random
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from store_faults import WRITES, refuse_open, written_then_crashed

from chargecore.shell.journal_storage import JournalStorage
from chargecore.shell.storage import StationStore
from chargecore.shell.store_files import StoreUnusable
from chargecore.shell.store_records import encode_record

SNAPSHOT, JOURNAL = "station.json", "station.journal"
KEYS = [f"tx_queue/{n:012d}" for n in range(10)]


def event(n: int) -> dict[str, Any]:
    return {
        "action": "TransactionEvent",
        "payload": {
            "eventType": "Updated",
            "timestamp": "2026-11-25T12:00:00.000Z",
            "triggerReason": "MeterValuePeriodic",
            "seqNo": n,
            "offline": True,
            "transactionInfo": {"transactionId": "a1b2c3d4-7-1", "chargingState": "Charging"},
            "meterValue": [{"timestamp": "2026-11-25T12:00:00.000Z", "sampledValue": [{"value": 1234.5 + n}]}],
        },
    }


EVENTS = {key: event(n) for n, key in enumerate(KEYS)}


def queued(data_dir: Path) -> None:
    """Ten queued events, five in the snapshot and five in the journal, and a clean stop."""
    data_dir.mkdir()
    snapshot = JournalStorage(str(data_dir / SNAPSHOT))
    snapshot.write({"values": {str(n): {"key": KEYS[n], "value": EVENTS[KEYS[n]]} for n in range(5)}})
    snapshot.close()
    store = StationStore(data_dir)
    for key in KEYS[5:]:
        store.put([(key, EVENTS[key])])
    store.close()


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def line_start(path: Path, number: int) -> int:
    """Where the line of record `number` begins (the snapshot's header is line 0, the journal's first record 1)."""
    offset = 0 if path.name == SNAPSHOT else -1
    return sum(len(line) for line in lines(path)[: number + offset])


def middle_of(path: Path, number: int) -> int:
    return line_start(path, number) + 20


def replace_line(path: Path, number: int, new: bytes) -> None:
    content = lines(path)
    content[number if path.name == SNAPSHOT else number - 1] = new
    path.write_bytes(b"".join(content))


def overwrite(path: Path, start: int, end: int, new: Callable[[int], bytes]) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[:start] + new(end - start) + raw[end:])


def garbage(size: int) -> bytes:
    return random.Random(10).randbytes(size)


def zeros(size: int) -> bytes:
    return bytes(size)


@dataclass(frozen=True)
class Damage:
    name: str
    file: str
    damage: Callable[[Path], None]
    lost: tuple[int, ...]
    """The seqs of the file's records that are gone (the journal's seq n holds KEYS[4 + n])."""


def _garble(path: Path, number: int) -> None:
    start = middle_of(path, number)
    overwrite(path, start, start + 3, lambda _: b"x#y")


def _cut(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])


def _zero_block(path: Path, first: int, last: int) -> None:
    """A block of zeros from the middle of record `first` into the middle of record `last` (its newlines too)."""
    overwrite(path, middle_of(path, first), middle_of(path, last), zeros)


MOVED_ASIDE = [
    Damage("snapshot a list instead of an object", SNAPSHOT, lambda p: p.write_bytes(b"[]"), (1, 2, 3, 4, 5)),
    Damage(
        "snapshot record without a key (an object instead of [key, value])",
        SNAPSHOT,
        lambda p: replace_line(p, 2, encode_record(2, {"value": EVENTS[KEYS[1]]})),
        (2,),
    ),
    Damage(
        "snapshot header of the wrong shape", SNAPSHOT, lambda p: replace_line(p, 0, encode_record(0, [5])), ()
    ),
    Damage("snapshot cut mid-file", SNAPSHOT, lambda p: _cut(p, middle_of(p, 3)), (3, 4, 5)),
    Damage("snapshot zero-filled", SNAPSHOT, lambda p: p.write_bytes(zeros(p.stat().st_size)), (1, 2, 3, 4, 5)),
    Damage("snapshot of garbage", SNAPSHOT, lambda p: p.write_bytes(garbage(p.stat().st_size)), (1, 2, 3, 4, 5)),
    Damage("snapshot empty", SNAPSHOT, lambda p: p.write_bytes(b""), (1, 2, 3, 4, 5)),
    Damage(
        "snapshot invalid UTF-8",
        SNAPSHOT,
        lambda p: overwrite(p, middle_of(p, 4), middle_of(p, 4) + 1, lambda _: b"\xff"),
        (4,),
    ),
    Damage("snapshot with a zeroed block", SNAPSHOT, lambda p: _zero_block(p, 1, 2), (1, 2)),
    Damage("snapshot with a garbled line", SNAPSHOT, lambda p: _garble(p, 3), (3,)),
    Damage("snapshot deleted", SNAPSHOT, lambda p: p.unlink(), (1, 2, 3, 4, 5)),
    Damage(
        "journal line an object instead of a list",
        JOURNAL,
        lambda p: replace_line(p, 2, encode_record(2, {KEYS[6]: EVENTS[KEYS[6]]})),
        (2,),
    ),
    Damage(
        "journal line without a checksum (the old format)",
        JOURNAL,
        lambda p: replace_line(p, 4, b'[["%s",{"seqNo":8}]]\n' % KEYS[8].encode()),
        (4,),
    ),
    Damage("journal cut mid-file", JOURNAL, lambda p: _cut(p, middle_of(p, 2)), (2, 3, 4, 5)),
    Damage("journal cut at a line end", JOURNAL, lambda p: _cut(p, line_start(p, 4)), (4, 5)),
    Damage("journal with a garbled line in the middle", JOURNAL, lambda p: _garble(p, 3), (3,)),
    Damage(
        "journal invalid UTF-8",
        JOURNAL,
        lambda p: overwrite(p, middle_of(p, 2), middle_of(p, 2) + 2, lambda _: b"\xc3\x28"),
        (2,),
    ),
    Damage("journal with a zeroed block", JOURNAL, lambda p: _zero_block(p, 3, 4), (3, 4)),
    Damage(
        "journal with zeros after its end",
        JOURNAL,
        lambda p: p.write_bytes(p.read_bytes() + zeros(4096)),
        (),
    ),
]


def _lost_keys(damage: Damage) -> set[str]:
    first = 0 if damage.file == SNAPSHOT else 5
    return {KEYS[first + seq - 1] for seq in damage.lost}


@pytest.mark.parametrize("damage", MOVED_ASIDE, ids=lambda d: d.name)
def test_damage_keeps_every_intact_record_and_names_the_file_and_the_loss(tmp_path: Path, damage: Damage) -> None:
    data_dir = tmp_path / "data"
    queued(data_dir)
    damaged = data_dir / damage.file
    damage.damage(damaged)
    damaged_bytes = damaged.read_bytes() if damaged.exists() else None

    store = StationStore(data_dir)

    survivors = set(KEYS) - _lost_keys(damage)
    assert store.load() == {key: EVENTS[key] for key in sorted(survivors)}, "exactly the damaged records are gone"
    ((level, line),) = store.notices
    assert level == "warning"
    assert line.startswith(f"{damaged}: ")
    assert f", {len(damage.lost)} of 5 records lost; " in line
    asides = list(data_dir.glob(f"{damage.file}.damaged-*"))
    if damaged_bytes is None:
        assert asides == []
        assert line.endswith("; nothing to move")
    else:
        (aside,) = asides
        assert aside.read_bytes() == damaged_bytes, "the damaged file is kept as it was"
        assert line.endswith(f"; moved aside to {aside.name}, its {5 - len(damage.lost)} intact records kept")

    store.put([("after", 1)])
    store.close()
    again = StationStore(data_dir)
    assert again.notices == [], "the repaired store is whole"
    assert again.load() == {**{key: EVENTS[key] for key in survivors}, "after": 1}
    again.close()


def _data_dir_is_a_file(data_dir: Path, _: pytest.MonkeyPatch) -> None:
    for path in data_dir.iterdir():
        path.unlink()
    data_dir.rmdir()
    data_dir.write_text("not a directory\n")


def _a_directory_in_place_of(name: str) -> Callable[[Path, pytest.MonkeyPatch], None]:
    def damage(data_dir: Path, _: pytest.MonkeyPatch) -> None:
        (data_dir / name).unlink()
        (data_dir / name).mkdir()

    return damage


def _unreadable(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_open(monkeypatch, errno.EACCES, lambda path, _: path == str(data_dir / SNAPSHOT))


def _data_dir_unreadable(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_open(monkeypatch, errno.EACCES, lambda path, _: path.startswith(str(data_dir)))


def _read_only(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_open(monkeypatch, errno.EROFS, lambda path, flags: path.startswith(str(data_dir)) and bool(flags & WRITES))


def _disk_full(_: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(*_: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", no_space)


REFUSED = {
    "snapshot a directory": (_a_directory_in_place_of(SNAPSHOT), "station.json is a directory"),
    "journal a directory": (_a_directory_in_place_of(JOURNAL), "station.journal is a directory"),
    "snapshot unreadable": (_unreadable, "station.json: Permission denied"),
    "data dir a file": (_data_dir_is_a_file, "data is not a directory"),
    "data dir unreadable": (_data_dir_unreadable, "station.lock: Permission denied"),
    "data dir read-only": (_read_only, "station.lock: Read-only file system"),
    "disk full": (_disk_full, "No space left on device"),
}


@pytest.mark.parametrize(("damage", "said"), REFUSED.values(), ids=REFUSED.keys())
def test_what_cannot_be_repaired_refuses_the_start_in_one_line_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: Callable[[Path, pytest.MonkeyPatch], None], said: str
) -> None:
    data_dir = tmp_path / "data"
    queued(data_dir)
    before = _contents(tmp_path)
    with monkeypatch.context() as patch:
        damage(data_dir, patch)
        damaged = _contents(tmp_path)
        with pytest.raises(StoreUnusable) as refused:
            StationStore(data_dir)
    message = str(refused.value)
    assert "\n" not in message
    assert said in message
    assert _contents(tmp_path) == damaged, "nothing moved, nothing deleted"
    if damaged == before:  # only the kernel refused: once it agrees again, everything is there
        store = StationStore(data_dir)
        assert store.load() == EVENTS
        assert store.notices == []
        store.close()


def _contents(root: Path) -> dict[str, bytes | None]:
    return {str(path): path.read_bytes() if path.is_file() else None for path in sorted(root.rglob("*"))}


def test_a_crash_mid_write_is_no_damage_but_zeros_in_its_place_are(tmp_path: Path) -> None:
    """After a crash, a partial last line of record bytes is the unacknowledged write (info, cut off); a partial
    last line of zeros is damage (the file is moved aside) even though nothing acknowledged is lost."""
    interrupted, zeroed = tmp_path / "interrupted", tmp_path / "zeroed"
    for data_dir in (interrupted, zeroed):
        written_then_crashed(data_dir, [[(key, EVENTS[key])] for key in KEYS])
    journal = interrupted / JOURNAL
    journal.write_bytes(journal.read_bytes()[:-30])
    overwrite(zeroed / JOURNAL, middle_of(zeroed / JOURNAL, 10), (zeroed / JOURNAL).stat().st_size, zeros)

    cut = StationStore(interrupted)
    assert cut.load() == {key: EVENTS[key] for key in KEYS[:9]}
    assert [level for level, _ in cut.notices] == ["info"]
    cut.close()
    damaged = StationStore(zeroed)
    assert damaged.load() == {key: EVENTS[key] for key in KEYS[:9]}
    ((level, line),) = damaged.notices
    assert (level, f"{zeroed / JOURNAL}: a partial last line, an unknown number of records lost") == (
        "warning",
        line.split(";")[0],
    )
    damaged.close()


def test_a_second_store_on_the_same_data_dir_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    first = StationStore(tmp_path)
    with pytest.raises(StoreUnusable, match=rf"^{re.escape(str(tmp_path))} is in use by another station process "):
        StationStore(tmp_path)
    first.close()
    StationStore(tmp_path).close()


def test_the_lock_goes_with_a_killed_process(tmp_path: Path) -> None:
    written_then_crashed(tmp_path, [[("a", 1)]])
    store = StationStore(tmp_path)
    assert store.load() == {"a": 1}
    store.close()


# --- the command line ----------------------------------------------------------------------------------------


def chargecore_run(data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`chargecore run` (the installed command) against a port where no CSMS listens (it tries until `quit`)."""
    command = [str(Path(sys.executable).parent / "chargecore"), "run", "--csms", "ws://127.0.0.1:9", "--id", "CS1"]
    return subprocess.run(
        [*command, "--data-dir", str(data_dir)], input=stdin, capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda data_dir: data_dir.write_text("x"), "is not a directory"),
        (lambda data_dir: (data_dir / SNAPSHOT).mkdir(parents=True), "station.json is a directory"),
    ],
    ids=["data dir a file", "snapshot a directory"],
)
def test_chargecore_run_refuses_in_one_line_with_exit_code_2(
    tmp_path: Path, damage: Callable[[Path], None], said: str
) -> None:
    data_dir = tmp_path / "data"
    damage(data_dir)
    finished = chargecore_run(data_dir)
    assert finished.returncode == 2
    assert finished.stderr.count("\n") == 1 and finished.stderr.startswith("chargecore run: error: ")
    assert said in finished.stderr


def test_chargecore_run_refuses_a_data_dir_another_station_uses(tmp_path: Path) -> None:
    holder = StationStore(tmp_path)
    try:
        finished = chargecore_run(tmp_path)
    finally:
        holder.close()
    assert finished.returncode == 2
    assert finished.stderr == (
        f"chargecore run: error: {tmp_path} is in use by another station process (pid {os.getpid()}); "
        "give each station its own data dir\n"
    )


def test_chargecore_run_names_the_damaged_file_and_goes_on(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    queued(data_dir)
    _garble(data_dir / JOURNAL, 3)
    finished = chargecore_run(data_dir, stdin="quit\n")
    assert finished.returncode == 0, finished.stderr
    (warning,) = [line for line in finished.stdout.splitlines() if "[warning]" in line]
    assert f"CS1 [warning] {data_dir / JOURNAL}: 1 damaged line, 1 of 5 records lost; moved aside to " in warning
    assert "Traceback" not in finished.stdout + finished.stderr
