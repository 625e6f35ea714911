"""The contract checked from both sides: the terminal's models (`kiosk/api/models.py`) read what
the service's committed API document (`api/openapi.json`) says it sends, and every problem code
the routes document for a terminal has a sentence a person can read (`kiosk/problems.py`).

`tests/test_openapi.py` keeps the document equal to the service's code; this test keeps the
terminal equal to the document. A field the terminal reads that the service does not send, a
field it requires that the service may leave out, a type or a value it cannot take, or a new
refusal with no message would each fail here, before a person meets it at a kiosk."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import kiosk.api.models as terminal_models
from kiosk.problems import PROBLEM_MESSAGES

DOCUMENT = Path(__file__).resolve().parents[1] / "api" / "openapi.json"

SERVER_NAMES = {
    "SiteDetails": "SiteInfo",
    "Identity": "Identified",
    "VerificationSent": "VerificationCodeSent",
    "PinSetup": "PinSetupGrant",
    "TopUp": "TopUpOut",
    "TicketLine": "TicketLineOut",
    "ProblemDocument": "Problem",
    "ProblemFieldError": "FieldError",
    "CatalogueItem": "CatalogueItemOut",
    "OrderLine": "OrderLineOut",
    "OrderEvent": "OrderEventOut",
    "Notification": "NotificationOut",
    "Settings": "SettingsOut",
    "VisitorInfo": "VisitorOut",
    "VisitEvent": "VisitEventOut",
}
"""Terminal model → the schema of the document it reads, where the names differ."""

SENT_BY_THE_TERMINAL = {"VisitorInput": "VisitorIn"}
"""Terminal models that are request bodies: checked the other way round (what the terminal
sends, the service must accept)."""

TIME_OF_DAY = "^([01][0-9]|2[0-3]):[0-5][0-9]"

DEVICE_ONLY = {
    # Tills, doors and kitchen screens: devices without a person in front of a kiosk screen.
    "badge-malformed",
    "badge-tampered",
    "badge-expired",
    "badge-other-site",
    "badge-already-used",
    "total-mismatch",
    "order-transition-forbidden",
    # Webhooks from the payment provider, not a terminal's calls.
    "webhook-signature-invalid",
    # The terminal always sends a well-formed key and is enrolled as a terminal.
    "idempotency-key-missing",
    "idempotency-key-invalid",
    "device-role-forbidden",
}
"""Problem codes a terminal's person never meets: no sentence needed in `kiosk/problems.py`."""


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return document


def _terminal_classes() -> dict[str, type[BaseModel]]:
    return {
        name: value
        for name, value in vars(terminal_models).items()
        if inspect.isclass(value)
        and issubclass(value, BaseModel)
        and value.__module__ == terminal_models.__name__
        and not name.startswith("_")
    }


def _server_name(terminal_name: str) -> str:
    return SERVER_NAMES.get(terminal_name) or SENT_BY_THE_TERMINAL.get(terminal_name, terminal_name)


def _kinds(schema: dict[str, Any], *, terminal: bool) -> frozenset[str]:
    """The kinds of JSON value a schema allows, comparable across the two sides: `null`,
    `boolean`, `integer`, `number`, `string`, `string:<format>`, `enum:<value>`,
    `object:<document schema name>`, `object`, `array<...>`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return frozenset({f"object:{_server_name(name) if terminal else name}"})
    if "anyOf" in schema or "oneOf" in schema:
        kinds: set[str] = set()
        for option in schema.get("anyOf", []) + schema.get("oneOf", []):
            kinds |= _kinds(option, terminal=terminal)
        return frozenset(kinds)
    if "const" in schema:
        return frozenset({f"enum:{schema['const']}"})
    if "enum" in schema:
        return frozenset(f"enum:{value}" for value in schema["enum"])
    kind = schema.get("type")
    if kind == "array":
        items = _kinds(schema.get("items", {}), terminal=terminal)
        return frozenset({f"array<{'|'.join(sorted(items))}>"})
    if kind == "string" and schema.get("format") in {"date-time", "date", "time", "uri"}:
        return frozenset({f"string:{schema['format']}"})
    if kind == "string" and schema.get("pattern", "").startswith(TIME_OF_DAY):
        # The service's times of day are strings of a pattern (`kiosk_server.fields`).
        return frozenset({"string:time"})
    if kind is None:
        return frozenset({"any"})
    return frozenset({kind})


def _accepts(reader: frozenset[str], value: frozenset[str]) -> set[str]:
    """The kinds of `value` that a field of kinds `reader` cannot take."""
    if "any" in reader:
        return set()
    refused = set()
    for kind in value:
        if kind in reader:
            continue
        if kind == "integer" and "number" in reader:
            continue
        if kind.startswith("enum:") and "string" in reader:
            continue
        if kind.startswith("string:") and "string" in reader:
            continue
        if kind.startswith("object:") and "object" in reader:
            continue
        refused.add(kind)
    return refused


def _fields(schema: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    return schema.get("properties", {}), set(schema.get("required", []))


def _mismatches(name: str, model: type[BaseModel], schemas: dict[str, Any]) -> list[str]:
    server = schemas[_server_name(name)]
    server_fields, server_required = _fields(server)
    if name in SENT_BY_THE_TERMINAL:
        mine = model.model_json_schema(mode="serialization", ref_template="#/{model}")
        sent_fields, _ = _fields(mine)
        found = [
            f"{name}.{field}: the service does not take it"
            for field in sent_fields
            if field not in server_fields
        ]
        found += [
            f"{name}.{field}: the service requires it"
            for field in server_required
            if field not in sent_fields
        ]
        return found
    mine = model.model_json_schema(mode="validation", ref_template="#/{model}")
    my_fields, my_required = _fields(mine)
    found = []
    for field, schema in my_fields.items():
        if field not in server_fields:
            found.append(f"{name}.{field}: the service does not send it")
            continue
        if field in my_required and field not in server_required:
            found.append(f"{name}.{field}: required here, optional in the document")
        refused = _accepts(
            _kinds(schema, terminal=True), _kinds(server_fields[field], terminal=False)
        )
        if refused:
            found.append(f"{name}.{field}: cannot take {sorted(refused)}")
    return found


def test_every_terminal_model_reads_a_schema_of_the_document() -> None:
    schemas = _document()["components"]["schemas"]
    missing = [
        f"{name} → {_server_name(name)}"
        for name in _terminal_classes()
        if _server_name(name) not in schemas
    ]
    assert not missing, "terminal models with no schema in api/openapi.json: " + ", ".join(missing)


@pytest.mark.parametrize("name", sorted(_terminal_classes()))
def test_the_terminal_model_takes_what_the_service_sends(name: str) -> None:
    schemas = _document()["components"]["schemas"]
    assert _mismatches(name, _terminal_classes()[name], schemas) == []


def _documented_codes(document: dict[str, Any]) -> set[str]:
    codes: set[str] = set()
    for operations in document["paths"].values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                codes |= set(re.findall(r"`([a-z0-9-]+)`", response.get("description", "")))
    return codes


def test_every_problem_a_terminal_can_meet_has_a_sentence() -> None:
    codes = _documented_codes(_document())
    assert len(codes) > 50, "the routes' refusals were not found in the document"
    without = sorted(codes - set(PROBLEM_MESSAGES) - DEVICE_ONLY)
    assert without == [], "problem codes with no message in kiosk/problems.py"


def test_every_sentence_is_for_a_code_the_routes_document() -> None:
    """A sentence for a code no route documents is either dead or, worse, a refusal the
    service sends without saying so (found: `order-empty`, `item-quantity-limit` and
    `visit-invalid` were sent but not documented)."""
    codes = _documented_codes(_document())
    assert sorted(set(PROBLEM_MESSAGES) - codes) == []


def test_the_device_only_list_names_only_documented_codes_without_a_sentence() -> None:
    codes = _documented_codes(_document())
    assert sorted(DEVICE_ONLY - codes) == []
    assert sorted(DEVICE_ONLY & set(PROBLEM_MESSAGES)) == []
