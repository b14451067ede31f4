"""Telling both sides of an engagement: the notice, and the ways it leaves the server.

Every notice (a lapse, a restoration, a reminder) is first a row in
``engagement_notices``, which both organisations read through the API and
the CLI. A ``Notifier`` can also carry it elsewhere:

- ``StoreOnlyNotifier`` (the default): the row is the delivery.
- ``WebhookNotifier``: a JSON POST over HTTPS (TLS verified, ``http://``
  refused), signed with HMAC-SHA256 (``crypto/webhooks.py``). The body
  carries ids, the kind, the condition, the message and the due time:
  never PHI. A receiver should de-duplicate on the notice ``id``: delivery
  is at least once.
- ``SMTPNotifier``: an e-mail to both organisations' administrators
  (practice admins, privacy officers, vendor admins), over STARTTLS only.

A failed delivery raises ``NotificationFailed``; the watcher keeps the
reason in ``delivery_error`` and tries again on its next sweep.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

import httpx

from claimbridge import __version__
from claimbridge.clock import Clock, SystemClock
from claimbridge.config import Settings
from claimbridge.crypto.webhooks import (
    MIN_SECRET_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    webhook_signature,
)
from claimbridge.errors import ClaimbridgeError, ConfigError

__all__ = [
    "Notice",
    "NotificationFailed",
    "Notifier",
    "Notifiers",
    "SMTPNotifier",
    "StoreOnlyNotifier",
    "WebhookNotifier",
    "notifier_from",
]

NOTICE_HEADER = "X-Claimbridge-Notice"
MAX_ERROR = 500


class NotificationFailed(ClaimbridgeError):
    code = "notification_failed"
    public_message = "The notice could not be delivered."


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice as it leaves the server: ids, what happened, and who should read it."""

    id: str
    engagement_id: str
    practice_id: str
    practice_name: str
    billing_company_id: str
    billing_company_name: str
    kind: str
    condition: str
    lead_days: int | None
    message: str
    due_at: datetime | None
    created_at: datetime
    recipients: tuple[str, ...] = ()
    """E-mail addresses of both organisations' administrators (not sent to webhooks)."""

    def payload(self) -> dict[str, Any]:
        """The webhook body: no PHI, no e-mail addresses."""
        return {
            "id": self.id,
            "engagement_id": self.engagement_id,
            "practice_id": self.practice_id,
            "billing_company_id": self.billing_company_id,
            "kind": self.kind,
            "condition": self.condition,
            "lead_days": self.lead_days,
            "message": self.message,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "created_at": self.created_at.isoformat(),
        }


class Notifier(Protocol):
    name: str

    def deliver(self, notice: Notice) -> None:
        """Carry ``notice`` to its readers, or raise ``NotificationFailed``."""


class StoreOnlyNotifier:
    """The notice row is the delivery: both sides read it through the API and the CLI."""

    name = "store"

    def deliver(self, notice: Notice) -> None:
        return None


class Notifiers:
    """Every configured notifier; a notice is delivered once each has taken it."""

    name = "all"

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = tuple(notifiers)

    def deliver(self, notice: Notice) -> None:
        failures = []
        for notifier in self.notifiers:
            try:
                notifier.deliver(notice)
            except NotificationFailed as failed:
                failures.append(f"{notifier.name}: {failed.message}")
        if failures:
            raise NotificationFailed("; ".join(failures)[:MAX_ERROR])


def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate and host name checked, TLS 1.2 at least (DESIGN.md invariant 8)."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class WebhookNotifier:
    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        timeout: float = 10.0,
        ca_file: Path | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not url.lower().startswith("https://"):
            raise ConfigError(
                "The webhook URL must start with https:// (plain HTTP is refused).",
                where="notify_webhook_url",
            )
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"The webhook secret must have at least {MIN_SECRET_BYTES} bytes.",
                where="notify_webhook_secret_file",
            )
        self.url = url
        self._secret = secret
        self.timeout = timeout
        self._tls = _tls_context(ca_file)
        self.clock = clock or SystemClock()

    def __repr__(self) -> str:  # never print the secret
        return f"WebhookNotifier({self.url!r})"

    def deliver(self, notice: Notice) -> None:
        body = json.dumps(notice.payload(), sort_keys=True, separators=(",", ":")).encode()
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"claimbridge/{__version__}",
            NOTICE_HEADER: notice.id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: webhook_signature(self._secret, timestamp=timestamp, body=body),
        }
        try:
            with httpx.Client(verify=self._tls, timeout=self.timeout) as client:
                response = client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise NotificationFailed(
                f"The webhook could not be reached: {_describe(error)}", where="webhook"
            ) from None
        if not response.is_success:
            raise NotificationFailed(
                f"The webhook answered HTTP {response.status_code}.", where="webhook"
            )


class SMTPNotifier:
    """E-mail over STARTTLS (certificate checked) to both organisations' administrators."""

    name = "email"

    def __init__(
        self,
        host: str,
        *,
        sender: str,
        port: int = 587,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self._password = password
        self._tls = _tls_context(ca_file)
        self.timeout = timeout

    def __repr__(self) -> str:  # never print the password
        return f"SMTPNotifier({self.host!r}, port={self.port})"

    def deliver(self, notice: Notice) -> None:
        if not notice.recipients:
            return
        try:
            message = self._message(notice)
        except ValueError:  # an address or a name the mail format cannot carry
            raise NotificationFailed(
                "The notice could not be written as an e-mail.", where="email"
            ) from None
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise NotificationFailed(
                        "The mail server does not offer STARTTLS; nothing is sent in the clear.",
                        where="email",
                    )
                smtp.starttls(context=self._tls)
                smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self._password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise NotificationFailed(
                f"The mail server refused or could not be reached: {_describe(error)}",
                where="email",
            ) from None

    def _message(self, notice: Notice) -> EmailMessage:
        message = EmailMessage()
        lead = f" ({notice.lead_days} days ahead)" if notice.lead_days else ""
        # Names are typed by people: one line each, so no header can be smuggled in.
        practice, vendor = _one_line(notice.practice_name), _one_line(notice.billing_company_name)
        message["Subject"] = f"claimbridge: engagement {notice.kind}{lead}: {practice} / {vendor}"
        message["From"] = self.sender
        message["To"] = ", ".join(notice.recipients)
        due = f"Due: {notice.due_at.isoformat()}\n" if notice.due_at else ""
        message.set_content(
            f"{notice.message}\n\n"
            f"Practice: {practice}\n"
            f"Billing company: {vendor}\n"
            f"Engagement: {notice.engagement_id}\n"
            f"Condition: {notice.condition}\n"
            f"{due}"
            f"Notice: {notice.id}\n\n"
            "See `claimbridge engagements show` or GET /api/v1/engagements/{id}.\n"
        )
        return message


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _describe(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return " ".join(text.split())[:MAX_ERROR]


def _secret_of(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes().strip()
    except OSError as error:
        raise ConfigError(
            f"Cannot read {setting} ({path}): {error.strerror}.", where=setting
        ) from None


def _password_of(path: Path) -> str:
    try:
        return _secret_of(path, "notify_smtp_password_file").decode()
    except UnicodeDecodeError:
        raise ConfigError(
            "The mail server password file is not UTF-8 text.", where="notify_smtp_password_file"
        ) from None


def notifier_from(settings: Settings, *, clock: Clock | None = None) -> Notifier:
    """The notifiers the settings configure, or the store alone."""
    chosen: list[Notifier] = []
    if settings.notify_webhook_url:
        if settings.notify_webhook_secret_file is None:
            raise ConfigError(
                "A webhook needs notify_webhook_secret_file: its bodies are signed.",
                where="notify_webhook_secret_file",
            )
        chosen.append(
            WebhookNotifier(
                settings.notify_webhook_url,
                _secret_of(settings.notify_webhook_secret_file, "notify_webhook_secret_file"),
                timeout=settings.notify_timeout_seconds,
                ca_file=settings.notify_webhook_ca_file,
                clock=clock,
            )
        )
    if settings.notify_smtp_host:
        if not settings.notify_email_from:
            raise ConfigError("E-mail notices need notify_email_from.", where="notify_email_from")
        password = settings.notify_smtp_password_file
        chosen.append(
            SMTPNotifier(
                settings.notify_smtp_host,
                sender=settings.notify_email_from,
                port=settings.notify_smtp_port,
                username=settings.notify_smtp_username,
                password=_password_of(password) if password else None,
                ca_file=settings.notify_smtp_ca_file,
                timeout=settings.notify_timeout_seconds,
            )
        )
    if not chosen:
        return StoreOnlyNotifier()
    return chosen[0] if len(chosen) == 1 else Notifiers(chosen)
