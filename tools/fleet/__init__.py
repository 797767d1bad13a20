"""`chargecore fleet`: many simulated stations in one asyncio process, driven by a seedable scenario."""
