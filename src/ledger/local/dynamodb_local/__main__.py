"""`python -m ledger.local.dynamodb_local fetch`: install the pinned DynamoDB Local."""

from ledger.local.dynamodb_local.install import main

raise SystemExit(main())
