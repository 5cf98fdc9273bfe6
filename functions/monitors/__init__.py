"""The monitors function: balance changes from the stream into monitor events."""
