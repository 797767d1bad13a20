"""Block G, availability: connector status, Heartbeat and ChangeAvailability."""
