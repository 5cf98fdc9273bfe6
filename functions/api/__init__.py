"""The HTTP API function."""
