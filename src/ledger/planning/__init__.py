"""Pure planning: a caller's command -> a write plan of steps, each with its guard."""
