"""Sending email: over SMTP when configured, else into files in the instance folder.

The embedded default writes each message as an .eml file under instance/mail/, so a developer
can read what would have been sent (any mail client opens .eml files; `cat` works too).
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from config import Settings
from services import clock

DEFAULT_TIMEOUT = 10


class MailError(Exception):
    """The message could not be handed over; `permanent` when retrying will not help."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def build_message(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """Return a message with a plain-text part and, when given, an HTML alternative."""
    message = EmailMessage()
    message["From"] = settings.mail_sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain="coopmatch.invalid")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Hand `message` to the SMTP server, or write it to instance/mail when none is set."""
    if not settings.mail_server:
        _write_file(settings.mail_dir, message)
        return
    try:
        with smtplib.SMTP(
            settings.mail_server, settings.mail_port, timeout=DEFAULT_TIMEOUT
        ) as smtp:
            if settings.mail_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.mail_username:
                smtp.login(settings.mail_username, settings.mail_password or "")
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"recipient refused: {exc.recipients}", permanent=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"SMTP failed: {exc}") from exc
    if refused:
        raise MailError(f"recipient refused: {refused}")


def _write_file(folder: Path, message: EmailMessage) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message.as_bytes())
    return path
