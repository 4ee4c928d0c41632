"""bcsync core: settings, state, credentials, warehouse contract, mapping and job framework."""
