"""E-mail over SMTP (smtplib), one connection per message, with a Message-ID derived from the
idempotency key so that a resend after a crash is recognisably the same message.

Permanent SMTP refusals (5xx) give up; 4xx, timeouts and connection errors are retried.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from html import escape

from fieldservice.errors import DeliveryError
from fieldservice.notifications.delivery import Envelope
from fieldservice.notifications.outbox import message_id

KEY_HEADER = "X-Faultline-Idempotency-Key"


class SmtpChannel:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_s: float = 30.0,
        domain: str = "faultline",
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout_s = timeout_s
        self.domain = domain

    def compose(self, envelope: Envelope) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = envelope.recipient
        message["Subject"] = envelope.subject
        message["Message-ID"] = message_id(envelope.key, self.domain)
        message["Date"] = formatdate(localtime=False)
        message[KEY_HEADER] = envelope.key
        message["Content-Language"] = envelope.language
        message.set_content(envelope.body)
        chart = envelope.payload.get("chart_svg")
        if chart:
            text = escape(envelope.body).replace("\n", "<br>")
            message.add_alternative(
                f"<html><body><p>{text}</p><div>{chart}</div></body></html>", subtype="html"
            )
        return message

    def send(self, envelope: Envelope) -> None:
        message = self.compose(envelope)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {self.host}:{self.port} refused {envelope.recipient}: "
                f"{exc.smtp_code} {exc.smtp_error!r}",
                retryable=exc.smtp_code < 500,
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(
                f"SMTP {self.host}:{self.port} refused {envelope.recipient}: {exc.recipients}",
                retryable=all(code < 500 for code in codes),
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc!r}", retryable=True) from exc
        if refused:
            raise DeliveryError(f"SMTP refused {refused}", retryable=False)
