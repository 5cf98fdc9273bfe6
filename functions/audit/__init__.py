"""The audit function: balance item changes from the stream into the audit chain."""
