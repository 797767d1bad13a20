"""The device model (Part 2): the catalogue, value rules, get/set, config and persisted values, addressing,
and the masking of WriteOnly values; no functional block."""
