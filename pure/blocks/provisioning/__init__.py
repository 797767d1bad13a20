"""Block B, provisioning: boot and registration, the device model over OCPP (GetVariables, SetVariables,
reports), Reset, and the network connection profiles."""
