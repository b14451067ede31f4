"""A real claimbridge server over real TLS, on a free loopback port."""

from __future__ import annotations

import functools
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer.main
import typer.testing
from sqlalchemy import Engine

from claimbridge.api.app import create_app
from claimbridge.api.server import build_server, listen
from claimbridge.clock import SystemClock
from claimbridge.config import Settings, load_settings
from claimbridge.instance.keys import open_keyring
from claimbridge.instance.setup import init_instance
from tests.functional.demo_instances import DemoInstances


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    host: str
    port: int
    cert_file: Path
    settings: Settings

    def client(self, **kwargs: object) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.cert_file))
        return httpx.Client(base_url=self.base_url, verify=context, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def demo_instances(tmp_path_factory: pytest.TempPathFactory) -> DemoInstances:
    """Demo instances loaded once per run, copied for each test that asks (see the module)."""
    return DemoInstances(tmp_path_factory.mktemp("demo-templates"))


@pytest.fixture(scope="session")
def server_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("server") / "data"
    settings = load_settings(root)
    init_instance(settings, clock=SystemClock())
    return settings


@pytest.fixture(scope="session")
def running_server(server_data_dir: Settings, engine: Engine) -> Iterator[RunningServer]:
    """The app on ``engine`` (each backend), served by uvicorn over TLS in a thread."""
    settings = server_data_dir
    keyring = open_keyring(settings, clock=SystemClock())
    app = create_app(settings, engine=engine, keyring=keyring)
    server = build_server(
        app, certfile=str(settings.tls_cert), keyfile=str(settings.tls_key), log_level="warning"
    )
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield RunningServer(
        base_url=f"https://localhost:{port}",
        host="127.0.0.1",
        port=port,
        cert_file=settings.tls_cert,
        settings=settings,
    )
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@functools.cache
def _command_of(app: typer.Typer) -> Any:
    return typer.main.get_command(app)


@pytest.fixture(autouse=True)
def _cli_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """``CliRunner.invoke`` runs the ``claimbridge`` command tree built once, not anew each time.

    Typer turns the whole app into its click commands at every ``invoke``
    (about 75 ms for ``claimbridge``), work the real CLI does once per process.
    The same commands run, parsed the same way; ``monkeypatch`` fails loudly
    should typer stop looking the tree up by this name.
    """
    monkeypatch.setattr(typer.testing, "_get_command", _command_of)
