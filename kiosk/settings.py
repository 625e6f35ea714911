"""The terminal's own configuration (`config/kiosk.toml`): where the service is, language, idle
times, kiosk mode. Not to be confused with a site's settings, which live in the service.

Loaded with the standard library only: this module is imported before the welcome screen is
drawn, and pydantic-settings alone would cost about half a second of start-up.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = ("fr", "en")

CONFIG_ENV = "KIOSK_CONFIG"
DEVICE_KEY_ENV = "KIOSK_DEVICE_KEY"
DATA_DIR_ENV = "KIOSK_DATA_DIR"

MIN_COUNTDOWN_SECONDS = 20


class SettingsError(ValueError):
    """The configuration cannot be used; the message says which file and which key, and why."""


@dataclass(frozen=True, slots=True)
class IdleSettings:
    """How long a screen waits for a person before asking "still there?", and for how long."""

    default_seconds: int = 60
    """Idle time of most screens, in seconds."""
    countdown_seconds: int = 20
    """How long the "still there?" countdown lasts before the session ends (at least 20 s)."""
    typing_seconds: int = 180
    """Idle time of screens where a person types at length or waits (the verification code)."""
    visitor_seconds: int = 45
    """Idle time of the visitor screens (check-in, badge, walk-in): shorter, so that the next
    visitor never finds the last one's visit on screen."""


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """The camera that reads QR codes on the scan screen."""

    source: str = "0"
    """A camera index (`0`), a device path (`/dev/video2`), or a video or image file (tests and
    demos: a file plays as a camera would deliver it)."""
    decoders: tuple[str, ...] = ("zxing", "zbar", "opencv")
    """The decoders to run, in order (`zxing`, `zbar`, `opencv`); those not installed are
    skipped."""
    preview_fps: float = 8.0
    """How many times a second the preview on screen is redrawn (decoding runs on every frame)."""


@dataclass(frozen=True, slots=True)
class DisplaySettings:
    """How the kiosk looks before anyone changes it: the accessible display (F2, or its button on
    the welcome screen) switches both on or off for one person, and each sign-out comes back here."""

    high_contrast: bool = False
    """White and yellow on black, every colour pair at least 7:1 (WCAG 2.2 AAA)."""
    large_text: bool = False
    """Fewer, bigger elements: bold text, big figures (balance, clock, PIN), wider buttons."""


PrinterKind = Literal["none", "usb", "network", "file"]
PRINTER_KINDS: tuple[PrinterKind, ...] = ("none", "usb", "network", "file")


@dataclass(frozen=True, slots=True)
class PrinterSettings:
    """The receipt printer (ESC/POS) that prints visitor badges; `none`: badges are shown on
    screen only."""

    kind: PrinterKind = "none"
    """`none`, `usb` (vendor and product ids), `network` (host and port, raw TCP "JetDirect")
    or `file` (a device file such as `/dev/usb/lp0`)."""
    usb_vendor_id: int = 0
    """USB vendor id (`0x04b8` for Epson), for `usb`."""
    usb_product_id: int = 0
    """USB product id (`0x0e15` for a TM-T20II), for `usb`."""
    host: str = ""
    """The printer's host name or address, for `network`."""
    port: int = 9100
    """The printer's raw TCP port, for `network`."""
    path: Path | None = None
    """The device file, for `file`."""
    timeout_seconds: float = 5.0
    """How long to wait for a network printer before giving up and showing the badge."""
    profile: str | None = None
    """python-escpos printer profile (`TM-T20II`...); None: the generic profile."""
    native_qr: bool = True
    """True: the printer draws the QR itself (ESC/POS `GS ( k`); False: it is sent as a
    raster image, for printers without QR support."""


@dataclass(frozen=True, slots=True)
class KioskSettings:
    """The terminal's configuration, validated. Build it with `load_settings`."""

    server_url: str | None = None
    """Base URL of the service (`http://host:8000`); None starts the embedded demo service."""
    device_key: str | None = field(default=None, repr=False)
    """This terminal's device key, as enrolled on the service (never logged or shown). Already
    resolved by `load_settings`: env KIOSK_DEVICE_KEY, else the config's `device_key`, else the
    first line of `device_key_file`. None in embedded mode (the demo enrols its own)."""
    device_key_file: Path | None = None
    """A file holding the device key (first line), so the config itself holds no secret."""
    language: Language = "fr"
    """The language the welcome screen starts in: `fr` or `en`."""
    idle: IdleSettings = field(default_factory=IdleSettings)
    """Idle times (seconds)."""
    kiosk_mode: bool = False
    """True: no key quits the app; only the maintenance PIN opens a menu that can quit."""
    maintenance_pin_hash: str | None = field(default=None, repr=False)
    """Argon2 hash of the maintenance PIN (make one with `uv run kiosk hash-pin`)."""
    data_dir: Path | None = None
    """Where the embedded service keeps its SQLite file; else env KIOSK_DATA_DIR, else the
    user's data directory (the same one `kiosk-server` uses)."""
    request_timeout_seconds: float = 5.0
    """Timeout of each request to the service, in seconds."""
    log_file: Path | None = None
    """Where to write the terminal's log; None: no log file."""
    display: DisplaySettings = field(default_factory=DisplaySettings)
    """High contrast and large text, as the kiosk starts and after each sign-out."""
    camera: CameraSettings = field(default_factory=CameraSettings)
    """The camera of the scan screen."""
    printer: PrinterSettings = field(default_factory=PrinterSettings)
    """The receipt printer of the visitor badges."""
    source: Path | None = None
    """The file these settings were read from (None when built from defaults only)."""

    @property
    def embedded(self) -> bool:
        """True when the terminal starts its own demo service."""
        return self.server_url is None

    def resolved_data_dir(self) -> Path:
        """The embedded service's data directory: `data_dir`, else env KIOSK_DATA_DIR, else the
        user's data directory."""
        if self.data_dir is not None:
            return self.data_dir
        return default_data_dir()


def default_data_dir() -> Path:
    """Env KIOSK_DATA_DIR, else the platform's user data directory: the one `kiosk-server` uses
    for the embedded demo (created if missing)."""
    # Imported here: the service package is only needed in embedded mode, after the welcome screen.
    from kiosk_server.paths import data_dir

    return data_dir()


def default_config_path() -> Path:
    """Env KIOSK_CONFIG, else `config/kiosk.toml` of the checkout the package lives in."""
    from_env = os.environ.get(CONFIG_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return Path(__file__).resolve().parent.parent / "config" / "kiosk.toml"


_TOP_KEYS = frozenset(
    {
        "server_url",
        "device_key",
        "device_key_file",
        "language",
        "idle",
        "kiosk_mode",
        "maintenance_pin_hash",
        "data_dir",
        "request_timeout_seconds",
        "log_file",
        "display",
        "camera",
        "printer",
    }
)
# The encoded form argon2-cffi produces: $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>.
_ARGON2_HASH = re.compile(
    r"\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+"
)
_IDLE_KEYS = frozenset(
    {"default_seconds", "countdown_seconds", "typing_seconds", "visitor_seconds"}
)
_DISPLAY_KEYS = frozenset({"high_contrast", "large_text"})
_CAMERA_KEYS = frozenset({"source", "decoders", "preview_fps"})
_DECODERS = frozenset({"zxing", "zbar", "opencv"})
_PRINTER_KEYS = frozenset(
    {
        "kind",
        "usb_vendor_id",
        "usb_product_id",
        "host",
        "port",
        "path",
        "timeout_seconds",
        "profile",
        "native_qr",
    }
)


def load_settings(
    path: Path | None = None, *, overrides: Mapping[str, object] | None = None
) -> KioskSettings:
    """Read and validate the terminal's configuration.

    `path` defaults to `default_config_path()`; a missing default file means defaults (the
    embedded demo), a missing explicit file is an error. `overrides` are top-level keys from the
    command line (`server_url`, `language`...); a None value means "not given".
    """
    explicit = path is not None or bool(os.environ.get(CONFIG_ENV, "").strip())
    source = path if path is not None else default_config_path()
    raw: dict[str, object] = {}
    try:
        with source.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        if explicit:
            raise SettingsError(f"{source}: no such configuration file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise SettingsError(f"{source}: cannot be read ({exc.strerror})") from None

    merged = dict(raw)
    for key, value in (overrides or {}).items():
        if value is not None:
            merged[key] = value
    settings = _build(merged, where=str(source), base=source.parent)
    return replace(settings, source=source if source.exists() else None)


def _build(raw: Mapping[str, object], *, where: str, base: Path) -> KioskSettings:
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown key {unknown[0]!r}")
    defaults = KioskSettings()
    server_url = _optional_str(raw, "server_url", where)
    if server_url is not None:
        server_url = server_url.rstrip("/")
        if not server_url.startswith(("http://", "https://")):
            raise SettingsError(f"{where}: server_url must start with http:// or https://")
    language = raw.get("language", defaults.language)
    if language not in LANGUAGES:
        raise SettingsError(f"{where}: language must be one of {', '.join(LANGUAGES)}")
    timeout = raw.get("request_timeout_seconds", defaults.request_timeout_seconds)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise SettingsError(f"{where}: request_timeout_seconds must be a positive number")
    kiosk_mode = raw.get("kiosk_mode", defaults.kiosk_mode)
    if not isinstance(kiosk_mode, bool):
        raise SettingsError(f"{where}: kiosk_mode must be true or false")
    pin_hash = _optional_str(raw, "maintenance_pin_hash", where)
    if pin_hash is not None and not _ARGON2_HASH.fullmatch(pin_hash):
        raise SettingsError(
            f"{where}: maintenance_pin_hash is not an argon2 hash (make one with "
            "`uv run kiosk hash-pin`)"
        )
    if kiosk_mode and pin_hash is None:
        raise SettingsError(
            f"{where}: kiosk_mode = true needs a maintenance_pin_hash, the only way to quit "
            "(make one with `uv run kiosk hash-pin`)"
        )
    device_key_file = _optional_path(raw, "device_key_file", where, base)
    return KioskSettings(
        server_url=server_url,
        device_key=_device_key(_optional_str(raw, "device_key", where), device_key_file, where),
        device_key_file=device_key_file,
        language=language,
        idle=_build_idle(raw.get("idle", {}), where),
        kiosk_mode=kiosk_mode,
        maintenance_pin_hash=pin_hash,
        data_dir=_optional_path(raw, "data_dir", where, base),
        request_timeout_seconds=float(timeout),
        log_file=_optional_path(raw, "log_file", where, base),
        display=_build_display(raw.get("display", {}), where),
        camera=_build_camera(raw.get("camera", {}), where, base),
        printer=_build_printer(raw.get("printer", {}), where, base),
    )


def _device_key(configured: str | None, key_file: Path | None, where: str) -> str | None:
    from_env = os.environ.get(DEVICE_KEY_ENV, "").strip()
    if from_env:
        return from_env
    if configured:
        return configured
    if key_file is None:
        return None
    try:
        lines = key_file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SettingsError(
            f"{where}: device_key_file {key_file} cannot be read ({exc.strerror})"
        ) from None
    key = lines[0].strip() if lines else ""
    if not key:
        raise SettingsError(f"{where}: device_key_file {key_file} is empty")
    return key


def _table(raw: object, where: str, name: str, keys: frozenset[str]) -> Mapping[str, object]:
    """The `[name]` table of the config file, refused unless it is a table of known keys."""
    if not isinstance(raw, Mapping):
        raise SettingsError(f"{where}: [{name}] must be a table")
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise SettingsError(f"{where}: unknown key '{name}.{unknown[0]}'")
    return raw


def _build_idle(raw: object, where: str) -> IdleSettings:
    raw = _table(raw, where, "idle", _IDLE_KEYS)
    defaults = IdleSettings()
    values: dict[str, int] = {}
    for key in sorted(_IDLE_KEYS):
        value = raw.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise SettingsError(f"{where}: idle.{key} must be a positive whole number of seconds")
        values[key] = value
    if values["countdown_seconds"] < MIN_COUNTDOWN_SECONDS:
        raise SettingsError(
            f"{where}: idle.countdown_seconds must be at least {MIN_COUNTDOWN_SECONDS}"
        )
    return IdleSettings(**values)


def _build_display(raw: object, where: str) -> DisplaySettings:
    raw = _table(raw, where, "display", _DISPLAY_KEYS)
    values: dict[str, bool] = {}
    for key in sorted(_DISPLAY_KEYS):
        value = raw.get(key, False)
        if not isinstance(value, bool):
            raise SettingsError(f"{where}: display.{key} must be true or false")
        values[key] = value
    return DisplaySettings(**values)


def _build_camera(raw: object, where: str, base: Path) -> CameraSettings:
    raw = _table(raw, where, "camera", _CAMERA_KEYS)
    defaults = CameraSettings()
    source = raw.get("source", defaults.source)
    if isinstance(source, bool) or not isinstance(source, int | str) or not str(source).strip():
        raise SettingsError(
            f"{where}: camera.source must be a camera index, a /dev/videoN path or a file path"
        )
    text = str(source).strip()
    if isinstance(source, int) and source < 0:
        raise SettingsError(f"{where}: camera.source must not be negative")
    if not text.isdigit() and not text.startswith("/dev/"):
        # A video or image file: relative paths are read from the config file's directory.
        path = Path(text).expanduser()
        text = str(path if path.is_absolute() else base / path)
    decoders = raw.get("decoders", list(defaults.decoders))
    if (
        not isinstance(decoders, list | tuple)
        or not decoders
        or not all(isinstance(name, str) and name in _DECODERS for name in decoders)
    ):
        raise SettingsError(
            f"{where}: camera.decoders must be a non-empty list of {', '.join(sorted(_DECODERS))}"
        )
    fps = raw.get("preview_fps", defaults.preview_fps)
    if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0 < fps <= 30:
        raise SettingsError(f"{where}: camera.preview_fps must be a number above 0, at most 30")
    return CameraSettings(source=text, decoders=tuple(decoders), preview_fps=float(fps))


def _build_printer(raw: object, where: str, base: Path) -> PrinterSettings:
    raw = _table(raw, where, "printer", _PRINTER_KEYS)
    defaults = PrinterSettings()
    kind = raw.get("kind", defaults.kind)
    if kind not in PRINTER_KINDS:
        raise SettingsError(f"{where}: printer.kind must be one of {', '.join(PRINTER_KINDS)}")
    ids: dict[str, int] = {}
    for key in ("usb_vendor_id", "usb_product_id"):
        value = raw.get(key, 0)
        if isinstance(value, str):
            try:
                value = int(value, 0)  # "0x04b8" as the printer's manual writes it
            except ValueError:
                raise SettingsError(f"{where}: printer.{key} must be a number") from None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
            raise SettingsError(f"{where}: printer.{key} must be a number from 0 to 0xFFFF")
        ids[key] = value
    host = _optional_str(raw, "host", where) or ""
    port = raw.get("port", defaults.port)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise SettingsError(f"{where}: printer.port must be a TCP port number")
    timeout = raw.get("timeout_seconds", defaults.timeout_seconds)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise SettingsError(f"{where}: printer.timeout_seconds must be a positive number")
    native_qr = raw.get("native_qr", defaults.native_qr)
    if not isinstance(native_qr, bool):
        raise SettingsError(f"{where}: printer.native_qr must be true or false")
    path = _optional_path(raw, "path", where, base)
    if kind == "usb" and not (ids["usb_vendor_id"] and ids["usb_product_id"]):
        raise SettingsError(f'{where}: printer.kind = "usb" needs usb_vendor_id and usb_product_id')
    if kind == "network" and not host:
        raise SettingsError(f'{where}: printer.kind = "network" needs a host')
    if kind == "file" and path is None:
        raise SettingsError(f'{where}: printer.kind = "file" needs a path')
    return PrinterSettings(
        kind=kind,
        usb_vendor_id=ids["usb_vendor_id"],
        usb_product_id=ids["usb_product_id"],
        host=host,
        port=port,
        path=path,
        timeout_seconds=float(timeout),
        profile=_optional_str(raw, "profile", where),
        native_qr=native_qr,
    )


def _optional_str(raw: Mapping[str, object], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{where}: {key} must be a string")
    value = value.strip()
    return value or None


def _optional_path(raw: Mapping[str, object], key: str, where: str, base: Path) -> Path | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, Path):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise SettingsError(f"{where}: {key} must be a path (a string)")
    if not text:
        return None
    # Relative paths are read relative to the config file, not to wherever the kiosk was started.
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path
