"""`chargecore run`'s `reservations` and `reserve EVSE` commands, and the lines the simulated charger prints for a
reservation made and ended, with the reservation sent by `chargecore csms`'s `reserve` command words."""

from __future__ import annotations

from pathlib import Path

from test_cli import STATION_ID, WAIT, booted, local_csms, station

from chargecore.tools import csms_reservations


def test_the_operator_sees_a_reservation_made_listed_and_cancelled(tmp_path: Path) -> None:
    with local_csms(heartbeat_interval=3600) as csms, station(csms, tmp_path) as running:
        booted(csms)
        request = csms_reservations.reserve_now(["7", "1", "DRIVER1", "5"])
        assert csms.call(STATION_ID, "ReserveNow", request, WAIT) == {"status": "Accepted"}
        assert "for DRIVER1 (ISO14443)" in running.printed("reservation 7 made: EVSE 1")
        running.command("reservations")
        assert "token DRIVER1 (ISO14443), expires" in running.printed("reservation 7: EVSE 1")
        running.command("reserve 1")
        running.printed("connector 1: Reserved")
        running.command("reserve 9")
        running.printed("no EVSE 9")
        answer = csms.call(STATION_ID, "CancelReservation", csms_reservations.cancel_reservation(["7"]), WAIT)
        assert answer == {"status": "Accepted"}
        running.printed("reservation 7 ended: Cancelled")
        running.command("reservations")
        running.printed("no reservations")
        running.command("quit")
        assert running.exit_code() == 0
