"""OCPP-J (Part 4) and nothing of any functional block: frames, schemas, the RPC session, the persistent lane,
message splitting, the connection and its back-off, and time as OCPP writes it."""
