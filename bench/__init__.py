"""Benchmarks: DynamoDB round trips, items written and CPU time per ledger operation."""
