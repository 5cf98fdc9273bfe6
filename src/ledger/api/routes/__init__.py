"""The API's routes, one router per kind of object."""
