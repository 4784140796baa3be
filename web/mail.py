# SPDX-License-Identifier: MIT
"""Mail over SMTP with the standard library (smtplib, email).

A sign-in link is one short message sent while the person waits; the standard library speaks
SMTP, STARTTLS, TLS and AUTH, so no dependency is added for it. (Notifications to other
channels, which need retries and many protocols, go through the outbox; their mail leaves
through ``send_message`` here.)
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_S = 20.0


class MailError(Exception):
    """The SMTP URL is unusable, or the server refused the message."""


def send(*, smtp_url: str, mail_from: str, to: str, subject: str, text: str) -> None:
    """Send a plain-text message to ``to`` through the server of ``smtp_url``."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    send_message(smtp_url=smtp_url, message=message)


def send_message(*, smtp_url: str, message: EmailMessage) -> None:
    """Send a composed ``message`` (its own From and To) through the server of ``smtp_url``."""
    url = urlsplit(smtp_url)
    if url.scheme not in DEFAULT_PORTS or not url.hostname:
        raise MailError(f"not an SMTP URL: {url.scheme}://{url.hostname or ''}")
    port = url.port or DEFAULT_PORTS[url.scheme]
    try:
        if url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                url.hostname, port, timeout=TIMEOUT_S, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(url.hostname, port, timeout=TIMEOUT_S)
        with client:
            if url.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"mail to {url.hostname}:{port} failed: {exc}") from exc
