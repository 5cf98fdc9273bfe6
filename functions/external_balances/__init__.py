"""The external balances function: every configured source checked, on a schedule."""
