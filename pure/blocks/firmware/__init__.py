"""Block L, firmware management: L01 secure firmware update (docs/firmware.md)."""
