"""The local runtime: DynamoDB Local, stand-ins for API Gateway and Lambda, `ledger dev`."""
