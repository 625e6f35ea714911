"""The `/v1` routes: parse, call a service function, answer."""

API = "/v1"
"""The prefix of every API route. Each router carries it itself: the app serves the routers'
own routes (`kiosk_server.app`), not the routers included under a prefix."""
