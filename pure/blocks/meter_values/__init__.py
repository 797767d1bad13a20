"""Block J, meter values: readings as OCPP writes them, sampled and clock-aligned."""
