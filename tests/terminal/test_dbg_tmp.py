import datetime as dt
from textual.widgets import OptionList
from tests.terminal.test_tickets_screen import *  # noqa

async def test_dbg(make_kiosk, factory, site) -> None:
    account = await factory.account(site, "jeanne", pin=PIN)
    await factory.ticket_history(account, 75, start=START, every=dt.timedelta(days=1))
    app = make_kiosk()
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot)
        await pilot.click("#tickets")
        await settle(pilot)
        s = app.screen
        ol = s.query_one(OptionList)
        await pilot.press("home")
        await settle(pilot)
        print("focused", app.focused, ol.highlighted)
        await pilot.press("enter")
        await settle(pilot)
        print(app.screen_stack, s.message)
