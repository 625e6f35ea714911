"""What a person reads when a call to the service fails: the problem code (docs/api.md) → a
calm, translated sentence, never how close anyone is to a limit; and what the service says of a
wrong field → its translation. No Textual: screens show these, `tests/test_contract.py` checks
that every code the API documents for terminals has its sentence here."""

from __future__ import annotations

import logging
import traceback

from kiosk.i18n import N_, _, ngettext

logger = logging.getLogger(__name__)

SERVICE_UNAVAILABLE = N_("The service cannot be reached. Try again in a moment.")

PROBLEM_MESSAGES: dict[str, str] = {
    "solution-unknown": N_("This solution code is not known here. Check it and try again."),
    "account-unknown": N_("No account was found with this identifier. Check it and try again."),
    "account-not-active": N_("This account is not activated yet."),
    "account-already-active": N_("This account is already active. Sign in with your PIN."),
    "account-blocked": N_("This account is blocked. Please ask the reception desk."),
    "account-paused": N_(
        "Too many wrong PINs: this account is paused here for a while. "
        "“Forgotten PIN?” unlocks it now."
    ),
    "account-locked": N_(
        "This account is locked after too many attempts. A code sent to you unlocks it."
    ),
    "pin-incorrect": N_("Incorrect PIN. Try again."),
    "pin-malformed": N_("The PIN must have exactly 6 digits."),
    "pin-too-simple": N_("This PIN is too simple. Choose another one."),
    "pin-unchanged": N_("This is your current PIN. Choose another one."),
    "contact-invalid": N_(
        "This is not an email address or a phone number. Check it (a phone as 06 12 34 56 78 "
        "or +33612345678)."
    ),
    "contact-unchanged": N_("This is already your address."),
    "statement-month-invalid": N_("This month has not begun yet."),
    "terminal-throttled": N_("This terminal is busy. Please wait a moment."),
    "verification-send-limit": N_("Several codes were sent lately. Try again later."),
    "verification-code-invalid": N_("This code is not right. Check it and try again."),
    "verification-code-expired": N_("This code is no longer valid. Ask for a new one."),
    "pin-setup-expired": N_("This took too long. Please start again."),
    "no-contact": N_(
        "No email address or phone number is known for this account. Please ask the reception desk."
    ),
    "device-key-missing": N_("This terminal is not enrolled. Please call for assistance."),
    "device-key-invalid": N_("This terminal is not enrolled. Please call for assistance."),
    "session-invalid": N_("Your session has ended. Please sign in again."),
    "session-missing": N_("Your session has ended. Please sign in again."),
    "connect-malformed": N_(
        "This QR code is not a connection code. Scan the QR code of your welcome letter."
    ),
    "connect-invalid": N_("This connection QR code is not valid. Please ask the reception desk."),
    "connect-revoked": N_(
        "This connection QR code was replaced by a newer one. Please ask the reception desk."
    ),
    "connect-other-site": N_(
        "This QR code is for another site. Scan the QR code of a welcome letter for this site."
    ),
    # Money (docs/api.md, "Money", "Orders", "Online top-ups").
    "insufficient-balance": N_("Your balance is not enough for this. Nothing was charged."),
    "top-up-out-of-range": N_("This amount is outside the limits for a top-up."),
    "payments-unavailable": N_("Online top-ups are not available on this site."),
    "payment-provider-unavailable": N_(
        "The payment service cannot be reached right now. Try again in a moment."
    ),
    "top-up-unknown": N_("This top-up cannot be found."),
    "ticket-unknown": N_("This ticket cannot be found."),
    "cursor-invalid": N_("The list changed. Please open it again."),
    "item-unknown": N_("An item of your basket is no longer sold. Nothing was charged."),
    "item-sold-out": N_("An item of your basket is sold out. Nothing was charged."),
    "item-deadline-passed": N_(
        "The ordering deadline has passed for an item of your basket. Nothing was charged."
    ),
    "item-unavailable": N_("An item of your basket is not available now. Nothing was charged."),
    "order-empty": N_("Your basket is empty."),
    "order-unknown": N_("This order cannot be found."),
    "order-not-cancellable": N_("This order can no longer be cancelled."),
    "idempotency-in-progress": N_("Your request is still being processed. Please wait."),
    "idempotency-key-reused": N_("This request was already sent with other details. Start again."),
    "item-quantity-limit": N_("You cannot order that many of one item. Nothing was charged."),
    # Requests the terminal itself got wrong: nothing a person typed can fix them.
    "body-malformed": N_("Something went wrong. Please try again."),
    "body-too-large": N_("This is too long to send. Shorten it and try again."),
    # Visits (docs/api.md, "Visits").
    "validation-failed": N_("Some fields are missing or wrong. See the messages next to them."),
    "visit-invalid": N_("Some fields are missing or wrong. See the messages next to them."),
    "visit-unknown": N_("This visit cannot be found."),
    "visit-not-editable": N_("This visit can no longer be changed."),
    "visit-transition-forbidden": N_("This cannot be done with the visit as it is now."),
    "visitor-unknown": N_("This visitor cannot be found."),
    "visitor-not-checked-in": N_("This visitor is not on site."),
    "host-unknown": N_("Nobody of this site has exactly that name. Check the spelling."),
    "host-ambiguous": N_("Several people have this name. Please ask the host directly."),
    "host-search-off": N_(
        "Type your name and your host's first and last name, as they are written."
    ),
    "notification-unknown": N_("This notification cannot be found."),
    # Evacuations at the reception desk.
    "evacuation-none": N_("No evacuation is in progress."),
    "evacuation-unknown": N_("This evacuation cannot be found."),
    "evacuation-in-progress": N_("An evacuation is already in progress: it is shown."),
    "evacuation-closed": N_("This evacuation is closed."),
    "photo-required": N_("This site asks for a photo at check-in: please take it."),
    "photo-invalid": N_("The photo could not be used. Please take it again."),
    "photo-none": N_("No photo was taken of this visitor."),
    "check-in-held": N_("Please see the reception desk to complete your check-in."),
    "visitor-not-held": N_("This visitor's check-in is no longer waiting: the list is updated."),
    "watchlist-entry-unknown": N_("This entry is no longer on the list: the list is updated."),
    "role-forbidden": N_("You do not have access to this."),
    # Visitors at the kiosk (docs/api.md, "Visits": the visitor desk).
    "invitation-unknown": N_(
        "This invitation was not recognised. Check the code and your last name, "
        "or ask the reception desk."
    ),
    "invitation-other-site": N_(
        "This invitation is for another site. Please ask the reception desk."
    ),
    "invitation-not-today": N_(
        "Your visit is not expected at this time. Check the day and time of your invitation, "
        "or ask the reception desk."
    ),
    "invitation-cancelled": N_("This visit was cancelled. Please ask the reception desk."),
    "invitation-used": N_("This invitation was already used. Please ask the reception desk."),
    "invitation-expired": N_("This invitation has expired. Please ask the reception desk."),
    "invitation-not-approved": N_(
        "Your visit has not been confirmed yet. Please ask the reception desk."
    ),
    "rules-not-accepted": N_("Please read and accept the site's rules first."),
}

# What the service says of a wrong field (`errors[].message`, English) → what a person reads.
FIELD_MESSAGES: dict[str, str] = {
    "is required": N_("Required."),
    "must not contain control characters": N_("Contains characters that are not allowed."),
    "is not an email address": N_("This is not an email address."),
    "is not a phone number": N_("This is not a phone number."),
    "give an email or a phone to send the invitation to": N_(
        "Give an email or a phone number for the invitation."
    ),
    "is in the past": N_("This date is in the past."),
    "is before the first day": N_("The last day is before the first day."),
    "is not after the start of the arrival window": N_("The end must be after the start."),
    "the arrival window is already over": N_("This arrival window is already over."),
    "add at least one visitor": N_("Add at least one visitor."),
}
FIELD_INVALID = N_("This value is not valid.")
UNEXPECTED = N_("Something went wrong. Please try again.")


def describe_error(error: BaseException | None) -> str:
    """The translated sentence a person reads for a failed call."""
    from kiosk.api.errors import ApiError, ProblemError, ServiceUnavailable

    if error is not None and not isinstance(error, ApiError):
        # A bug, not the service saying no: keep it for the log (without local variables).
        logger.error(
            "unexpected error in a worker\n%s",
            "".join(traceback.TracebackException.from_exception(error).format()),
        )
    if isinstance(error, ServiceUnavailable):
        return _(SERVICE_UNAVAILABLE)
    if isinstance(error, ProblemError):
        if error.code == "pin-incorrect" and error.attempts_left is not None:
            return pin_tries_text(error.attempts_left)
        if error.code == "account-paused":
            return paused_text(error.retry_after)
        return _(PROBLEM_MESSAGES.get(error.code, UNEXPECTED))
    return _(UNEXPECTED)


def pin_tries_text(left: int) -> str:
    """A wrong PIN, near the limit: how many tries are left (the service says so from the third
    wrong one in a row)."""
    if left <= 0:
        return _("Incorrect PIN. No tries left: “Forgotten PIN?” unlocks the account.")
    return ngettext(
        "Incorrect PIN. %(n)d try left before this account is paused.",
        "Incorrect PIN. %(n)d tries left before this account is paused.",
        left,
    ) % {"n": left}


def paused_text(seconds: int | None) -> str:
    """`account-paused`: it is the account that waits, on this terminal, for so many minutes,
    and a code unlocks it at once (another person can sign in here meanwhile)."""
    if not seconds:
        return problem_text("account-paused")
    minutes = max(1, -(-seconds // 60))
    return ngettext(
        "Too many wrong PINs: this account is paused here for %(n)d minute. "
        "“Forgotten PIN?” unlocks it now.",
        "Too many wrong PINs: this account is paused here for %(n)d minutes. "
        "“Forgotten PIN?” unlocks it now.",
        minutes,
    ) % {"n": minutes}


def throttled_text(error: BaseException | None) -> str:
    """`terminal-throttled` with the wait it asks for, in whole minutes or seconds."""
    from kiosk.api.errors import ProblemError

    seconds = error.retry_after if isinstance(error, ProblemError) else None
    if not seconds:
        return problem_text("terminal-throttled")
    if seconds >= 90:
        minutes = -(-seconds // 60)
        return ngettext(
            "Too many attempts on this terminal. Try again in %(n)d minute.",
            "Too many attempts on this terminal. Try again in %(n)d minutes.",
            minutes,
        ) % {"n": minutes}
    return ngettext(
        "Too many attempts on this terminal. Try again in %(n)d second.",
        "Too many attempts on this terminal. Try again in %(n)d seconds.",
        seconds,
    ) % {"n": seconds}


def problem_text(code: str) -> str:
    """The translated sentence for a problem `code` (docs/api.md)."""
    return _(PROBLEM_MESSAGES.get(code, UNEXPECTED))


def field_message(message: str) -> str:
    """The translated sentence for what the service said of a wrong field."""
    if message.startswith("a visit lasts at most"):
        return _("The visit is too long.")
    if message.startswith("must not contain control characters"):
        # The service names the character ("(U+001B)"): a person needs only to know it is there.
        message = "must not contain control characters"
    return _(FIELD_MESSAGES.get(message, FIELD_INVALID))


def problem_code(error: BaseException | None) -> str | None:
    """The stable problem code of a failed call, if the service gave one."""
    from kiosk.api.errors import ProblemError

    return error.code if isinstance(error, ProblemError) else None
