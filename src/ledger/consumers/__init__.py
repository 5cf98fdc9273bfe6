"""Stream consumers: functions fed by the table's stream (NEW_AND_OLD_IMAGES)."""
