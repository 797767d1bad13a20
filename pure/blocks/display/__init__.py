"""Block O, display messages: the CSMS's messages as data (O01-O06) and what each EVSE's display shows."""
