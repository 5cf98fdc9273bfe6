"""The `ledger` command line."""

from ledger.cli.app import main

__all__ = ["main"]
