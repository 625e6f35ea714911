"""The email channel: one message through the site's SMTP relay (stdlib smtplib, in a thread)."""

from __future__ import annotations

import asyncio
import base64
import mimetypes
import smtplib
import ssl
from email.message import EmailMessage

from kiosk_server.site_settings import SmtpRelay

SMTP_TIMEOUT_SECONDS = 10.0


def build_email(
    relay: SmtpRelay,
    *,
    recipient: str,
    subject: str,
    body: str,
    attachments: dict[str, str] | None = None,
) -> EmailMessage:
    """The message as sent: plain-text body, attachments given as file name → base64 content."""
    message = EmailMessage()
    message["From"] = relay.sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    for filename, encoded in (attachments or {}).items():
        content_type, _ = mimetypes.guess_type(filename)
        maintype, _, subtype = (content_type or "application/octet-stream").partition("/")
        message.add_attachment(
            base64.b64decode(encoded), maintype=maintype, subtype=subtype, filename=filename
        )
    return message


def _send_blocking(relay: SmtpRelay, message: EmailMessage) -> None:
    with smtplib.SMTP(relay.host, relay.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if relay.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if relay.username is not None:
            smtp.login(relay.username, relay.password or "")
        smtp.send_message(message)


async def send_email(
    relay: SmtpRelay,
    *,
    recipient: str,
    subject: str,
    body: str,
    attachments: dict[str, str] | None = None,
) -> None:
    """Send one email; raises `OSError` or `smtplib.SMTPException` when the relay refuses it or
    cannot be reached. smtplib blocks, so it runs in a worker thread, off the event loop."""
    message = build_email(
        relay, recipient=recipient, subject=subject, body=body, attachments=attachments
    )
    await asyncio.to_thread(_send_blocking, relay, message)
