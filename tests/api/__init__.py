"""In-process tests of the API Lambda handler and its authorizer, on a moto table."""
