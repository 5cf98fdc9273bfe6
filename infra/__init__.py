"""The CDK app that deploys the ledger: one stack, one construct per concern."""
