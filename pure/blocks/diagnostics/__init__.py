"""Block N, diagnostics: log upload (N01 GetLog) and customer information (N09, N10)."""
