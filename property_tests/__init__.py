"""Property tests of the pure core (`chargecore.pure.station.step`), driven by hypothesis."""
