"""The decisions of a CSMS root migration under AdditionalRootCertificateCheck (M05.FR.10-16) on plain store ids:
which root an install keeps as fallback, which roots an attempt trusts, what a delete or a restart leaves."""

from __future__ import annotations

import pytest

from chargecore.pure.blocks.security.root_migration import (
    FALLBACK_KEY,
    RootInstall,
    install_root,
    on_root_deleted,
    restore,
    strands,
    trusted_roots,
)
from chargecore.pure.state import RootMigration

NONE = RootMigration()


@pytest.mark.requirements("M05.FR.11")
def test_a_root_no_installed_root_signed_is_rejected_with_the_check_on() -> None:
    assert install_root(NONE, True, ("old",), "stranger", ()) is None


@pytest.mark.requirements("M05.FR.12")
def test_a_root_the_installed_one_signed_makes_it_the_fallback() -> None:
    assert install_root(NONE, True, ("old",), "new", ("old",)) == RootInstall(RootMigration(fallback=("old",)))


def test_without_the_check_a_root_is_added_and_nothing_is_a_fallback() -> None:
    assert install_root(NONE, False, ("old",), "stranger", ()) == RootInstall(NONE)


def test_the_first_root_needs_no_signer() -> None:
    assert install_root(NONE, True, (), "first", ()) == RootInstall(NONE)


def test_installing_an_installed_root_again_changes_nothing() -> None:
    migration = RootMigration(fallback=("old",))
    assert install_root(migration, True, ("old", "new"), "new", ("old",)) == RootInstall(migration)


@pytest.mark.requirements("M05.FR.10")
def test_a_second_new_root_replaces_the_unproven_one_and_keeps_the_proven_fallback() -> None:
    """One current root plus one fallback: the fallback stays the root that verified the last connection."""
    migration = RootMigration(fallback=("old",))
    decided = install_root(migration, True, ("old", "new"), "newer", ("new",))
    assert decided == RootInstall(migration, remove=("new",))


def test_with_several_roots_installed_all_of_them_are_the_fallback() -> None:
    """The check switched on with two roots in the store: which one the CSMS chains to is unknown, so neither goes."""
    decided = install_root(NONE, True, ("a", "b"), "new", ("a",))
    assert decided == RootInstall(RootMigration(fallback=("a", "b")))


@pytest.mark.requirements("M05.FR.13", "M05.FR.14")
def test_an_attempt_trusts_the_current_roots_then_the_fallback_only() -> None:
    migration = RootMigration(fallback=("old",))
    assert trusted_roots(NONE, ("a", "b")) is None
    assert trusted_roots(migration, ("old", "new")) == ("new",)
    assert trusted_roots(RootMigration(("old",), trying_fallback=True), ("old", "new")) == ("old",)


def test_deleting_the_fallback_would_strand_the_station_and_the_current_root_ends_the_migration() -> None:
    migration = RootMigration(fallback=("old",))
    assert strands(migration, "old")
    assert not strands(migration, "new")
    assert on_root_deleted(migration, "new", ("old",)) == NONE, "the fallback is all that is left: it is current"
    assert on_root_deleted(NONE, "x", ("y",)) == NONE


@pytest.mark.parametrize(
    ("stored", "installed", "fallback"),
    [
        (["old"], ("old", "new"), ("old",)),
        (["old"], ("old",), ()),
        (["gone"], ("new",), ()),
        ("garbage", ("old", "new"), ()),
        (None, ("old",), ()),
    ],
)
def test_the_fallback_survives_a_restart_as_far_as_the_store_still_holds_it(
    stored: object, installed: tuple[str, ...], fallback: tuple[str, ...]
) -> None:
    assert restore({FALLBACK_KEY: stored}, installed) == RootMigration(fallback=fallback)
