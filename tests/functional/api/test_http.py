"""What any HTTP client sees: health, the OpenAPI document, headers and error shapes."""

from __future__ import annotations

import socket
import ssl

import pytest

from tests.functional.conftest import RunningServer

ERROR_KEYS = {"code", "message", "where"}


def test_health_answers_without_authentication(running_server: RunningServer) -> None:
    with running_server.client() as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_openapi_document_is_served_under_api_v1(running_server: RunningServer) -> None:
    with running_server.client() as client:
        document = client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/health" in document["paths"]


def test_api_responses_carry_security_headers_and_no_store(running_server: RunningServer) -> None:
    with running_server.client() as client:
        headers = client.get("/api/v1/health").headers
    assert headers["strict-transport-security"].startswith("max-age=63072000")
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "server" not in headers


def test_pages_carry_security_headers_too(running_server: RunningServer) -> None:
    with running_server.client() as client:
        response = client.get("/")
    assert response.status_code == 200
    assert "claimbridge is running" in response.text
    assert "content-security-policy" in response.headers
    assert "strict-transport-security" in response.headers


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v1/no-such-thing", 404, "not_found"),
        ("DELETE", "/api/v1/health", 405, "method_not_allowed"),
    ],
)
def test_errors_have_the_one_json_shape(
    running_server: RunningServer, method: str, path: str, status: int, code: str
) -> None:
    with running_server.client() as client:
        response = client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    assert body["error"]["code"] == code


def test_oversized_body_is_refused_with_413_before_it_is_read(
    running_server: RunningServer,
) -> None:
    # A raw request: a declared length over the limit and no body at all.
    # The server must answer from the header alone, without waiting for it.
    limit = running_server.settings.max_body_bytes
    context = ssl.create_default_context(cafile=str(running_server.cert_file))
    request = (
        "POST /api/v1/health HTTP/1.1\r\nHost: localhost\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {limit + 1}\r\n\r\n"
    ).encode()
    with socket.create_connection((running_server.host, running_server.port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(request)
            head = tls.recv(4096)
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"payload_too_large" in head or b"content-length" in head.lower()
