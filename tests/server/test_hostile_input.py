"""Hostile text at the service's doors: the admin imports (accounts, catalogue, help) and the API.

What could drive or disguise a terminal (NUL, ANSI and OSC escapes, C1 controls, bidi overrides)
and what is too long is refused, with the line or the field named, and nothing of the file is
written; what is only unusual (markup, right-to-left scripts, combining marks, emoji sequences,
a field at its very limit) is stored and given back byte for byte. A file that is not UTF-8 is
refused in words, and so is a JSON body that is not. On SQLite and PostgreSQL.

The kiosk's side, text that got into the database some other way shown on every screen, is
tests/terminal/test_hostile_text.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.models import CatalogueItem, HelpEntry
from tests.server.cli_support import isolate_environment, read_database
from tests.server.conftest import assert_problem
from tests.server.test_admin import Cli, accounts_of, write
from tests.server.visits_support import (
    People,
    people_fixture,  # noqa: F401 - the `people` fixture
    visit_body,
    visitor,
)

MARKUP = "[@click=app.quit]Q[/] [link=https://evil.example]L[/link]"
RTL = "مرحبا שלום"
COMBINING = "Z\u0351\u0352a\u0300\u0301l\u0302g\u0303o"
EMOJI = "👩\u200d💻"
ODD = f"{MARKUP} {RTL} {COMBINING} {EMOJI}"
"""Unusual but harmless: stored and given back as it is."""

CONTROLS = {
    "NUL": "a\x00b",
    "ANSI": "\x1b[2J\x1b[31mred",
    "OSC": "\x1b]0;pwned\x07title",
    "C1": "a\x9b1mb",
    "bidi override": "\u202eesrever",
}
"""What could drive or disguise a terminal: refused."""


def _toml(text: str) -> str:
    """`text` as a TOML basic string, its control characters escaped (TOML takes none raw)."""
    escaped = "".join(
        f"\\u{ord(c):04X}" if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in '"\\' else c
        for c in text
    )
    return f'"{escaped}"'


def _padded(text: str, length: int) -> str:
    """`text` made exactly `length` characters long."""
    return (text + " " + "W" * length)[:length]


@pytest.fixture
def acme(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Cli:
    """`kiosk-server` on a migrated database holding one site, ACME."""
    isolate_environment(monkeypatch, tmp_path)
    cli = Cli(database_url, capsys)
    assert cli("site", "create", "acme", "--name", "Acme Campus") == 0
    return cli


# --- accounts ----------------------------------------------------------------------------------


def test_an_account_import_keeps_odd_names_byte_for_byte(acme: Cli, tmp_path: Path) -> None:
    at_limit = _padded(ODD, 200)
    text = f'identifier,name,email,phone\n1,"{ODD}",a@example.com,\n2,"{at_limit}",b@example.com,\n'
    assert acme("accounts", "import", "ACME", write(tmp_path, "odd.csv", text)) == 0, acme.err
    accounts = accounts_of(acme.url, "ACME")
    assert accounts["1"].name == ODD
    assert accounts["2"].name == at_limit


@pytest.mark.parametrize("kind", [*CONTROLS, "too long"])
def test_an_account_import_with_a_control_or_an_over_long_name_writes_nothing(
    acme: Cli, tmp_path: Path, kind: str
) -> None:
    bad = _padded(ODD, 201) if kind == "too long" else CONTROLS[kind]
    text = f'identifier,name,email,phone\n1,Good,a@example.com,\n2,"{bad}",b@example.com,\n'
    assert acme("accounts", "import", "ACME", write(tmp_path, "bad.csv", text)) == 2
    assert ":3: name must be at most 200 printable characters" in acme.err
    assert "Traceback" not in acme.err
    assert accounts_of(acme.url, "ACME") == {}


def test_an_import_file_that_is_not_utf8_is_refused_in_words(acme: Cli, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"identifier,name,email,phone\n1,Ren\xe9 \xff\xfe,a@example.com,\n")
    assert acme("accounts", "import", "ACME", str(path)) == 2
    assert f"{path} is not UTF-8 text" in acme.err
    assert "Traceback" not in acme.err
    assert accounts_of(acme.url, "ACME") == {}


# --- catalogue and help ------------------------------------------------------------------------


def _item(name: str, description: str) -> str:
    return (
        "[[items]]\n"
        'code = "ODD"\n'
        f"name = {_toml(name)}\n"
        f"description = {_toml(description)}\n"
        "price_cents = 450\nvat_rate_bp = 1000\n"
    )


def _catalogue(database: str) -> list[CatalogueItem]:
    async def work(session: AsyncSession) -> list[CatalogueItem]:
        return list(await session.scalars(select(CatalogueItem)))

    return read_database(database, work)


def _entry(question: str, answer: str) -> str:
    return f'[[entries]]\ntopic = "pin"\nfr.question = {_toml(question)}\nfr.answer = {_toml(answer)}\n'


def _help(database: str) -> list[HelpEntry]:
    async def work(session: AsyncSession) -> list[HelpEntry]:
        return list(await session.scalars(select(HelpEntry)))

    return read_database(database, work)


def test_catalogue_and_help_keep_odd_text_byte_for_byte(acme: Cli, tmp_path: Path) -> None:
    description = f"{ODD}\n{MARKUP}"  # a description may hold line feeds
    path = write(tmp_path, "catalogue.toml", _item(ODD, description))
    assert acme("catalogue", "load", "ACME", path) == 0, acme.err
    (item,) = _catalogue(acme.url)
    assert (item.name, item.description) == (ODD, description)

    path = write(tmp_path, "help.toml", _entry(ODD, description))
    assert acme("help", "load", "ACME", path) == 0, acme.err
    (entry,) = _help(acme.url)
    assert entry.texts["fr"] == {"question": ODD, "answer": description}


@pytest.mark.parametrize("kind", [*CONTROLS, "too long"])
def test_catalogue_and_help_with_a_control_or_over_long_text_write_nothing(
    acme: Cli, tmp_path: Path, kind: str
) -> None:
    bad = _padded(ODD, 10_000) if kind == "too long" else CONTROLS[kind]
    expected = "at most" if kind == "too long" else "must not contain control characters"

    path = write(tmp_path, "catalogue.toml", _item("Good", "Fine") + _item(bad, "Fine"))
    assert acme("catalogue", "load", "ACME", path) == 2
    assert "name must" in acme.err and expected in acme.err, acme.err
    assert "Traceback" not in acme.err
    assert _catalogue(acme.url) == []

    path = write(tmp_path, "help.toml", _entry("Good?", "Fine.") + _entry("Bad?", bad))
    assert acme("help", "load", "ACME", path) == 2
    assert "answer must" in acme.err and expected in acme.err, acme.err
    assert "Traceback" not in acme.err
    assert _help(acme.url) == []


# --- the API -----------------------------------------------------------------------------------


async def test_odd_text_in_a_visit_comes_back_byte_for_byte(people: People) -> None:
    first_name = _padded(ODD, 100)  # the field's limit
    body = visit_body(
        visitors=[visitor(first_name=first_name, last_name=RTL, company=MARKUP)],
        reason=_padded(COMBINING + EMOJI, 200),
    )
    created = await people.host.post("/v1/me/visits", json=body, headers=people.host_headers)
    assert created.status_code == 201, created.text
    read = await people.host.get(
        f"/v1/me/visits/{created.json()['id']}", headers=people.host_headers
    )
    (guest,) = read.json()["visitors"]
    assert (guest["first_name"], guest["last_name"], guest["company"]) == (first_name, RTL, MARKUP)
    assert read.json()["reason"] == body["reason"]


@pytest.mark.parametrize("kind", [*CONTROLS, "too long", "lone surrogate"])
async def test_a_visit_with_a_control_an_over_long_or_unencodable_name_is_refused(
    people: People, kind: str
) -> None:
    bad = {"too long": "W" * 10_000, "lone surrogate": "a\ud800b"}.get(kind) or CONTROLS[kind]
    body = visit_body(visitors=[visitor(last_name=bad)])
    # Written by hand: a lone surrogate is valid JSON (an escape) but no Unicode text.
    content = json.dumps(body, ensure_ascii=True).encode()
    answer = await people.host.post(
        "/v1/me/visits",
        content=content,
        headers={**people.host_headers, "Content-Type": "application/json"},
    )
    problem = assert_problem(answer, 422, "validation-failed")
    assert "last_name" in json.dumps(problem)
    listed = await people.host.get("/v1/me/visits", headers=people.host_headers)
    assert listed.json()["items"] == []


async def test_a_body_that_is_not_utf8_is_a_problem_document(people: People) -> None:
    content = json.dumps(visit_body()).encode().replace(b"R\\u00e9union", b"R\xe9union \xff")
    answer = await people.host.post(
        "/v1/me/visits",
        content=content,
        headers={**people.host_headers, "Content-Type": "application/json"},
    )
    problem = assert_problem(answer, 400, "body-malformed")
    assert problem["detail"] == "The body could not be read as JSON."
