"""Running the app under uvicorn, over TLS only.

There is no plain-HTTP listener at all: a browser that types http:// gets
a failed handshake, not a redirect that an attacker on the path could
rewrite. TLS 1.2 is the floor, 1.3 is preferred (OpenSSL picks the highest
both sides speak), and TLS 1.2 uses only forward-secret AEAD suites.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

import uvicorn

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


class TLSConfig(uvicorn.Config):
    """uvicorn's config, with TLS required and hardened after uvicorn builds it."""

    def load(self) -> None:
        super().load()
        if self.ssl is None:
            raise RuntimeError("claimbridge serves over TLS only")
        harden(self.ssl)


def build_server(
    app: Any, *, certfile: str, keyfile: str, log_level: str = "info"
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
    )
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
