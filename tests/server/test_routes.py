"""The route table: no two operations answer the same request, so the order in which the app
includes its routers (busiest first, for speed) changes no answer."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import Route

from kiosk_server.app import create_app
from kiosk_server.settings import ServerSettings


def _pattern(path: str, parameters: dict[str, str]) -> re.Pattern[str]:
    """The requests a path template takes: an integer parameter only digits, any other a
    segment."""

    def segment(match: re.Match[str]) -> str:
        return "[0-9]+" if parameters.get(match.group(1)) == "integer" else "[^/]+"

    return re.compile("^" + re.sub(r"\{([^}]+)\}", segment, path) + "$")


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "7", path)


def test_each_request_has_one_operation(tmp_path: Any) -> None:
    app = create_app(ServerSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    operations: list[tuple[str, str, re.Pattern[str]]] = []
    for path, methods in app.openapi()["paths"].items():
        for method, operation in methods.items():
            kinds = {
                p["name"]: p["schema"].get("type", "")
                for p in operation.get("parameters", [])
                if p["in"] == "path"
            }
            operations.append((method, path, _pattern(path, kinds)))
    assert len(operations) > 50
    for method, path, _ in operations:
        request = _sample(path)
        answering = [p for m, p, pattern in operations if m == method and pattern.match(request)]
        assert answering == [path], (method, request)


def test_the_app_serves_the_routes_as_built_at_import(tmp_path: Any) -> None:
    """Every route of the table is a route the app serves as it is, none an included router:
    FastAPI builds an included router's routes a second time at the first request that reaches
    them, which made the first request after start wait 90-150 ms."""
    app = create_app(ServerSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    kinds = {type(route) for route in app.router.routes}
    assert kinds == {APIRoute, Route}  # the API's operations; FastAPI's own pages (/docs)
    paths = {route.path for route in app.router.routes if isinstance(route, APIRoute)}
    assert "/v1/me" in paths
    assert "/sandbox/checkout/{ref}" in paths
    assert all(path.startswith(("/v1/", "/sandbox/")) for path in paths)
