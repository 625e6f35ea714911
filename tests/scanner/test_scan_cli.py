"""``kiosk scan`` through ``kiosk.scan_cli.run``, as the ``kiosk`` command dispatches it."""

from __future__ import annotations

import io
import json
from pathlib import Path

from kiosk.scan_cli import run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scanner"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_json_prints_one_object_per_file_and_line() -> None:
    files = [FIXTURES / "clean.png", FIXTURES / "no_code.jpg", FIXTURES / "enter_stay_leave.avi"]
    status, out, _ = _run("--json", *map(str, files))
    assert status == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines == [
        {
            "file": str(files[0]),
            "codes": [{"text": MANIFEST["images"]["clean.png"], "format": "QRCode"}],
        },
        {"file": str(files[1]), "codes": []},
        {
            "file": str(files[2]),
            "codes": [
                {"text": text, "format": "QRCode"}
                for text in MANIFEST["videos"]["enter_stay_leave.avi"]
            ],
        },
    ]


def test_json_reports_an_unreadable_file_with_an_error_and_exit_1() -> None:
    files = [str(FIXTURES / "truncated.png"), str(FIXTURES / "clean.png")]
    status, out, _ = _run("--json", *files)
    assert status == 1
    bad, good = (json.loads(line) for line in out.splitlines())
    assert bad["file"] == files[0] and bad["codes"] == [] and bad["error"]
    assert "error" not in good and len(good["codes"]) == 1


def test_human_output_names_the_file_and_the_payload() -> None:
    status, out, _ = _run(str(FIXTURES / "clean.png"), str(FIXTURES / "no_code.jpg"))
    assert status == 0
    assert out.splitlines() == [
        f"{FIXTURES / 'clean.png'}: QRCode '{MANIFEST['images']['clean.png']}'",
        f"{FIXTURES / 'no_code.jpg'}: no code found",
    ]


def test_no_camera_gives_a_clear_message_and_exit_1() -> None:
    # Index 63, not 0: on a machine with a webcam, `--camera 0` scans until stopped.
    status, out, err = _run("--camera", "63")
    assert status == 1
    assert out == ""
    assert "no camera" in err and "/dev/video63" in err


def test_camera_mode_on_a_video_prints_what_it_sees() -> None:
    status, out, _ = _run("--json", "--camera", str(FIXTURES / "enter_stay_leave.avi"))
    assert status == 0
    assert [json.loads(line)["text"] for line in out.splitlines()] == MANIFEST["videos"][
        "enter_stay_leave.avi"
    ]


def test_files_and_camera_together_is_a_usage_error() -> None:
    status, _, err = _run("--camera", "0", str(FIXTURES / "clean.png"))
    assert status == 2
    assert "either" in err
