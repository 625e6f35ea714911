"""Help: a site's questions and answers loaded from a TOML file (all or nothing, replacing the
last), and `GET /v1/help` in the language asked for, for anyone at a terminal of the site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from kiosk_server.admin.help import HelpFileError, demo_help_text, load_help
from kiosk_server.cli import main
from kiosk_server.models import Site
from tests.conftest import device_client
from tests.factories import Factory
from tests.server.cli_support import isolate_environment
from tests.server.conftest import assert_problem

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "help.toml"

SMALL = """
[contact]
fr = "Accueil : poste 12"

[[entries]]
topic = "pin"
fr.question = "J'ai oublié mon code PIN"
fr.answer = "Touchez « Code PIN oublié ? »."
en.question = "I forgot my PIN"
en.answer = "Touch “Forgotten PIN?”."

[[entries]]
topic = "parking"
fr.question = "[b]Où me garer ?[/b]"
fr.answer = "Parking P2, niveau -1.\\nBadge à l'entrée."
"""


async def load(factory: Factory, site: Site, text: str) -> int:
    async with factory.session_factory() as session, session.begin():
        return await load_help(session, site_code=site.code, text=text)


async def help_of(kiosk: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    answer = await kiosk.get("/v1/help", params=params)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_help_in_the_language_asked_for_else_the_sites(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    assert await load(factory, site, SMALL) == 2
    french = await help_of(kiosk)  # no language: the site's
    assert french["contact"] == "Accueil : poste 12"
    assert [(e["topic"], e["question"]) for e in french["entries"]] == [
        ("pin", "J'ai oublié mon code PIN"),
        ("parking", "[b]Où me garer ?[/b]"),  # stored as typed: the terminal shows it as text
    ]
    assert french["entries"][1]["answer"] == "Parking P2, niveau -1.\nBadge à l'entrée."
    english = await help_of(kiosk, language="en")
    assert [e["question"] for e in english["entries"]] == [
        "I forgot my PIN",
        "[b]Où me garer ?[/b]",  # not given in English: in the site's language
    ]
    assert english["contact"] == "Accueil : poste 12"
    assert_problem(await kiosk.get("/v1/help", params={"language": "de"}), 422, "validation-failed")


async def test_each_site_has_its_own_help(
    service_app: FastAPI, kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    nord = await factory.site("NORD", name="Site Nord")
    await load(factory, site, SMALL)
    await load(factory, nord, demo_help_text())
    # The terminal serves CANTINE only: Nord's help is not its to show.
    assert_problem(
        await kiosk.get("/v1/help", params={"solution_code": "NORD"}), 404, "solution-unknown"
    )
    both = await factory.device([site, nord], name="Borne double")
    async with device_client(service_app, both.key) as terminal:
        assert len((await help_of(terminal, solution_code="NORD"))["entries"]) == 10
        assert len((await help_of(terminal, solution_code="cantine"))["entries"]) == 2


async def test_a_load_replaces_the_help_and_a_bad_file_changes_nothing(
    kiosk: httpx.AsyncClient, factory: Factory, site: Site
) -> None:
    await load(factory, site, demo_help_text())
    await load(factory, site, SMALL)
    assert len((await help_of(kiosk))["entries"]) == 2
    broken = """
    colour = "red"
    [contact]
    fr = "Accueil\\u0007"
    [[entries]]
    topic = "Mot de passe"
    fr.question = ""
    fr.answer = "..."
    [[entries]]
    topic = "pin"
    english.question = "?"
    fr = { question = "Q" }
    """
    with pytest.raises(HelpFileError) as refused:
        await load(factory, site, broken)
    assert refused.value.errors == [
        "unknown top-level key colour",
        "contact.fr must not contain control characters (U+0007)",
        "entry #1: topic must be 1 to 32 of a-z, 0-9 and -",
        "entry #1: fr.question must be non-empty text",
        "entry #2: unknown key english (languages are two letters)",
        "entry #2: fr must have a question and an answer, only",
    ]
    assert len((await help_of(kiosk))["entries"]) == 2


def test_the_example_is_what_the_demo_loads_and_it_loads(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == demo_help_text()
    isolate_environment(monkeypatch, tmp_path)
    assert main(["site", "create", "acme", "--name", "Acme", "--database-url", database_url]) == 0
    status = main(["help", "load", "ACME", str(EXAMPLE), "--database-url", database_url])
    assert status == 0, capsys.readouterr().err
    assert "Help of ACME loaded from" in capsys.readouterr().out
