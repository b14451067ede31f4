"""The watcher: lapses recorded with nobody asking, reminders once per deadline and lead
time, and notices delivered, to a real HTTPS webhook and a real STARTTLS mail server.

A sweep covers every engagement in the database, so this module has a database of its
own (per backend; ``engine`` below): on the run's shared one, each sweep would also
refresh every engagement all earlier tests left. The module's tests share it: each test
looks at its own engagement only, and clears the outbox of notices other tests left
before it counts deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import ipaddress
import json
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, update

from claimbridge.config import Settings, load_settings
from claimbridge.errors import ConfigError
from claimbridge.storage.orgs import Engagement, EngagementStatus, Role, User
from claimbridge.storage.vendors import EngagementNotice
from claimbridge.vendors.notify import (
    Notifiers,
    SMTPNotifier,
    StoreOnlyNotifier,
    WebhookNotifier,
    notifier_from,
)
from claimbridge.vendors.watch import Watcher, sweep
from tests.conftest import BACKENDS
from tests.functional.vendors.conftest import VendorWorld, own_database
from tests.functional.vendors.gatekit import (
    engagement,
    engagement_without_baa,
    events,
    notices,
    sign_baa,
)

SECRET = b"a shared webhook secret of 32 b."
POLL_SECONDS = 0.01
"""How often the test servers' loops look for ``shutdown``: socketserver's default of half
a second is what closing each server would otherwise wait."""


@pytest.fixture(scope="module", params=BACKENDS, ids=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """This module's own migrated database on each backend (``vendor_world`` builds on it)."""
    with own_database(request, tmp_path_factory.mktemp("watch")) as engine:
        yield engine


def _sweep(w: VendorWorld, **settings: Any) -> Any:
    with w.sessions.begin() as session:
        return sweep(session, now=w.clock.now(), settings=Settings(**settings))


def _reminders(w: VendorWorld, engaged: str) -> list[tuple[str, datetime | None]]:
    """Each reminder as ``condition:<lead>d`` and its deadline."""
    return [
        (f"{n.condition}:{n.lead_days}d", n.due_at)
        for n in notices(w, engaged)
        if n.kind == "reminder"
    ]


def _clear_outbox(w: VendorWorld) -> None:
    """Mark every notice other tests left undelivered as delivered."""
    with w.sessions.begin() as session:
        session.execute(
            update(EngagementNotice)
            .where(EngagementNotice.delivered_at.is_(None))
            .values(delivered_at=w.clock.now())
        )


# -- lapses and restorations ------------------------------------------------------------


def test_an_overnight_lapse_is_recorded_once(vendor_world: VendorWorld) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit, baa_expires=today + timedelta(days=1))
    w.clock.advance(timedelta(days=2))
    assert events(w, "vendors:engagement:lapsed", resource_id=engaged) == []  # nobody asked

    first = _sweep(w)
    again = _sweep(w)

    assert [c.became for c in first.changes if c.engagement_id == engaged] == ["suspended"]
    assert [c.condition for c in first.lapsed if c.engagement_id == engaged] == ["baa_expired"]
    assert [c for c in again.changes if c.engagement_id == engaged] == []
    (event,) = events(w, "vendors:engagement:lapsed", resource_id=engaged)
    assert (event.outcome, event.tenant_id) == ("denied", w.riverside)
    lapsed = [n for n in notices(w, engaged) if n.kind == "lapsed"]
    assert [(n.condition, n.message.startswith("Access stopped")) for n in lapsed] == [
        ("baa_expired", True)
    ]
    shown = engagement(w, engaged)
    assert (shown.status, shown.lapse_condition, shown.active_until) == (
        EngagementStatus.SUSPENDED.value,
        "baa_expired",
        None,
    )


def test_a_baa_taking_effect_later_opens_the_gate_on_that_day(vendor_world: VendorWorld) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = engagement_without_baa(w, w.riverside, w.summit)
    sign_baa(w, engaged, effective_on=today + timedelta(days=2))
    assert engagement(w, engaged).lapse_condition == "baa_not_in_force"

    w.clock.advance(timedelta(days=1))
    assert [c for c in _sweep(w).changes if c.engagement_id == engaged] == []
    w.clock.advance(timedelta(days=1))
    opened = [c.became for c in _sweep(w).changes if c.engagement_id == engaged]

    assert opened == ["active"]
    assert engagement(w, engaged).status == EngagementStatus.ACTIVE.value
    assert events(w, "vendors:engagement:activated", resource_id=engaged)


def test_terminated_engagements_are_left_alone(vendor_world: VendorWorld) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit, baa_expires=today + timedelta(days=5))
    with w.sessions.begin() as session:
        row = session.get(Engagement, engaged)
        assert row is not None
        row.status = EngagementStatus.TERMINATED.value
    w.clock.advance(timedelta(days=4))
    _sweep(w)
    w.clock.advance(timedelta(days=4))
    _sweep(w)
    assert _reminders(w, engaged) == []
    assert events(w, "vendors:engagement:lapsed", resource_id=engaged) == []


# -- reminders ----------------------------------------------------------------------------


def test_reminders_come_30_7_and_1_days_ahead_once_each(vendor_world: VendorWorld) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit, baa_expires=today + timedelta(days=60))
    lapses_at = datetime.combine(today + timedelta(days=61), datetime.min.time(), UTC)

    _sweep(w)
    assert _reminders(w, engaged) == []
    for days_left, expected in ((31, 0), (29, 1), (29, 1), (8, 1), (6, 2), (6, 2), (0.5, 3)):
        w.clock.set(lapses_at - timedelta(days=days_left))
        _sweep(w)
        assert len(_reminders(w, engaged)) == expected, days_left

    assert _reminders(w, engaged) == [
        ("baa_expired:30d", lapses_at),
        ("baa_expired:7d", lapses_at),
        ("baa_expired:1d", lapses_at),
    ]
    assert len(events(w, "vendors:engagement:reminded", resource_id=engaged)) == 3
    last = [n for n in notices(w, engaged) if n.kind == "reminder"][-1]
    assert last.message.startswith("Access stops in 1 day (at ")
    assert "unless a renewed business associate agreement is recorded" in last.message


def test_a_first_sweep_near_a_deadline_leaves_only_the_most_urgent_reminder(
    vendor_world: VendorWorld,
) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit, baa_expires=today + timedelta(days=4))
    found = _sweep(w)
    mine = [r for r in found.reminders if r.engagement_id == engaged]
    assert [(r.condition, r.lead_days) for r in mine] == [("baa_expired", 7)]
    assert "Access stops in 5 days" in mine[0].message


def test_each_deadline_gets_its_own_reminders(vendor_world: VendorWorld) -> None:
    w = vendor_world
    today = w.clock.now().date()
    approved = w.clock.now() - timedelta(days=360)  # reassessment due in 5 days
    engaged = w.open_engagement(
        w.riverside, w.summit, baa_expires=today + timedelta(days=20), approved_at=approved
    )
    _sweep(w)
    assert sorted(c for c, _ in _reminders(w, engaged)) == [
        "assessment_expired:7d",
        "baa_expired:30d",
    ]


def test_reminder_days_are_configurable(vendor_world: VendorWorld) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit, baa_expires=today + timedelta(days=20))
    _sweep(w, reminder_days=[3])
    assert _reminders(w, engaged) == []
    w.clock.advance(timedelta(days=18))
    _sweep(w, reminder_days=[3])
    assert [c for c, _ in _reminders(w, engaged)] == ["baa_expired:3d"]


def test_reminder_days_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, reminder_days=[30, 0])
    assert caught.value.where == "reminder_days"
    assert load_settings(tmp_path, reminder_days=[1, 30, 7, 7]).reminder_days == (30, 7, 1)


def test_sweeps_at_the_same_moment_leave_one_reminder(vendor_world: VendorWorld) -> None:
    w = vendor_world
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit, baa_expires=today + timedelta(days=5))
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            _sweep(w)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert _reminders(w, engaged) == [
        ("baa_expired:7d", datetime.combine(today + timedelta(days=6), datetime.min.time(), UTC))
    ]
    assert len(events(w, "vendors:engagement:reminded", resource_id=engaged)) == 1


# -- delivery -----------------------------------------------------------------------------


def _lapsed_engagement(w: VendorWorld) -> str:
    today = w.clock.now().date()
    engaged = w.open_engagement(w.riverside, w.summit, baa_expires=today + timedelta(days=1))
    w.clock.advance(timedelta(days=2))
    _clear_outbox(w)
    return engaged


def test_the_default_notifier_keeps_notices_for_the_api_and_cli(vendor_world: VendorWorld) -> None:
    w = vendor_world
    engaged = _lapsed_engagement(w)
    found = Watcher(w.sessions, Settings(), clock=w.clock).run_once()
    assert found.delivered >= 1
    assert found.failed == 0
    (lapsed,) = [n for n in notices(w, engaged) if n.kind == "lapsed"]
    assert (lapsed.delivered_at, lapsed.delivery_error) == (w.clock.now(), None)


def test_the_watcher_thread_sweeps_as_soon_as_it_starts(vendor_world: VendorWorld) -> None:
    w = vendor_world
    engaged = _lapsed_engagement(w)
    watcher = Watcher(w.sessions, Settings(watch_interval_seconds=3600), clock=w.clock)
    watcher.start()
    watcher.stop()  # returns once the first sweep is done
    assert engagement(w, engaged).status == EngagementStatus.SUSPENDED.value
    assert all(n.delivered_at is not None for n in notices(w, engaged))


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made here for the test."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test receiver")])
    now = datetime.now(UTC)  # TLS checks validity against the real clock
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "receiver.pem", folder / "receiver.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@dataclass
class Receiver:
    url: str
    ca: Path
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    status: int = 204

    def bodies(self, engagement_id: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        found = [(headers, json.loads(body)) for headers, body in self.requests]
        return [(h, b) for h, b in found if b["engagement_id"] == engagement_id]


@contextmanager
def https_receiver(folder: Path) -> Iterator[Receiver]:
    """A real HTTPS server on loopback that keeps every POST and answers ``status``."""
    cert, key = _certificate(folder)
    receiver = Receiver(url="", ca=cert)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = _server_tls(cert, key).wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    receiver.url = f"https://127.0.0.1:{server.server_address[1]}/claimbridge/notices"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_webhook_gets_signed_json_over_verified_tls(
    vendor_world: VendorWorld, tmp_path: Path
) -> None:
    w = vendor_world
    engaged = _lapsed_engagement(w)
    with https_receiver(tmp_path) as receiver:
        notifier = WebhookNotifier(receiver.url, SECRET, ca_file=receiver.ca, clock=w.clock)
        found = Watcher(w.sessions, Settings(), clock=w.clock, notifier=notifier).run_once()

    assert found.failed == 0
    ((headers, body),) = receiver.bodies(engaged)
    assert body["kind"] == "lapsed"
    assert body["condition"] == "baa_expired"
    assert body["practice_id"] == w.riverside
    assert body["message"].startswith("Access stopped: the business associate agreement")
    assert set(body) == {
        "id",
        "engagement_id",
        "practice_id",
        "billing_company_id",
        "kind",
        "condition",
        "lead_days",
        "message",
        "due_at",
        "created_at",
    }
    raw = next(raw for h, raw in receiver.requests if h is headers)
    timestamp = headers["x-claimbridge-timestamp"]
    assert int(timestamp) == int(w.clock.now().timestamp())
    expected = hmac.new(SECRET, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
    assert headers["x-claimbridge-signature"] == f"sha256={expected}"
    assert headers["content-type"] == "application/json"
    assert headers["x-claimbridge-notice"] == body["id"]
    (lapsed,) = [n for n in notices(w, engaged) if n.kind == "lapsed"]
    assert lapsed.delivered_at == w.clock.now()


def test_a_failed_delivery_is_recorded_and_retried_on_the_next_sweep(
    vendor_world: VendorWorld, tmp_path: Path
) -> None:
    w = vendor_world
    engaged = _lapsed_engagement(w)
    with https_receiver(tmp_path) as receiver:
        notifier = WebhookNotifier(receiver.url, SECRET, ca_file=receiver.ca, clock=w.clock)
        watcher = Watcher(w.sessions, Settings(), clock=w.clock, notifier=notifier)
        receiver.status = 503
        failing = watcher.run_once()
        (lapsed,) = [n for n in notices(w, engaged) if n.kind == "lapsed"]
        assert failing.failed >= 1
        assert (lapsed.delivered_at, lapsed.delivery_error) == (
            None,
            "The webhook answered HTTP 503.",
        )

        receiver.status = 200
        w.clock.advance(timedelta(minutes=5))
        watcher.run_once()

    assert len(receiver.bodies(engaged)) == 2
    (lapsed,) = [n for n in notices(w, engaged) if n.kind == "lapsed"]
    assert (lapsed.delivered_at, lapsed.delivery_error) == (w.clock.now(), None)


def test_an_untrusted_certificate_is_a_failed_delivery(
    vendor_world: VendorWorld, tmp_path: Path
) -> None:
    w = vendor_world
    engaged = _lapsed_engagement(w)
    with https_receiver(tmp_path) as receiver:
        notifier = WebhookNotifier(receiver.url, SECRET, clock=w.clock)  # the system's CAs only
        Watcher(w.sessions, Settings(), clock=w.clock, notifier=notifier).run_once()
    assert receiver.requests == []
    (lapsed,) = [n for n in notices(w, engaged) if n.kind == "lapsed"]
    assert lapsed.delivered_at is None
    assert lapsed.delivery_error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in lapsed.delivery_error


def test_plain_http_and_weak_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        WebhookNotifier("http://127.0.0.1:9/hook", SECRET)
    assert caught.value.where == "notify_webhook_url"
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, notify_webhook_url="http://hooks.example.org/x")
    assert caught.value.where == "notify_webhook_url"
    with pytest.raises(ConfigError) as caught:
        WebhookNotifier("https://hooks.example.org/x", b"short")
    assert caught.value.where == "notify_webhook_secret_file"


def test_the_settings_choose_the_notifiers(tmp_path: Path) -> None:
    secret = tmp_path / "webhook.secret"
    secret.write_bytes(SECRET + b"\n")
    url = "https://hooks.example.org/claimbridge"
    assert isinstance(notifier_from(load_settings(tmp_path)), StoreOnlyNotifier)
    hook = notifier_from(
        load_settings(tmp_path, notify_webhook_url=url, notify_webhook_secret_file=secret)
    )
    assert isinstance(hook, WebhookNotifier)
    assert SECRET.decode() not in repr(hook)
    both = notifier_from(
        load_settings(
            tmp_path,
            notify_webhook_url=url,
            notify_webhook_secret_file=secret,
            notify_smtp_host="mail.example.org",
            notify_email_from="claimbridge@example.org",
        )
    )
    assert isinstance(both, Notifiers)
    assert [n.name for n in both.notifiers] == ["webhook", "email"]
    with pytest.raises(ConfigError) as caught:
        notifier_from(load_settings(tmp_path, notify_webhook_url=url))
    assert caught.value.where == "notify_webhook_secret_file"
    with pytest.raises(ConfigError) as caught:
        notifier_from(
            load_settings(
                tmp_path, notify_webhook_url=url, notify_webhook_secret_file=tmp_path / "none"
            )
        )
    assert caught.value.where == "notify_webhook_secret_file"
    with pytest.raises(ConfigError) as caught:
        notifier_from(load_settings(tmp_path, notify_smtp_host="mail.example.org"))
    assert caught.value.where == "notify_email_from"


# -- e-mail ---------------------------------------------------------------------------------


@dataclass
class MailServer:
    port: int
    ca: Path
    offer_starttls: bool = True
    mails: list[dict[str, Any]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


@contextmanager
def smtp_server(folder: Path, *, offer_starttls: bool = True) -> Iterator[MailServer]:
    """A small SMTP server on loopback speaking just enough of RFC 5321 and 3207."""
    cert, key = _certificate(folder)
    tls = _server_tls(cert, key)
    state = MailServer(port=0, ca=cert, offer_starttls=offer_starttls)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            connection, secured = self.request, False
            reader = connection.makefile("rb")
            mail: dict[str, Any] = {"to": []}

            def say(line: str) -> None:
                connection.sendall(line.encode() + b"\r\n")

            say("220 localhost ESMTP test")
            while line := reader.readline():
                command = line.decode().strip()
                verb = command.split(" ")[0].upper()
                state.commands.append(verb)
                if verb in {"EHLO", "HELO"}:
                    if state.offer_starttls and not secured:
                        say("250-localhost")
                        say("250 STARTTLS")
                    else:
                        say("250 localhost")
                elif verb == "STARTTLS" and state.offer_starttls:
                    say("220 go ahead")
                    connection = tls.wrap_socket(connection, server_side=True)
                    reader, secured = connection.makefile("rb"), True
                elif verb == "MAIL":
                    mail = {"from": command[10:].strip("<>"), "to": [], "tls": secured}
                    say("250 ok")
                elif verb == "RCPT":
                    mail["to"].append(command[8:].strip("<>"))
                    say("250 ok")
                elif verb == "DATA":
                    say("354 end with .")
                    lines = []
                    while (data := reader.readline()) != b".\r\n":
                        lines.append(data)
                    mail["data"] = b"".join(lines).decode()
                    state.mails.append(mail)
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("502 not here")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_notices_go_by_email_over_starttls_to_both_sides_admins(
    vendor_world: VendorWorld, tmp_path: Path
) -> None:
    w = vendor_world
    engaged = _lapsed_engagement(w)
    with smtp_server(tmp_path) as mail:
        notifier = SMTPNotifier(
            "127.0.0.1", port=mail.port, sender="claimbridge@example.org", ca_file=mail.ca
        )
        Watcher(w.sessions, Settings(), clock=w.clock, notifier=notifier).run_once()

    mine = [m for m in mail.mails if engaged in m["data"]]
    assert len(mine) >= 1
    (lapse,) = [m for m in mine if "Access stopped" in m["data"]]
    assert lapse["tls"] is True
    assert lapse["from"] == "claimbridge@example.org"
    with w.sessions() as session:
        emails = {
            role: session.get(User, w.users[(org, role)]).email  # type: ignore[union-attr]
            for org, role in w.users
            if org in {w.riverside, w.summit}
        }
    assert sorted(lapse["to"]) == sorted(
        [emails[Role.PRACTICE_ADMIN], emails[Role.PRIVACY_OFFICER], emails[Role.VENDOR_ADMIN]]
    )
    assert "Condition: baa_expired" in lapse["data"]


def test_a_mail_server_without_starttls_gets_nothing_in_the_clear(
    vendor_world: VendorWorld, tmp_path: Path
) -> None:
    w = vendor_world
    engaged = _lapsed_engagement(w)
    with smtp_server(tmp_path, offer_starttls=False) as mail:
        notifier = SMTPNotifier(
            "127.0.0.1", port=mail.port, sender="claimbridge@example.org", ca_file=mail.ca
        )
        found = Watcher(w.sessions, Settings(), clock=w.clock, notifier=notifier).run_once()
    assert found.failed >= 1
    assert mail.mails == []
    assert "MAIL" not in mail.commands
    (lapsed,) = [n for n in notices(w, engaged) if n.kind == "lapsed"]
    assert lapsed.delivered_at is None
    assert "STARTTLS" in (lapsed.delivery_error or "")
