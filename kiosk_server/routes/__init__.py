"""The `/v1` routes: parse, call a service function, answer."""
