"""Block N, monitoring: monitors as data, the CSMS's monitoring requests, and monitor events."""
