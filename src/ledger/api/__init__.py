"""The HTTP API: a powertools resolver over the library, its schemas, and the authorizer."""
