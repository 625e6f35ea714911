"""The terminal's configuration: the shipped files, defaults, overrides, environment, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher

from kiosk.settings import (
    DisplaySettings,
    IdleSettings,
    KioskSettings,
    SettingsError,
    default_config_path,
    load_settings,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KIOSK_CONFIG", "KIOSK_DEVICE_KEY", "KIOSK_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pin_hash() -> str:
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("4321")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_the_embedded_demo_in_french() -> None:
    settings = load_settings()

    assert settings.source == REPO / "config" / "kiosk.toml"
    assert settings.server_url is None
    assert settings.embedded
    assert settings.language == "fr"
    assert settings.kiosk_mode is False
    assert settings.idle == IdleSettings(
        default_seconds=60, countdown_seconds=20, typing_seconds=180
    )
    assert settings.request_timeout_seconds == 5.0


def test_remote_example_points_at_a_server_in_kiosk_mode(tmp_path: Path, pin_hash: str) -> None:
    key_file = tmp_path / "device.key"
    key_file.write_text("dk_secret_from_file\n", encoding="utf-8")
    example = REPO / "config" / "kiosk.remote-example.toml"

    settings = load_settings(
        example,
        overrides={"maintenance_pin_hash": pin_hash, "device_key_file": str(key_file)},
    )

    assert settings.server_url == "http://kiosk-server.internal:8000"
    assert not settings.embedded
    assert settings.kiosk_mode is True
    assert settings.device_key == "dk_secret_from_file"


def test_remote_example_placeholder_hash_is_refused_with_the_way_to_make_one() -> None:
    example = REPO / "config" / "kiosk.remote-example.toml"

    with pytest.raises(SettingsError, match="kiosk hash-pin"):
        load_settings(example)


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""))

    assert settings == KioskSettings(source=tmp_path / "kiosk.toml")


def test_command_line_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'language = "fr"\nserver_url = "http://a.example:8000"\n')

    settings = load_settings(
        path, overrides={"server_url": "http://b.example:9000/", "language": "en"}
    )

    assert settings.server_url == "http://b.example:9000"
    assert settings.language == "en"


def test_override_given_as_none_keeps_the_file_value(tmp_path: Path) -> None:
    path = write(tmp_path, 'language = "en"\n')

    settings = load_settings(path, overrides={"language": None, "server_url": None})

    assert settings.language == "en"
    assert settings.server_url is None


def test_env_config_path_is_used_when_no_path_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, 'language = "en"\n')
    monkeypatch.setenv("KIOSK_CONFIG", str(path))

    assert default_config_path() == path
    assert load_settings().language == "en"


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no such configuration file"):
        load_settings(tmp_path / "nowhere.toml")


def test_env_device_key_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'device_key = "dk_from_file"\n')
    assert load_settings(path).device_key == "dk_from_file"

    monkeypatch.setenv("KIOSK_DEVICE_KEY", "dk_from_env")

    assert load_settings(path).device_key == "dk_from_env"


def test_device_key_is_never_in_the_repr(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, 'device_key = "dk_very_secret"\n'))

    assert "dk_very_secret" not in repr(settings)


def test_relative_paths_are_read_from_the_config_directory(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "device.key").write_text("dk_relative\n", encoding="utf-8")
    path = write(tmp_path, 'device_key_file = "keys/device.key"\ndata_dir = "data"\n')

    settings = load_settings(path)

    assert settings.device_key == "dk_relative"
    assert settings.data_dir == tmp_path / "data"
    assert settings.resolved_data_dir() == tmp_path / "data"


def test_data_dir_falls_back_to_the_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "from-env"))

    settings = load_settings(write(tmp_path, ""))

    assert settings.resolved_data_dir() == tmp_path / "from-env"


def test_unreadable_device_key_file_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, 'device_key_file = "missing.key"\n')

    with pytest.raises(SettingsError, match="device_key_file .*missing.key"):
        load_settings(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('sever_url = "http://x"\n', "unknown key 'sever_url'"),
        ("[idle]\ndefault = 30\n", "unknown key 'idle.default'"),
        ('language = "de"\n', "language must be one of fr, en"),
        ('server_url = "kiosk-server:8000"\n', "server_url must start with http"),
        ("[idle]\ncountdown_seconds = 5\n", "countdown_seconds must be at least 20"),
        ("[idle]\ndefault_seconds = 0\n", "default_seconds must be a positive"),
        ('[idle]\ntyping_seconds = "long"\n', "typing_seconds must be a positive"),
        ("request_timeout_seconds = -1\n", "request_timeout_seconds must be a positive"),
        ('kiosk_mode = "yes"\n', "kiosk_mode must be true or false"),
        ("kiosk_mode = true\n", "kiosk_mode = true needs a maintenance_pin_hash"),
        ('maintenance_pin_hash = "1234"\n', "maintenance_pin_hash is not an argon2 hash"),
        ("idle = 3\n", r"\[idle\] must be a table"),
        ('[display]\nhigh_contrast = "yes"\n', "display.high_contrast must be true or false"),
        ("[display]\nbig = true\n", "unknown key 'display.big'"),
        ("language = \n", "not valid TOML"),
    ],
)
def test_bad_values_are_refused_with_a_message_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(SettingsError, match=message) as caught:
        load_settings(path)

    assert str(path) in str(caught.value)


def test_a_terminal_can_default_to_the_accessible_display(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[display]\nlarge_text = true\n"))

    assert settings.display == DisplaySettings(high_contrast=False, large_text=True)
    assert load_settings().display == DisplaySettings()


def test_unknown_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="unknown key 'colour'"):
        load_settings(write(tmp_path, ""), overrides={"colour": "blue"})


def test_kiosk_mode_with_a_real_hash_loads(tmp_path: Path, pin_hash: str) -> None:
    path = write(tmp_path, f"kiosk_mode = true\nmaintenance_pin_hash = '{pin_hash}'\n")

    settings = load_settings(path)

    assert settings.kiosk_mode is True
    assert settings.maintenance_pin_hash == pin_hash
    assert pin_hash not in repr(settings)
