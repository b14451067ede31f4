"""Running the app under uvicorn, over TLS only.

There is no plain-HTTP listener at all: a browser that types http:// gets
a failed handshake, not a redirect that an attacker on the path could
rewrite. TLS 1.2 is the floor, 1.3 is preferred (OpenSSL picks the highest
both sides speak), and TLS 1.2 uses only forward-secret AEAD suites.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from claimbridge.crypto.tls import fingerprint_der

# Mozilla's "intermediate" TLS 1.2 suites: ECDHE key exchange, AEAD ciphers.
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)


def harden(context: ssl.SSLContext) -> None:
    """Apply our TLS floor and cipher choice to a server context."""
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
    context.options |= ssl.OP_NO_RENEGOTIATION


CLIENT_CERT_STATE = "tls_client_cert_sha256"
"""Where a connection's verified client certificate fingerprint appears in ``request.state``."""


class ClientCertH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, passing the TLS client certificate to the app.

    uvicorn does not put the peer certificate in the ASGI scope; this puts
    the SHA-256 of the certificate that OpenSSL verified in the handshake
    into the connection's ``state``, which every request's scope copies.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:
            self.app_state = {**self.app_state, CLIENT_CERT_STATE: fingerprint_der(der)}


class TLSConfig(uvicorn.Config):
    """uvicorn's config, with TLS required and hardened after uvicorn builds it."""

    client_certificates: tuple[str, ...] = ()

    def load(self) -> None:
        super().load()
        if self.ssl is None:
            raise RuntimeError("claimbridge serves over TLS only")
        harden(self.ssl)
        # Mutual TLS is optional: a client may present a certificate, and if
        # it does, it must be one registered to an organisation (trusted as
        # its own anchor, so self-signed machine certificates work).
        self.ssl.verify_mode = ssl.CERT_OPTIONAL
        self.ssl.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        for pem in self.client_certificates:
            trust_client_certificate(self.ssl, pem)


def trust_client_certificate(context: ssl.SSLContext | None, pem: str) -> None:
    """Accept a newly registered client certificate in handshakes from now on.

    Revocation is the database's job (``access/mtls.py``): a context cannot
    forget a certificate, so a revoked one still completes the handshake and
    is then refused.
    """
    if context is not None:
        context.load_verify_locations(cadata=pem)


def build_server(
    app: Any,
    *,
    certfile: str,
    keyfile: str,
    log_level: str = "info",
    client_certificates: tuple[str, ...] = (),
) -> uvicorn.Server:
    config = TLSConfig(
        app,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        log_level=log_level,
        proxy_headers=False,
        # Access lines would carry query strings; our own request log omits them.
        access_log=False,
        server_header=False,
        date_header=True,
        # Slow clients holding connections open cannot starve the server.
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=64 * 1024,
        http=ClientCertH11Protocol,
    )
    config.client_certificates = client_certificates
    return uvicorn.Server(config)


def listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves, so tests can ask for port 0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
