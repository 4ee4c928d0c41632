"""One store's place in bcsync: registry, settings, credentials, job state, outbox, problems."""
