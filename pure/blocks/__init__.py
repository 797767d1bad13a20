"""The OCPP 2.0.1 functional blocks, one module or package each, named by the letter their requirement ids carry."""
