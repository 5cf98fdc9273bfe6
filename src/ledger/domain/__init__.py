"""Pure values and rules of the ledger: money, records, identifiers, errors, limits; no I/O."""
