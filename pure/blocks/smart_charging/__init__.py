"""Block K, smart charging: charging profiles, their validation, the composite schedule, external limits and
ISO 15118 charging needs."""
