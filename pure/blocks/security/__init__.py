"""Block A, security: security events (A04)."""
