"""Known-answer tests for the primitives behind every recipe.

AES-GCM vectors are from Project Wycheproof (``aes_gcm_test.json``, the
group with 256-bit keys, 96-bit IVs and 128-bit tags; ``tcId`` kept) and
from the GCM specification (McGrew and Viega, test cases 13 to 16, the
AES-256 ones, also in NIST's GCM validation examples). The others are the
RFCs' own test vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from claimbridge.crypto import _primitives
from claimbridge.crypto.errors import DecryptionFailed, SignatureInvalid

# (tcId, key, iv, aad, msg, ct, tag)
WYCHEPROOF_VALID = [
    (
        73,
        "92ace3e348cd821092cd921aa3546374299ab46209691bc28b8752d17f123c20",
        "00112233445566778899aabb",
        "00000000ffffffff",
        "00010203040506070809",
        "e27abdd2d2a53d2f136b",
        "9a4a2579529301bcfb71c78d4060f52c",
    ),
    (
        74,
        "29d3a44f8723dc640239100c365423a312934ac80239212ac3df3421a2098123",
        "00112233445566778899aabb",
        "aabbccddeeff",
        "",
        "",
        "2a7d77fa526b8250cb296078926b5020",
    ),
    (
        75,
        "80ba3192c803ce965ea371d5ff073cf0f43b6a2ab576b208426e11409c09b9b0",
        "4da5bf8dfd5852c1ea12379d",
        "",
        "",
        "",
        "4771a7c404a472966cea8f73c8bfe17a",
    ),
    (
        76,
        "cc56b680552eb75008f5484b4cb803fa5063ebd6eab91f6ab6aef4916a766273",
        "99e23ec48985bccdeeab60f1",
        "",
        "2a",
        "06",
        "633c1e9703ef744ffffb40edf9d14355",
    ),
    (
        77,
        "51e4bf2bad92b7aff1a4bc05550ba81df4b96fabf41c12c7b00e60e48db7e152",
        "4f07afedfdc3b6c2361823d3",
        "",
        "be3308f72a2c6aed",
        "cf332a12fdee800b",
        "602e8d7c4799d62c140c9bb834876b09",
    ),
    (
        79,
        "59d4eafb4de0cfc7d3db99a8f54b15d7b39f0acc8da69763b019c1699f87674a",
        "2fcb1b38a99e71b84740ad9b",
        "",
        "549b365af913f3b081131ccb6b825588",
        "f58c16690122d75356907fd96b570fca",
        "28752c20153092818faba2a334640d6e",
    ),
    (
        82,
        "b279f57e19c8f53f2f963f5f2519fdb7c1779be2ca2b3ae8e1128b7d6c627fc4",
        "98bc2c7438d5cd7665d76f6e",
        "c0",
        "fcc515b294408c8645c9183e3f4ecee5127846d1",
        "eb5500e3825952866d911253f8de860c00831c81",
        "ecb660e1fb0541ec41e8d68a64141b3a",
    ),
    (
        83,
        "cdccfe3f46d782ef47df4e72f0c02d9c7f774def970d23486f11a57f54247f17",
        "376187894605a8d45e30de51",
        "956846a209e087ed",
        "e28e0e9f9d22463ac0e42639b530f42102fded75",
        "feca44952447015b5df1f456df8ca4bb4eee2ce2",
        "082e91924deeb77880e1b1c84f9b8d30",
    ),
    (
        86,
        "5b1d1035c0b17ee0b0444767f80a25b8c1b741f4b50a4d3052226baa1c6fb701",
        "d61040a313ed492823cc065b",
        "",
        "d096803181beef9e008ff85d5ddc38ddacf0f09ee5f7e07f1e4079cb64d0dc8f"
        "5e6711cd4921a7887de76e2678fdc67618f1185586bfea9d4c685d50e4bb9a82",
        "c7d191b601f86c28b6a1bdef6a57b4f6ee3ae417bc125c381cdf1c4dac184ed1"
        "d84f1196206d62cad112b038845720e02c061179a8836f02b93fa7008379a6bf",
        "f15612f6c40f2e0db6dc76fc4822fcfe",
    ),
    (
        92,
        "00112233445566778899aabbccddeeff102132435465768798a9bacbdcedfe0f",
        "000000000000000000000000",
        "",
        "561008fa07a68f5c61285cd013464eaf",
        "23293e9b07ca7d1b0cae7cc489a973b3",
        "ffffffffffffffffffffffffffffffff",
    ),
]

# The same key, IV and message for every invalid case; only the tag is wrong.
WYCHEPROOF_INVALID_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
WYCHEPROOF_INVALID_IV = "505152535455565758595a5b"
WYCHEPROOF_INVALID_CT = "b2061457c0759fc1749f174ee1ccadfa"
# (tcId, comment, tag)
WYCHEPROOF_INVALID = [
    (94, "flipped bit 0 in tag", "9de8fef6d8ab1bf1bf887232eab590dd"),
    (98, "flipped bit 31 in tag", "9ce8fe76d8ab1bf1bf887232eab590dd"),
    (109, "flipped bit 120 in tag", "9ce8fef6d8ab1bf1bf887232eab590dc"),
    (112, "flipped bit 127 in tag", "9ce8fef6d8ab1bf1bf887232eab5905d"),
    (116, "all bits of tag flipped", "631701092754e40e40778dcd154a6f22"),
    (117, "tag changed to all zero", "00000000000000000000000000000000"),
    (118, "tag changed to all one", "ffffffffffffffffffffffffffffffff"),
]

_GCM_SPEC_KEY = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
_GCM_SPEC_PT = (
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
)
_GCM_SPEC_CT = (
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
)
# (case, key, iv, aad, pt, ct, tag)
GCM_SPEC_AES256 = [
    (13, "00" * 32, "00" * 12, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"),
    (
        14,
        "00" * 32,
        "00" * 12,
        "",
        "00" * 16,
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    ),
    (
        15,
        _GCM_SPEC_KEY,
        "cafebabefacedbaddecaf888",
        "",
        _GCM_SPEC_PT,
        _GCM_SPEC_CT,
        "b094dac5d93471bdec1a502270e3cc6c",
    ),
    (
        16,
        _GCM_SPEC_KEY,
        "cafebabefacedbaddecaf888",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        _GCM_SPEC_PT[:120],
        _GCM_SPEC_CT[:120],
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ),
]

ALL_VALID: Sequence[tuple[str, ...]] = [
    (f"wycheproof-{v[0]}", *v[1:]) for v in WYCHEPROOF_VALID
] + [(f"gcm-spec-{v[0]}", *v[1:]) for v in GCM_SPEC_AES256]


@pytest.mark.parametrize("vector", ALL_VALID, ids=[v[0] for v in ALL_VALID])
def test_aead_matches_known_answer(vector: tuple[str, ...]) -> None:
    key, iv, aad, msg, ct, tag = (bytes.fromhex(part) for part in vector[1:])
    aead = _primitives.AEAD(key)
    sealed = aead.encrypt(iv, msg, aad)
    assert sealed == ct + tag
    assert aead.decrypt(iv, sealed, aad) == msg


@pytest.mark.parametrize(("tc_id", "comment", "tag"), WYCHEPROOF_INVALID)
def test_aead_rejects_wycheproof_invalid_tag(tc_id: int, comment: str, tag: str) -> None:
    aead = _primitives.AEAD(bytes.fromhex(WYCHEPROOF_INVALID_KEY))
    iv = bytes.fromhex(WYCHEPROOF_INVALID_IV)
    with pytest.raises(DecryptionFailed):
        aead.decrypt(iv, bytes.fromhex(WYCHEPROOF_INVALID_CT + tag), b"")


def test_aead_decrypt_raw_raises_the_library_tag_mismatch() -> None:
    aead = _primitives.AEAD(bytes.fromhex(WYCHEPROOF_INVALID_KEY))
    iv = bytes.fromhex(WYCHEPROOF_INVALID_IV)
    tag = WYCHEPROOF_INVALID[0][2]
    with pytest.raises(_primitives.TagMismatch):
        aead.decrypt_raw(iv, bytes.fromhex(WYCHEPROOF_INVALID_CT + tag), b"")


def test_aead_accepts_only_256_bit_keys() -> None:
    with pytest.raises(ValueError, match="32-byte"):
        _primitives.AEAD(bytes(16))


def test_aead_repr_shows_no_key() -> None:
    assert repr(_primitives.AEAD(b"\x42" * 32)) == "AEAD(AES-256-GCM)"


def test_hkdf_sha256_rfc5869_case_1() -> None:
    okm = _primitives.hkdf_sha256(
        bytes.fromhex("0b" * 22),
        salt=bytes.fromhex("000102030405060708090a0b0c"),
        info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        length=42,
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )


def test_hmac_sha256_rfc4231_case_2() -> None:
    mac = _primitives.hmac_sha256(b"Jefe", b"what do ya want for nothing?")
    assert mac.hex() == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_scrypt_rfc7914_vector_2() -> None:
    derived = _primitives.scrypt(b"password", salt=b"NaCl", n=1024, r=8, p=16, length=64)
    assert derived.hex() == (
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
        "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
    )


RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_ed25519_rfc8032_test_1() -> None:
    signer = _primitives.Ed25519Signer.from_seed(bytes.fromhex(RFC8032_SEED))
    assert signer.public_key_bytes().hex() == RFC8032_PUBLIC
    signature = signer.sign(b"")
    assert signature.hex() == RFC8032_SIGNATURE
    _primitives.ed25519_verify(bytes.fromhex(RFC8032_PUBLIC), b"", signature)


def test_ed25519_verify_raises_for_a_wrong_message() -> None:
    with pytest.raises(SignatureInvalid):
        _primitives.ed25519_verify(
            bytes.fromhex(RFC8032_PUBLIC), b"x", bytes.fromhex(RFC8032_SIGNATURE)
        )


def test_random_bytes_are_fresh() -> None:
    assert len(_primitives.random_bytes(32)) == 32
    assert _primitives.random_bytes(16) != _primitives.random_bytes(16)


def test_ed25519_signer_repr_shows_no_key() -> None:
    signer = _primitives.Ed25519Signer.from_seed(bytes.fromhex(RFC8032_SEED))
    assert repr(signer) == "Ed25519Signer(<private>)"
