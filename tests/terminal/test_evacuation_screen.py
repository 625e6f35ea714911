"""The muster at the reception desk through the pilot, on the real service: from the roll call,
start the evacuation, mark people safe as they reach the muster point, see who is missing, close
it and find the report in the terminal's data directory."""

from __future__ import annotations

from pathlib import Path

from kiosk.screens.evacuation import EvacuationScreen
from kiosk.widgets.visitor_table import VisitorTable
from tests.terminal.conftest import SIZE, KioskFactory, screen_text, settle
from tests.terminal.visits_ui_support import Staff, sign_in, staff

__all__ = ["staff"]


def rows(screen: EvacuationScreen) -> list[tuple[str, ...]]:
    return [row.cells for row in screen.query_one(VisitorTable).shown]


async def test_a_muster_from_the_roll_call(
    make_kiosk: KioskFactory, staff: Staff, tmp_path: Path
) -> None:
    await staff.visit("Léa", "Dupont", "ACME", approve=True, check_in=True)
    await staff.visit("Marc", "Durand", "Globex", approve=True, check_in=True)
    app = make_kiosk(data_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "R1")
        for button in ("#reception", "#roll-call", "#evacuation"):
            await pilot.click(button)
            await settle(pilot)
        screen = app.screen
        assert isinstance(screen, EvacuationScreen)
        assert "Aucune évacuation en cours" in screen_text(app)

        await pilot.click("#start")
        await settle(pilot)
        assert [r[0] for r in rows(screen)] == ["Léa Dupont", "Marc Durand"]
        assert all(r[3] == "MANQUANT" for r in rows(screen))
        assert "En sécurité : 0 · Manquants : 2" in screen_text(app)

        # Enter on the highlighted row: Léa reached the muster point.
        await pilot.press("enter")
        await settle(pilot)
        assert "Léa Dupont est en sécurité." in screen_text(app)
        assert "En sécurité : 1 · Manquants : 1" in screen_text(app)
        assert rows(screen)[0][0] == "Marc Durand"  # the missing first
        assert rows(screen)[1][3].startswith("En sécurité")

        # Another desk marks Marc: the list follows.
        evacuation = await staff.desk.current_evacuation()
        [marc] = [p for p in evacuation.people if p.last_name == "Durand"]
        await staff.desk.mark_safe(evacuation.id, marc.visitor_id)
        screen.action_refresh()
        await settle(pilot)
        assert "En sécurité : 2 · Manquants : 0" in screen_text(app)

        # Closing takes two presses; the report is written.
        await pilot.click("#close")
        await settle(pilot)
        assert "Appuyez de nouveau" in screen_text(app)
        await pilot.pause(0.3)  # a person's second press (a button ignores one within 0.2 s)
        await pilot.click("#close")
        await settle(pilot)
        assert "Évacuation close : 2 en sécurité, 0 manquant(s)" in screen_text(app)
        assert screen.report is not None
        report = Path(screen.report)
        assert report.parent == tmp_path / "reception"
        assert report.stat().st_mode & 0o777 == 0o600
        lines = report.read_text(encoding="utf-8").splitlines()
        assert lines[1].startswith("status,last_name")
        assert sorted(line.split(",")[1] for line in lines[2:]) == ["Dupont", "Durand"]
    # Closed: a new one may start, with the two still on site as missing.
    assert (await staff.desk.start_evacuation()).missing == 2
