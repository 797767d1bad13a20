"""Tools around the station, not the station: the local CSMS (`chargecore csms`) and the demo (`chargecore demo`)."""
