"""The history function: balance item changes from the stream into history records."""
