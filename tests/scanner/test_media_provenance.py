"""The committed scanner media are exactly what tests/scanner/make_fixtures.py makes: nothing in
tests/fixtures/scanner/ was touched up by hand, and a change to the generator shows here."""

from __future__ import annotations

from pathlib import Path

from tests.scanner.make_fixtures import FIXTURES, main


def test_committed_media_are_made_by_the_generator(tmp_path: Path) -> None:
    assert main(tmp_path) == 0
    made = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    committed = {path.name: path.read_bytes() for path in FIXTURES.iterdir()}
    assert sorted(made) == sorted(committed)
    differing = sorted(name for name in made if made[name] != committed[name])
    assert not differing, f"regenerate with make_fixtures.py: {differing}"
