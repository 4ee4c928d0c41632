"""One store's place in bcsync: its keys, registry, settings, credentials, job state, outbox and problems,
the DynamoDB helpers they share, and connecting a store."""
