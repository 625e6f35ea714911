"""Badge figures: token size and QR version, and the cost of one refresh (token + QR + text).

    uv run python bench/badge_bench.py

Target from the badge issue: QR + half-block text per refresh <= 5 ms.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import segno

from kiosk.badge import render_qr
from kiosk_server.tokens import (
    make_badge_token,
    make_connect_token,
    new_badge_secret,
    parse_badge_token,
    verify_badge_token,
)

ROUNDS = 500


def _timings(action: Callable[[int], object]) -> tuple[float, float]:
    elapsed: list[float] = []
    for round_ in range(ROUNDS):
        started = time.perf_counter()
        action(round_)
        elapsed.append((time.perf_counter() - started) * 1000)
    elapsed.sort()
    return statistics.median(elapsed), elapsed[int(len(elapsed) * 0.95)]


def main() -> None:
    secret = new_badge_secret()
    badge = make_badge_token(site_id=1, account_id=1234, secret=secret, step=59_854_771)
    connect = make_connect_token(site_id=1, account_id=1234, version=0, secret=secret)
    for label, token in (("badge", badge), ("connect", connect)):
        qr = segno.make(token, error="m", micro=False)
        drawn = render_qr(token)
        print(
            f"{label}: {len(token)} chars, QR version {qr.version}-{qr.error} {qr.mode}, "
            f"{drawn.width}x{drawn.height} cells at scale 1"
        )

    def refresh_at(scale: int) -> Callable[[int], object]:
        def refresh(step: int) -> None:
            token = make_badge_token(site_id=1, account_id=1234, secret=secret, step=step)
            render_qr(token, scale=scale)

        return refresh

    for scale in (1, 2, 3):
        median, p95 = _timings(refresh_at(scale))
        print(
            f"refresh (token + QR + half-block text) scale {scale}: "
            f"median {median:.2f} ms, p95 {p95:.2f} ms"
        )
    median, p95 = _timings(
        lambda _: verify_badge_token(parse_badge_token(badge), secret=secret, now_step=59_854_771)
    )
    print(f"parse + verify: median {median * 1000:.1f} us, p95 {p95 * 1000:.1f} us")


if __name__ == "__main__":
    main()
