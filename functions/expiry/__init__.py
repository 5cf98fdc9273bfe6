"""The expiry function: pending entries expired and noticed before their expiry, on a schedule."""
