"""Organisation signing keys: rotation with overlap, and keys the server holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from claimbridge.audit.record import LOCAL_OPERATOR
from claimbridge.crypto.signing import SigningKey
from claimbridge.errors import ClaimbridgeError, Conflict
from claimbridge.exchange.errors import ManifestInvalid
from claimbridge.exchange.orgkeys import create_held_key, held_key, list_keys, register_key
from tests.functional.exchange.conftest import ExchangeWorld
from tests.functional.exchange.samples import generated_837p


def test_a_rotated_key_still_signs_within_its_overlap_and_not_after(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    old = w.keys[w.riverside]
    new = SigningKey.generate()
    with w.sessions.begin() as session:
        register_key(
            session,
            w.riverside,
            new.public_key_bytes(),
            now=w.clock.now(),
            actor=LOCAL_OPERATOR,
            overlap=timedelta(days=7),
        )
    # Signed by the old key a day after the rotation: inside the overlap.
    w.clock.advance(timedelta(days=1))
    assert w.send(generated_837p(2, seed=91), key=old).status == "accepted"
    # Eight days on, the old key's signatures are refused; the new one's pass.
    w.clock.advance(timedelta(days=7))
    with pytest.raises(ManifestInvalid, match="retired"):
        w.send(generated_837p(2, seed=92), key=old)
    assert w.send(generated_837p(2, seed=93), key=new).status == "accepted"
    with w.sessions() as session:
        keys = list_keys(session, w.riverside)
    current = {k.public_key: k.retired_at is None for k in keys}
    assert current == {old.public_key_bytes().hex(): False, new.public_key_bytes().hex(): True}


def test_a_retired_key_cannot_be_registered_again(exchange_world: ExchangeWorld) -> None:
    w = exchange_world
    old = w.keys[w.riverside]
    with w.sessions.begin() as session:
        register_key(
            session,
            w.riverside,
            SigningKey.generate().public_key_bytes(),
            now=w.clock.now(),
            actor=LOCAL_OPERATOR,
        )
    with pytest.raises(Conflict), w.sessions.begin() as session:
        register_key(
            session, w.riverside, old.public_key_bytes(), now=w.clock.now(), actor=LOCAL_OPERATOR
        )


def test_a_key_the_server_holds_signs_and_is_shredded_with_the_organisation(
    exchange_world: ExchangeWorld,
) -> None:
    w = exchange_world
    keyring = w.service.keyring
    with w.sessions.begin() as session:
        public = create_held_key(
            session, keyring, w.riverside, now=w.clock.now(), actor=LOCAL_OPERATOR
        )
    with w.sessions() as session:
        key = held_key(session, keyring, w.riverside)
        listed = list_keys(session, w.riverside)
    assert key is not None
    assert key.public_key_bytes().hex() == public.public_key
    held = {k.key_id: (k.held_by_server, k.retired_at is None) for k in listed}
    assert held.pop(public.key_id) == (True, True)
    assert list(held.values()) == [(False, False)], "the key file's key retired"
    assert w.send(generated_837p(2, seed=94), key=key).status == "accepted"

    with w.sessions.begin() as session:
        keyring.shred(session, w.riverside)
    with pytest.raises(ClaimbridgeError), w.sessions() as session:
        held_key(session, keyring, w.riverside)
