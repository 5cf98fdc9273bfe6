"""The inbound function: events from the inbound queue posted as entries through posting rules."""
