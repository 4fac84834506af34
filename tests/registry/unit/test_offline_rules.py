"""Offline uploads without I/O: the keyed digest that tells a replay from a reused client id."""

import pytest

from botram_registry.domain.offline import ClientIdReused, check_replay, fingerprint

ITEM = {"client_id": "c-1", "nik": "3216054507900001", "services": ["dukcapil-kk"]}


def test_the_digest_is_keyed_and_ignores_the_order_of_fields() -> None:
    reordered = dict(reversed(list(ITEM.items())))

    assert fingerprint(ITEM, b"k") == fingerprint(reordered, b"k")
    assert fingerprint(ITEM, b"k") != fingerprint(ITEM, b"other-key")
    assert "3216054507900001" not in fingerprint(ITEM, b"k")


def test_the_same_content_again_is_a_replay_other_content_a_conflict() -> None:
    stored = fingerprint(ITEM, b"k")
    check_replay("c-1", stored, fingerprint(dict(ITEM), b"k"))

    with pytest.raises(ClientIdReused) as error:
        check_replay("c-1", stored, fingerprint(ITEM | {"nik": "3216050101900002"}, b"k"))

    assert (error.value.status, error.value.code) == (409, "client-id-reused")
