"""Blocks A and M, security: security events (A04) and the certificates the station holds (M03-M05; the store's
values, for A02/A03 renewal too)."""
