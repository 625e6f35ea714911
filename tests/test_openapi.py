"""The committed contract (`api/openapi.json`) matches what the service generates."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk_server.openapi import openapi_document, render

COMMITTED = Path(__file__).resolve().parent.parent / "api" / "openapi.json"


def test_committed_openapi_matches_the_code() -> None:
    committed = COMMITTED.read_text(encoding="utf-8")
    assert committed == render(), (
        "api/openapi.json drifted from the code: run "
        "`uv run python -m kiosk_server.openapi > api/openapi.json` and review the diff"
    )


def test_every_route_documents_problem_answers() -> None:
    document = openapi_document()
    assert "Problem" in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        if path == "/v1/health":
            continue
        for method, operation in operations.items():
            problem_statuses = [
                status
                for status, answer in operation["responses"].items()
                if "application/problem+json" in answer.get("content", {})
            ]
            assert problem_statuses, f"{method.upper()} {path} documents no problem answer"


def test_committed_document_is_valid_json_with_v1_paths() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.")
    assert all(path.startswith("/v1/") for path in document["paths"])
