"""Local development tooling: DynamoDB Local without Docker."""
