"""Block E, transactions."""
