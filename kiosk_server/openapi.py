"""Write the service's OpenAPI document, the contract committed as `api/openapi.json`.

    uv run python -m kiosk_server.openapi > api/openapi.json

A test compares the committed copy with what the code generates, so the contract cannot drift
silently: change the code, regenerate, review the diff, commit both.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def openapi_document() -> dict[str, Any]:
    """The document as the code describes it (no database is touched)."""
    from kiosk_server.app import create_app
    from kiosk_server.settings import ServerSettings

    app = create_app(ServerSettings(database_url="sqlite:///:memory:"))
    document: dict[str, Any] = app.openapi()
    # The package version changes with every release; the contract does not.
    document["info"]["version"] = "v1"
    return document


def render() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
