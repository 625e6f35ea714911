"""`kiosk doctor`: what is wrong with this terminal, in words. The terminal's side of
`kiosk-server doctor`: its configuration, the service and its device key, its clock against the
service's (badge codes change every 30 s), the camera and the receipt printer. It changes
nothing and prints nothing secret."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.settings import CameraSettings, KioskSettings, PrinterSettings

SKEW_LIMIT_SECONDS = 10
"""A clock further than this from the service's is reported: a badge code lives 30 s and is
accepted one step either side, so a skew of a few tens of seconds makes tills refuse badges."""

CAMERA_SECONDS = 5.0
"""How long the camera may take to give a first image."""


@dataclass(frozen=True, slots=True)
class Finding:
    ok: bool
    text: str


def examine(
    settings: KioskSettings, *, wall_clock: Callable[[], float] = time.time
) -> list[Finding]:
    """Each check's finding, in order (blocking: a command's, not the app's)."""
    findings = [
        Finding(True, f"the configuration: {settings.source or 'defaults (no config file)'}")
    ]
    findings += _service(settings, wall_clock)
    findings.append(_camera(settings.camera))
    findings.append(_printer(settings.printer))
    return findings


def _service(settings: KioskSettings, wall_clock: Callable[[], float]) -> list[Finding]:
    embedded = None
    base_url = settings.server_url
    device_key = settings.device_key
    if base_url is None:
        from kiosk.embedded import EmbeddedService, EmbeddedServiceError

        embedded = EmbeddedService()
        data_dir = settings.resolved_data_dir()
        embedded.start(data_dir)
        try:
            endpoint = embedded.wait_ready(timeout=60.0)
        except (EmbeddedServiceError, TimeoutError) as error:
            embedded.stop()
            return [Finding(False, f"the embedded demo service does not start: {error}")]
        base_url, device_key = endpoint.base_url, endpoint.device_key
        shown = f"the embedded demo service ({data_dir})"
    else:
        shown = base_url
    try:
        return _ask_service(shown, base_url, device_key, wall_clock)
    finally:
        if embedded is not None:
            embedded.stop()


def _ask_service(
    shown: str, base_url: str, device_key: str | None, wall_clock: Callable[[], float]
) -> list[Finding]:
    import httpx

    findings: list[Finding] = []
    try:
        sent = wall_clock()
        answer = httpx.get(f"{base_url}/v1/health", timeout=5.0)
        received = wall_clock()
    except httpx.HTTPError as error:
        return [Finding(False, f"the service {shown} cannot be reached: {type(error).__name__}")]
    if answer.status_code != 200:
        return [Finding(False, f"the service {shown} answers {answer.status_code} to /v1/health")]
    findings.append(Finding(True, f"the service answers: {shown}"))
    findings.append(_skew(answer.headers.get("date"), (sent + received) / 2))
    findings.append(asyncio.run(_device(base_url, device_key)))
    return findings


def _skew(date_header: str | None, local: float) -> Finding:
    """This terminal's clock against the service's `Date` (whole seconds: ±1 s is noise)."""
    if not date_header:
        return Finding(False, "the service's answer has no date: the clock cannot be compared")
    service = parsedate_to_datetime(date_header).timestamp()
    skew = local - service
    here = dt.datetime.fromtimestamp(local, dt.UTC)
    if abs(skew) <= SKEW_LIMIT_SECONDS:
        return Finding(
            True, f"this terminal's clock agrees with the service's ({here:%H:%M:%S} UTC)"
        )
    way = "ahead of" if skew > 0 else "behind"
    return Finding(
        False,
        f"this terminal's clock is {abs(skew):.0f} s {way} the service's: badge codes shown "
        "here may be refused at the till; set both clocks by NTP",
    )


async def _device(base_url: str, device_key: str | None) -> Finding:
    from kiosk.api.client import KioskClient
    from kiosk.api.errors import ApiError, ProblemError

    if not device_key:
        return Finding(False, "no device key: set KIOSK_DEVICE_KEY or device_key_file")
    client = KioskClient(base_url, device_key, timeout=5.0)
    try:
        device = await client.device()
    except ProblemError as error:
        return Finding(
            False,
            f"the service refuses this terminal: {error.code} ({error.title or error.status})",
        )
    except ApiError as error:
        return Finding(False, f"the service does not answer this terminal: {type(error).__name__}")
    finally:
        await client.aclose()
    sites = ", ".join(site.code for site in device.sites) or "none"
    return Finding(True, f"the service knows this terminal; it serves: {sites}")


def _camera(camera: CameraSettings) -> Finding:
    from kiosk.photo import take_still

    still = take_still(camera.source, warmup_seconds=0.0, timeout_seconds=CAMERA_SECONDS)
    if still is None:
        return Finding(
            False,
            f"the camera {camera.source} gives no image: is it plugged in, and free (no other "
            "program using it), and may this user read it (group video)?",
        )
    return Finding(True, f"the camera {camera.source} gives images")


def _printer(printer: PrinterSettings) -> Finding:
    if printer.kind == "none":
        return Finding(True, "no receipt printer: visitor badges are shown on screen")
    if printer.kind == "network":
        where = f"{printer.host}:{printer.port}"
        try:
            with socket.create_connection(
                (printer.host, printer.port), timeout=printer.timeout_seconds
            ):
                return Finding(True, f"the printer {where} accepts connections")
        except OSError as error:
            return Finding(
                False, f"the printer {where} cannot be reached: {error.strerror or error}"
            )
    if printer.kind == "file":
        path = printer.path
        try:
            with open(str(path), "ab"):
                return Finding(True, f"the printer {path} can be written to")
        except OSError as error:
            return Finding(False, f"the printer {path} cannot be written to: {error.strerror}")
    return _usb_printer(printer)


def _usb_printer(printer: PrinterSettings) -> Finding:
    ids = f"{printer.usb_vendor_id:04x}:{printer.usb_product_id:04x}"
    try:
        import usb.core

        found = usb.core.find(idVendor=printer.usb_vendor_id, idProduct=printer.usb_product_id)
    except Exception as error:  # noqa: BLE001 - no libusb backend is a finding too
        return Finding(False, f"USB cannot be searched for the printer {ids}: {error}")
    if found is None:
        return Finding(False, f"no USB printer {ids} is plugged in")
    return Finding(True, f"the USB printer {ids} is plugged in")


def run(settings: KioskSettings) -> int:
    """Print each finding; 0 when nothing is wrong, 1 otherwise."""
    findings = examine(settings)
    for finding in findings:
        print(f"{'ok ' if finding.ok else 'BAD'} {finding.text}")
    bad = sum(1 for finding in findings if not finding.ok)
    print("Nothing wrong found." if not bad else f"{bad} problem(s) found.")
    return 0 if not bad else 1
