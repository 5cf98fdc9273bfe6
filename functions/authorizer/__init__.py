"""The API's Lambda authorizer function."""
