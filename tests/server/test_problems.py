"""Every error is a problem document (RFC 9457) with a stable code."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.server.conftest import assert_problem


async def test_problem_document_shape(kiosk: httpx.AsyncClient) -> None:
    response = await kiosk.post(
        "/v1/auth/identify", json={"solution_code": "NOWHERE", "identifier": "E1"}
    )
    body = assert_problem(response, 404, "solution-unknown")
    assert body == {
        "type": "/problems/solution-unknown",
        "title": "Unknown solution",
        "status": 404,
        "code": "solution-unknown",
        "detail": "No such solution on this terminal.",
        "instance": "/v1/auth/identify",
    }


async def test_validation_errors_name_the_fields(kiosk: httpx.AsyncClient) -> None:
    response = await kiosk.post(
        "/v1/auth/verification-codes", json={"solution_code": "CANTINE", "purpose": "dance"}
    )
    body = assert_problem(response, 422, "validation-failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {error["field"] for error in errors} == {"identifier", "purpose"}
    assert all(error["message"] for error in errors)

    not_json = await kiosk.post(
        "/v1/auth/identify", content=b"{", headers={"Content-Type": "application/json"}
    )
    # Not JSON at all is a problem of its own, which says where the JSON broke.
    broken = assert_problem(not_json, 400, "body-malformed")
    assert "JSON" in str(broken["detail"])


async def test_unknown_route_and_method(api: httpx.AsyncClient) -> None:
    assert_problem(await api.get("/v1/nothing-here"), 404, "not-found")
    wrong_method = await api.post("/v1/health")
    assert_problem(wrong_method, 405, "method-not-allowed")
    assert wrong_method.headers["Allow"] == "GET"
    # Every method of the path, though each is a route of its own.
    several = await api.put("/v1/me/visits/5")
    assert_problem(several, 405, "method-not-allowed")
    assert several.headers["Allow"] == "DELETE, GET, PATCH"


async def test_unexpected_error_is_a_calm_500_and_logged_without_details(
    api: httpx.AsyncClient, service_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        secret_pin = "415926"  # a local variable a careless logger would print
        if secret_pin:
            raise RuntimeError("boom")

    service_app.add_api_route("/v1/explode", explode)
    with caplog.at_level(logging.ERROR, logger="kiosk_server"):
        response = await api.get("/v1/explode")
    body = assert_problem(response, 500, "internal-error")
    assert "boom" not in response.text
    assert "415926" not in response.text
    assert body["instance"] == "/v1/explode"
    (record,) = [r for r in caplog.records if r.name.startswith("kiosk_server")]
    assert record.exc_info is not None
    assert "boom" in caplog.text
    assert "415926" not in caplog.text


def test_openapi_lists_routes_and_problems(service_app: FastAPI) -> None:
    document = service_app.openapi()
    assert document["info"]["title"] == "Badge kiosk service"
    documented = _documented_paths()
    undocumented = sorted(path for path in document["paths"] if _template(path) not in documented)
    assert not undocumented, f"routes missing from docs/api.md: {undocumented}"
    assert {
        "/v1/health",
        "/v1/device",
        "/v1/auth/identify",
        "/v1/auth/verification-codes",
        "/v1/auth/verification-codes/check",
        "/v1/auth/pin",
        "/v1/auth/sessions",
        "/v1/auth/sessions/current",
        "/v1/me",
    } <= set(document["paths"])
    sign_in = document["paths"]["/v1/auth/sessions"]["post"]["responses"]
    assert {"201", "401", "404", "409", "423", "429"} <= set(sign_in)
    assert "Problem" in document["components"]["schemas"]


def _template(path: str) -> str:
    """A route with its parameters unnamed: `/v1/me/orders/{order_id}` → `/v1/me/orders/{}`."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _documented_paths() -> set[str]:
    """Every `/v1/...` route named in docs/api.md, the contract in words."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    return {_template(path) for path in re.findall(r"/v1/[A-Za-z0-9_\-./{}]*", text)}
