"""Visitor badges on a receipt printer (ESC/POS, through python-escpos): the visitor's name and
company, their host, the date, the site, and a QR code of the check-out token.

No Textual here, and python-escpos is imported only when a badge is printed. The badge is first
rendered into escpos' `Dummy` printer and then sent in one write, so a printer that fails never
gets half a badge from us, and the bytes are exactly those the golden-file test checks.

Text encoding: the printer is switched to code page CP1252 (ESC t 16, "WPC1252" on Epson and
most clones), which holds every French letter (é è ê ë à â ç ù û ü ô î ï œ æ ÿ and their
capitals), the euro sign and typographic quotes and dashes. A character outside CP1252 is
transliterated (its accents dropped: "ł" → "l", "ş" → "s"), else printed as "?". Every text
goes through `plain()` first, then loses any remaining non-printing character, so nothing from
the service can reach the printer as a command.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from kiosk.i18n import _
from kiosk.text import plain

if TYPE_CHECKING:
    from escpos.escpos import Escpos

    from kiosk.settings import PrinterSettings

logger = logging.getLogger(__name__)

CODE_PAGE = "CP1252"
"""The printer code page of every badge (see the module's docstring)."""
TEXT_MAX = 48
"""Longest name, company, host or site printed (a 58 mm roll has 32 to 42 columns; longer
lines wrap on the printer)."""
QR_SIZE = 6
"""Dots per QR module: a version-3 code is then about 20 mm wide on a 203 dpi printer."""


@dataclass(frozen=True, slots=True)
class VisitorBadgePrint:
    """What a printed visitor badge shows. Texts are as the service sent them: the printer
    module cleans them."""

    name: str
    """The visitor's first and last name."""
    host: str
    """The host's name."""
    date_text: str
    """The day of the visit, already formatted for the current language."""
    checkout_token: str = field(repr=False)
    """The token of the QR the visitor scans when leaving (never logged)."""
    site_name: str
    """The site's name."""
    company: str = ""
    """The visitor's company, if any."""
    photo: bytes | None = field(default=None, repr=False)
    """The visitor's still (JPEG), printed as half-tones where the printer can."""


PrintStatus = Literal["printed", "no-printer", "unavailable"]


@dataclass(frozen=True, slots=True)
class PrintOutcome:
    """What became of a badge sent to the printer. `reason` is English, for the log (it never
    holds the token or the visitor's name)."""

    status: PrintStatus
    reason: str = ""

    @property
    def printed(self) -> bool:
        """True when the printer took the whole badge."""
        return self.status == "printed"


def printable(text: str, *, max_length: int = TEXT_MAX) -> str:
    """`text` as the printer may receive it: plain (no control characters or escape
    sequences), no other non-printing character, and every character encodable in CP1252."""
    cleaned = plain(text, max_length=max_length)
    out: list[str] = []
    for char in cleaned:
        if unicodedata.category(char)[0] == "C":
            continue  # format characters, private use, unassigned: nothing to print
        if _encodable(char):
            out.append(char)
            continue
        # Transliterate: the base letters of the decomposition that CP1252 can print.
        base = "".join(
            part
            for part in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(part) and _encodable(part)
        )
        out.append(base or _TRANSLITERATIONS.get(char, "?"))
    return "".join(out)


# Letters that Unicode does not decompose into a base letter and an accent.
_TRANSLITERATIONS = {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ħ": "h", "Ħ": "H"}


def _encodable(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    # CP1252's C0/C1 positions are controls: `plain` removed them already, keep it so.
    return ord(char) >= 0x20


def render_badge(printer: Escpos, badge: VisitorBadgePrint, *, native_qr: bool = True) -> None:
    """Send the badge's commands to `printer` (any python-escpos printer; tests use `Dummy`).
    Labels are in the current language."""
    from escpos.constants import QR_ECLEVEL_M

    printer.hw("INIT")
    printer.charcode(CODE_PAGE)
    printer.set(align="center", bold=True, double_width=True, double_height=True)
    printer.textln(printable(_("VISITOR")))
    printer.set(align="center", bold=False, normal_textsize=True)
    printer.textln(printable(badge.site_name))
    printer.ln()
    printer.set(align="center", bold=True, double_height=True)
    printer.textln(printable(badge.name))
    printer.set(align="center", bold=False, normal_textsize=True)
    if badge.company.strip():
        printer.textln(printable(badge.company))
    if badge.photo is not None:
        _print_photo(printer, badge.photo)
    printer.ln()
    printer.textln(printable(_("Host: %(host)s") % {"host": badge.host}, max_length=2 * TEXT_MAX))
    printer.textln(printable(badge.date_text))
    printer.ln()
    token = printable(badge.checkout_token, max_length=256)
    if native_qr:
        printer.qr(token, ec=QR_ECLEVEL_M, size=QR_SIZE, native=True)
        printer.ln()
    else:
        printer.qr(token, ec=QR_ECLEVEL_M, size=QR_SIZE, native=False)
    printer.textln(printable(_("Scan this QR code when you leave."), max_length=2 * TEXT_MAX))
    printer.cut()


def photo_width(printer: Escpos) -> int | None:
    """How wide a visitor's photo prints, in dots: half the paper's width, where the printer's
    profile knows that width and it prints raster images; None where it cannot."""
    if not printer.profile.supports("bitImageRaster"):
        return None
    try:
        paper = int(printer.profile.profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        return None  # the generic profile: the paper's width is unknown
    return paper // 2 // 8 * 8


def _print_photo(printer: Escpos, jpeg: bytes) -> None:
    """The still as half-tones (python-escpos dithers it to black and white), centred."""
    import io

    from PIL import Image, UnidentifiedImageError

    width = photo_width(printer)
    if width is None:
        return
    try:
        with Image.open(io.BytesIO(jpeg)) as opened:
            grey = opened.convert("L")
    except (UnidentifiedImageError, OSError):
        return  # not an image: the badge goes out without it
    height = max(8, round(grey.height * width / grey.width))
    printer.ln()
    printer.image(grey.resize((width, height)), center=True)


def badge_bytes(
    badge: VisitorBadgePrint, *, native_qr: bool = True, profile: str | None = None
) -> bytes:
    """The ESC/POS bytes of `badge`, as `print_badge` sends them."""
    from escpos.printer import Dummy

    dummy = Dummy(profile=profile)
    render_badge(dummy, badge, native_qr=native_qr)
    return bytes(dummy.output)


def open_printer(settings: PrinterSettings) -> Escpos | None:
    """The configured printer, not yet connected (python-escpos connects on first write);
    None when the kiosk has none."""
    if settings.kind == "none":
        return None
    if settings.kind == "usb":
        from escpos.printer import Usb

        return Usb(settings.usb_vendor_id, settings.usb_product_id, profile=settings.profile)
    if settings.kind == "network":
        from escpos.printer import Network

        return Network(
            settings.host, settings.port, timeout=settings.timeout_seconds, profile=settings.profile
        )
    from escpos.printer import File

    return File(str(settings.path), profile=settings.profile)


def print_badge(settings: PrinterSettings, badge: VisitorBadgePrint) -> PrintOutcome:
    """Print `badge` on the configured printer. Blocking (run it in a thread); never raises:
    an unplugged printer, one out of paper or a file that cannot be written is an outcome."""
    if settings.kind == "none":
        return PrintOutcome("no-printer")
    try:
        data = badge_bytes(badge, native_qr=settings.native_qr, profile=settings.profile)
        printer = open_printer(settings)
        if printer is None:
            return PrintOutcome("no-printer")
    except Exception as error:  # noqa: BLE001 - a bad profile or a missing driver is an outcome
        logger.warning("cannot prepare the badge printer: %s", type(error).__name__)
        return PrintOutcome("unavailable", f"cannot prepare the printer ({type(error).__name__})")
    try:
        printer.open()
        if settings.kind in ("usb", "network") and _out_of_paper(printer):
            return PrintOutcome("unavailable", "out of paper")
        # Prepared bytes go out in one write (`_raw` is what every escpos printer implements).
        printer._raw(data)
        return PrintOutcome("printed")
    except Exception as error:  # noqa: BLE001 - unplugged, refused, not writable: an outcome
        logger.warning("the badge printer failed: %s: %s", type(error).__name__, error)
        return PrintOutcome("unavailable", f"{type(error).__name__}")
    finally:
        try:
            printer.close()
        except Exception as error:  # noqa: BLE001 - closing a dead printer may fail too
            logger.info("closing the printer failed: %s", type(error).__name__)


def _out_of_paper(printer: Escpos) -> bool:
    """True when the printer says its paper is out (DLE EOT 4). A printer that does not answer
    status queries is assumed to have paper: printing will tell."""
    try:
        return bool(printer.paper_status() == 0)
    except Exception as error:  # noqa: BLE001 - no status support: just print
        logger.info("the printer gave no paper status: %s", type(error).__name__)
        return False


# The evacuation roll call (reception desk) ------------------------------------------------------

RollCallLine = tuple[str, str, str, str, bool]
"""One person on the printed roll call: name, company, host, arrival time, overdue."""


def render_roll_call(printer: Escpos, title: str, rows: Sequence[RollCallLine]) -> None:
    """Send the roll call's commands to `printer`: a title, then one block per person, with a
    box to tick during the evacuation. Texts go through `printable` like the badge's."""
    printer.hw("INIT")
    printer.charcode(CODE_PAGE)
    printer.set(align="center", bold=True, double_height=True)
    printer.textln(printable(title, max_length=2 * TEXT_MAX))
    printer.set(align="left", bold=False, normal_textsize=True)
    printer.textln(printable(_("%(count)d on site") % {"count": len(rows)}))
    printer.ln()
    for name, company, host, arrived, overdue in rows:
        mark = " " + printable(_("OVERDUE")) if overdue else ""
        printer.set(bold=True)
        printer.textln("[ ] " + printable(name) + mark)
        printer.set(bold=False)
        if company.strip():
            printer.textln("    " + printable(company))
        printer.textln(
            "    "
            + printable(
                _("Host: %(host)s, arrived %(time)s") % {"host": host, "time": arrived},
                max_length=2 * TEXT_MAX,
            )
        )
    printer.cut()


def print_roll_call(
    settings: PrinterSettings, title: str, rows: Sequence[RollCallLine]
) -> PrintOutcome:
    """Print the roll call on the configured printer. Blocking (run it in a thread); never
    raises, as `print_badge`."""
    if settings.kind == "none":
        return PrintOutcome("no-printer")
    try:
        from escpos.printer import Dummy

        dummy = Dummy(profile=settings.profile)
        render_roll_call(dummy, title, rows)
        data = bytes(dummy.output)
        printer = open_printer(settings)
        if printer is None:
            return PrintOutcome("no-printer")
    except Exception as error:  # noqa: BLE001 - a bad profile or a missing driver is an outcome
        logger.warning("cannot prepare the roll call printer: %s", type(error).__name__)
        return PrintOutcome("unavailable", f"cannot prepare the printer ({type(error).__name__})")
    try:
        printer.open()
        # escpos' documented way to send prepared bytes.
        printer._raw(data)
        return PrintOutcome("printed")
    except Exception as error:  # noqa: BLE001 - unplugged, refused, not writable: an outcome
        logger.warning("the roll call printer failed: %s", type(error).__name__)
        return PrintOutcome("unavailable", type(error).__name__)
    finally:
        try:
            printer.close()
        except Exception as error:  # noqa: BLE001 - closing a dead printer may fail too
            logger.info("closing the printer failed: %s", type(error).__name__)
