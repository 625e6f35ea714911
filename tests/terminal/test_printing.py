"""Visitor badges on paper: the ESC/POS bytes against a reviewed golden file (python-escpos'
Dummy printer), text cleaned for the printer, the `[printer]` config, and printers that are
unplugged, refuse the connection, or say they are out of paper."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.i18n import set_language
from kiosk.printing import VisitorBadgePrint, badge_bytes, print_badge, printable
from kiosk.settings import PrinterSettings, SettingsError, load_settings

GOLDEN = Path(__file__).parent.parent / "fixtures" / "printing" / "visitor_badge.escpos"
TOKEN = "V1AAAQEAAAAAEAAAAAIAAAAHGQ4BWWNOKTC2XJ3UNW7A"
BADGE = VisitorBadgePrint(
    name="Léa Dupont",
    host="Hélène Girard",
    date_text="lundi 2 novembre 2026",
    checkout_token=TOKEN,
    site_name="Cantine du siège",
    company="ACME",
)


@pytest.fixture(autouse=True)
def _french() -> None:
    set_language("fr")


def test_the_badge_bytes_match_the_reviewed_golden_file() -> None:
    data = badge_bytes(BADGE)
    assert data == GOLDEN.read_bytes()
    # What the review checked: CP1252 selected, the texts in it, the QR (GS ( k) holding the
    # token, then a cut.
    assert data.startswith(b"\x1b@\x1bt\x10")
    for text in ("VISITEUR", "Léa Dupont", "Hôte : Hélène Girard", "lundi 2 novembre 2026"):
        assert text.encode("cp1252") in data
    assert b"\x1d(k" + bytes([len(TOKEN) + 3, 0]) + b"1P0" + TOKEN.encode() in data
    assert data.endswith(b"\x1dV\x00")


def test_a_printer_without_native_qr_gets_a_raster_image() -> None:
    data = badge_bytes(BADGE, native_qr=False)
    assert b"\x1dv0" in data  # GS v 0: a raster bit image
    assert TOKEN.encode() not in data


def _still() -> bytes:
    from kiosk.photo import encode_still

    frame = np.full((480, 640), 200, dtype=np.uint8)
    cv2.ellipse(frame, (320, 240), (110, 150), 0, 0, 360, 40, -1)
    return encode_still(frame)


def test_the_photo_prints_as_half_tones_where_the_printer_can() -> None:
    with_photo = replace(BADGE, photo=_still())
    data = badge_bytes(with_photo, profile="TM-T20II")
    # 576 dots of paper: the photo is 288 wide (216 high), centred on a full-width raster.
    header = b"\x1dv0\x00" + (576 // 8).to_bytes(2, "little") + (216).to_bytes(2, "little")
    start = data.index(header) + len(header)
    rows = [data[start + row * 72 : start + (row + 1) * 72] for row in range(216)]
    assert all(byte == 0 for row in rows for byte in row[:18] + row[54:])  # margins blank
    # Half-tones: the dark head mostly black dots; the light wall mostly white but not all
    # (grey dithered to dots, not cut at a threshold).
    head = sum(byte.bit_count() for byte in rows[108][32:40]) / 64
    wall = sum(byte.bit_count() for row in rows[2:10] for byte in row[18:24]) / (8 * 48)
    assert head > 0.6
    assert 0 < wall < 0.4
    # The text is all there, and the QR comes after the photo.
    assert "Léa Dupont".encode("cp1252") in data
    assert data.index(header) < data.index(b"\x1d(k")


def test_a_printer_of_unknown_width_prints_the_badge_without_the_photo() -> None:
    data = badge_bytes(replace(BADGE, photo=_still()))
    assert b"\x1dv0" not in data
    assert data == GOLDEN.read_bytes()
    # Bytes that are not an image are left out too.
    assert b"\x1dv0" not in badge_bytes(replace(BADGE, photo=b"nope"), profile="TM-T20II")


def test_text_is_cleaned_for_the_printer() -> None:
    assert printable("Léa\x1b[31m Dupont\x07") == "Léa Dupont"
    assert printable("Œuvre — “ok” €") == "Œuvre — “ok” €"  # all in CP1252
    assert printable("Łukasz Şahin 日本") == "Lukasz Sahin ??"
    assert printable("a\u200bb\u202ec") == "abc"
    assert len(printable("x" * 500)) == 48


def test_no_printer_prints_nothing() -> None:
    assert print_badge(PrinterSettings(), BADGE).status == "no-printer"


def test_a_file_printer_gets_the_badge(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    outcome = print_badge(PrinterSettings(kind="file", path=device), BADGE)
    assert outcome.printed
    assert device.read_bytes() == GOLDEN.read_bytes()


def test_an_unplugged_file_printer_is_an_outcome(tmp_path: Path) -> None:
    outcome = print_badge(PrinterSettings(kind="file", path=tmp_path / "gone" / "lp0"), BADGE)
    assert outcome.status == "unavailable"
    assert TOKEN not in outcome.reason


def test_a_network_printer_on_a_closed_port_is_an_outcome() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = PrinterSettings(kind="network", host="127.0.0.1", port=port, timeout_seconds=1.0)
    assert print_badge(settings, BADGE).status == "unavailable"


class FakePrinterPeer:
    """A raw TCP peer on loopback that answers the paper-status query (DLE EOT 4) with
    `status` and keeps what it is sent, as a network receipt printer does."""

    def __init__(self, status: int) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.status = status
        self.received = bytearray()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        connection, _ = self.server.accept()
        with connection:
            connection.settimeout(2.0)
            try:
                while chunk := connection.recv(65536):
                    if chunk.startswith(b"\x10\x04\x04"):
                        connection.sendall(bytes([self.status]))
                        chunk = chunk[3:]
                    self.received.extend(chunk)
            except OSError:
                pass

    def close(self) -> None:
        self.thread.join(timeout=3)
        self.server.close()


@pytest.fixture
def printer_peer(request: pytest.FixtureRequest) -> Iterator[FakePrinterPeer]:
    peer = FakePrinterPeer(request.param)
    yield peer
    peer.close()


@pytest.mark.parametrize("printer_peer", [0x12], indirect=True)
def test_a_network_printer_with_paper_gets_the_badge(printer_peer: FakePrinterPeer) -> None:
    settings = PrinterSettings(
        kind="network", host="127.0.0.1", port=printer_peer.port, timeout_seconds=2.0
    )
    assert print_badge(settings, BADGE).printed
    printer_peer.close()
    assert bytes(printer_peer.received) == GOLDEN.read_bytes()


@pytest.mark.parametrize("printer_peer", [0x72], indirect=True)
def test_a_network_printer_out_of_paper_is_an_outcome(printer_peer: FakePrinterPeer) -> None:
    settings = PrinterSettings(
        kind="network", host="127.0.0.1", port=printer_peer.port, timeout_seconds=2.0
    )
    outcome = print_badge(settings, BADGE)
    assert outcome.status == "unavailable"
    assert outcome.reason == "out of paper"
    printer_peer.close()
    assert TOKEN.encode() not in bytes(printer_peer.received)


def test_the_printer_config(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[printer]\nkind = "usb"\nusb_vendor_id = "0x04b8"\nusb_product_id = 3605\n')
    printer = load_settings(config).printer
    assert (printer.kind, printer.usb_vendor_id, printer.usb_product_id) == ("usb", 0x04B8, 3605)
    config.write_text('[printer]\nkind = "file"\npath = "lp0"\n')
    assert load_settings(config).printer.path == tmp_path / "lp0"
    config.write_text('[printer]\nkind = "network"\nhost = "10.0.0.9"\n')
    assert load_settings(config).printer.port == 9100
    config.write_text("[idle]\nvisitor_seconds = 30\n")
    assert load_settings(config).idle.visitor_seconds == 30
    assert load_settings(config).printer.kind == "none"
    for bad in (
        'kind = "serial"',
        'kind = "usb"',
        'kind = "network"',
        'kind = "file"',
        "port = 0",
        'usb_vendor_id = "epson"',
        "colour = true",
    ):
        config.write_text(f"[printer]\n{bad}\n")
        with pytest.raises(SettingsError, match="printer"):
            load_settings(config)
