"""The backbone every flow stands on: job messages, the runner, the fan-out, the SQS consumer."""
