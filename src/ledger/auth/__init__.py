"""API keys and what each may do: roles, scopes and the checks the API applies."""
