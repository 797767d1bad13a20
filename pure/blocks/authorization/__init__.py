"""Blocks C and D, authorization: the authorization flow (C), the cache (C10-C12) and the local list (D)."""
