"""Transport security of the real listener: TLS 1.2 floor, 1.3 preferred, no plain HTTP."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from tests.functional.conftest import RunningServer

# The old versions are deprecated in Python's ssl module; these tests use
# them on purpose, to show the server refuses them.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")


def _client_context(server: RunningServer, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(str(server.cert_file))
    context.minimum_version = version
    context.maximum_version = version
    if version < ssl.TLSVersion.TLSv1_2:
        # OpenSSL's default security level forbids old versions on the client
        # side too; level 0 makes this client really offer TLS 1.1.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def _handshake(host: str, port: int, context: ssl.SSLContext) -> str | None:
    with socket.create_connection((host, port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.version()


@pytest.fixture
def permissive_tls_server(running_server: RunningServer) -> Iterator[int]:
    """A bare TLS server that accepts TLS 1.0+, proving our TLS 1.1 client really works."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(running_server.cert_file), str(running_server.settings.tls_key))
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_once() -> None:
        conn, _ = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    yield port
    thread.join(timeout=5)
    listener.close()


def test_tls11_client_works_against_a_permissive_server(
    running_server: RunningServer, permissive_tls_server: int
) -> None:
    # The control for the next test: without it, a client unable to speak
    # TLS 1.1 at all would make the refusal below pass for the wrong reason.
    context = _client_context(running_server, ssl.TLSVersion.TLSv1_1)
    try:
        version = _handshake("127.0.0.1", permissive_tls_server, context)
    except ssl.SSLError as exc:
        pytest.skip(f"this OpenSSL build cannot speak TLS 1.1 at all: {exc}")
    assert version == "TLSv1.1"


def test_tls11_client_is_refused(running_server: RunningServer) -> None:
    context = _client_context(running_server, ssl.TLSVersion.TLSv1_1)
    with pytest.raises(ssl.SSLError):
        _handshake(running_server.host, running_server.port, context)


@pytest.mark.parametrize(
    ("version", "expected"),
    [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
)
def test_tls12_and_tls13_clients_connect(
    running_server: RunningServer, version: ssl.TLSVersion, expected: str
) -> None:
    assert (
        _handshake(
            running_server.host, running_server.port, _client_context(running_server, version)
        )
        == expected
    )


def test_a_modern_client_gets_tls13(running_server: RunningServer) -> None:
    context = ssl.create_default_context(cafile=str(running_server.cert_file))
    assert _handshake(running_server.host, running_server.port, context) == "TLSv1.3"


def test_tls12_uses_only_forward_secret_aead_suites(running_server: RunningServer) -> None:
    context = _client_context(running_server, ssl.TLSVersion.TLSv1_2)
    with socket.create_connection((running_server.host, running_server.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            name, _, _ = tls.cipher()  # type: ignore[misc]
    assert name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name)


def test_plain_http_gets_no_http_response(running_server: RunningServer) -> None:
    with socket.create_connection((running_server.host, running_server.port), timeout=5) as raw:
        raw.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        received = b""
        try:
            while chunk := raw.recv(4096):
                received += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    assert not received.startswith(b"HTTP/")
    assert b"status" not in received


def test_certificate_names_localhost_and_loopback(running_server: RunningServer) -> None:
    context = ssl.create_default_context(cafile=str(running_server.cert_file))
    for host, name in (("127.0.0.1", "localhost"), ("127.0.0.1", "127.0.0.1")):
        with socket.create_connection((host, running_server.port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname=name) as tls:
                assert tls.version() is not None
