"""The accessible display: a high-contrast theme and a large-text layout (WCAG 2.2, as far as it
maps to a terminal).

Both are switched together by one key (F2) or the welcome screen's button, for one person: a
sign-out brings back the terminal's `[display]` defaults. The theme is below; the large-text
layout is the `-large` rules of the style sheets (app.tcss and each screen's), which show big
figures (`Digits`) in place of the small ones and hide what is only decoration.
"""

from __future__ import annotations

from textual.theme import Theme

HIGH_CONTRAST_THEME = Theme(
    name="kiosk-high-contrast",
    # Each colour below is at least 7:1 against the black background (WCAG 2.2's AAA for text),
    # and a coloured button's black label at least 7:1 against the colour (tests/terminal/
    # test_accessible_display.py measures them).
    primary="#FFFF00",
    secondary="#00FFFF",
    accent="#00FFFF",
    warning="#FFD700",
    error="#FF9090",
    success="#00FF00",
    foreground="#FFFFFF",
    background="#000000",
    surface="#000000",
    panel="#000000",
    boost="#000000",
    dark=True,
    variables={
        # Muted text is a dimmed foreground in the other themes: here it is the foreground.
        "text-muted": "#FFFFFF",
        "text-primary": "#FFFF00",
        "text-success": "#00FF00",
        "text-warning": "#FFD700",
        "text-error": "#FF9090",
        "button-color-foreground": "#000000",
        "button-foreground": "#FFFFFF",
        "border": "#FFFFFF",
        "border-blurred": "#FFFFFF",
        "footer-background": "#000000",
        "input-cursor-background": "#FFFF00",
        "input-cursor-foreground": "#000000",
        "input-selection-background": "#FFFF00 60%",
    },
)
"""White, yellow, cyan and green on black; a focused control is drawn reversed."""

PLAIN_BUTTON_BACKGROUND = "#5A5A5A"
"""A plain button's face in high contrast (app.tcss): 3:1 against the black screen, so that a
button's extent shows (WCAG 1.4.11), and its white label above 4.5:1 (1.4.3)."""


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.2's relative luminance of an sRGB colour written `#RRGGBB`."""
    channels = [int(hex_colour.lstrip("#")[index : index + 2], 16) / 255 for index in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.2's contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
