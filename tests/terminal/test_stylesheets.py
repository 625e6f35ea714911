"""Every stylesheet of the kiosk is read: the welcome screen's before the first frame, the other
screens' right after it (`KioskApp.CSS_PATH`, `_LATER_CSS`)."""

from __future__ import annotations

from pathlib import Path

from kiosk import app as kiosk_app
from tests.terminal.conftest import SIZE, KioskFactory, settle

KIOSK_DIR = Path(kiosk_app.__file__).parent


def test_every_stylesheet_is_listed_once() -> None:
    on_disk = sorted(str(path.relative_to(KIOSK_DIR)) for path in KIOSK_DIR.rglob("*.tcss"))
    listed = [*kiosk_app.KioskApp.CSS_PATH, *kiosk_app._LATER_CSS]
    assert sorted(listed) == on_disk


async def test_once_the_welcome_screen_is_up_every_stylesheet_is_in_force(
    make_kiosk: KioskFactory,
) -> None:
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        missing = [
            path
            for path in sorted(KIOSK_DIR.rglob("*.tcss"))
            if not app.stylesheet.has_source(str(path.resolve()))
        ]
        assert missing == []
