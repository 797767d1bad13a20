"""Block I, tariff and cost: the driver's tariff and the running and final cost of a transaction (I01-I06), with
the California pricing extensions (customData org.openchargealliance.costmsg)."""
