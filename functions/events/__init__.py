"""The events function: the table's changes published to the EventBridge bus."""
