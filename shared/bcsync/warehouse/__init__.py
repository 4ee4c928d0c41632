"""The warehouse contract: the events bcsync publishes and the messages it reads."""
