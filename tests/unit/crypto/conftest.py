"""The keyring tests' root keys: one per provider for each module, not one per test.

``tests/conftest.py`` makes a fresh root key for every test that asks for
``key_provider``: a local key file (scrypt, about 50 ms) or a key in
SoftHSM2. The tests here only wrap and unwrap with the root key, never
change or destroy it, and every key they wrap with it (tenant KEKs, data
keys) lives in the test's own database transaction, which is rolled back
when the test ends; so the tests of a module share one root key per
provider. Where a test needs a root key of its own (another key file that
must not unwrap), it makes one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from claimbridge.crypto.providers import KeyProvider
from tests.conftest import KEY_PROVIDERS, root_key


@pytest.fixture(scope="module", params=KEY_PROVIDERS, ids=KEY_PROVIDERS)
def key_provider(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KeyProvider]:
    """A root key in each provider, made once for the module's tests."""
    yield from root_key(request, tmp_path_factory.mktemp("root"))
