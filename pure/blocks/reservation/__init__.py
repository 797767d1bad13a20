"""Block H, reservation: ReserveNow (H01), CancelReservation (H02), using a reservation (H03) and
ReservationStatusUpdate (H04)."""
