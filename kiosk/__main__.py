"""`python -m kiosk`: the `kiosk` command (what `kiosk serve` runs in each browser tab)."""

import sys

from kiosk.cli import main

sys.exit(main())
