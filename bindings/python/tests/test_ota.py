"""iotkit.ota: manifests (the exact canonical form of docs/protocol.md, as
tests/unit/test_ota_manifest.c checks it), trust stores, semantic versions,
and every refusal with its code."""
from __future__ import annotations

import json

import pytest

from iotkit import crypto, ota
from iotkit.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError, TooLargeError, VerificationError
from test_crypto import raises
from test_crypto_vectors import RFC7515_EC_PUB_PEM, RFC7515_RSA_PRIV_PEM

URL = "http://127.0.0.1:8080/fw/thermo-2.0.0.bin"
IMAGE = bytes(range(256)) * 4


@pytest.fixture(scope="module")
def key():
    return crypto.PrivateKey.generate(crypto.KeyType.ED25519)


@pytest.fixture
def trust(key):
    return ota.TrustStore({"fleet-2026": key})


@pytest.fixture
def manifest(key):
    return ota.sign_manifest(ota.Image.of(IMAGE, "thermo-v2", "2.0.0", URL), key, "fleet-2026")


def edit(text: str, old: str, new: str) -> str:
    assert old in text, (old, text)
    return text.replace(old, new, 1)


# ------------------------------------------------------------ manifests --

def test_canonical_form_is_exact(key):
    img = ota.Image("thermo-v2", "2.1.0-rc.1", 1048576, b"\x01" + b"\xab" * 31,
                    "https://updates.example.com/thermo-v2/2.1.0-rc.1.bin")
    text = ota.sign_manifest(img, key, "fleet-2026")
    assert text.startswith('{"device_type":"thermo-v2","version":"2.1.0-rc.1","size":1048576,"sha256":"01ab')
    m = ota.Manifest.parse(text)
    assert m.canonical() == ("iotkit-ota-manifest/1\n"
                             "device_type:thermo-v2\n"
                             "version:2.1.0-rc.1\n"
                             "size:1048576\n"
                             "sha256:01ababababababababababababababababababababababababababababababab\n"
                             "url:https://updates.example.com/thermo-v2/2.1.0-rc.1.bin\n"
                             "key_id:fleet-2026\n")
    assert m.image == img and m.key_id == "fleet-2026"


def test_sign_then_parse_gives_the_fields(manifest, trust):
    m = ota.Manifest.parse(manifest)
    assert (m.device_type, m.version, m.size, m.url) == ("thermo-v2", "2.0.0", len(IMAGE), URL)
    assert m.sha256 == crypto.sha256(IMAGE)
    assert set(json.loads(manifest)) == {"device_type", "version", "size", "sha256", "url", "key_id", "signature"}
    m.verify(trust)
    assert repr(m) == "<Manifest thermo-v2 2.0.0, key fleet-2026>"


def test_the_signature_is_over_the_canonical_form(manifest, key):
    m = ota.Manifest.parse(manifest)
    sig = crypto.b64url_decode(json.loads(manifest)["signature"])
    key.public_key().verify(sig, m.canonical())


def test_p256_signed_manifest_verifies(trust):
    p = crypto.PrivateKey.generate(crypto.KeyType.P256)
    trust.add("fleet-p256", p.public_pem())
    ota.Manifest.parse(ota.sign_manifest(ota.Image.of(IMAGE, "thermo-v2", "2.0.0", URL), p, "fleet-p256")).verify(trust)


def test_unknown_key_id(key, trust):
    m = ota.Manifest.parse(ota.sign_manifest(ota.Image.of(IMAGE, "thermo-v2", "2.0.0", URL), key, "rogue"))
    with raises(VerificationError, "IOTKIT_ERR_OTA_UNKNOWN_KEY"):
        m.verify(trust)


def test_other_key_under_a_trusted_id(trust):
    other = crypto.PrivateKey.generate()
    m = ota.Manifest.parse(ota.sign_manifest(ota.Image.of(IMAGE, "thermo-v2", "2.0.0", URL), other, "fleet-2026"))
    with raises(VerificationError, "IOTKIT_ERR_OTA_SIGNATURE"):
        m.verify(trust)


@pytest.mark.parametrize("old,new", [('"2.0.0"', '"2.0.1"'), ('"size":1024', '"size":1023'),
                                     ("thermo-2.0.0", "thermo-6.6.6"), ('"thermo-v2"', '"thermo-v3"')])
def test_modified_field_is_a_bad_signature(manifest, trust, old, new):
    m = ota.Manifest.parse(edit(manifest, old, new))
    with raises(VerificationError, "IOTKIT_ERR_OTA_SIGNATURE"):
        m.verify(trust)


def test_modified_signature(manifest, trust):
    sig = json.loads(manifest)["signature"]
    flipped = ("B" if sig[0] == "A" else "A") + sig[1:]
    with raises(VerificationError, "IOTKIT_ERR_OTA_SIGNATURE"):
        ota.Manifest.parse(edit(manifest, sig, flipped)).verify(trust)


def test_key_rotation(key, manifest):
    new = crypto.PrivateKey.generate()
    t = ota.TrustStore({"fleet-2026": key, "fleet-2027": new.public_key()})
    assert len(t) == 2 and "fleet-2027" in t and t.key_ids() == ["fleet-2026", "fleet-2027"]
    t.remove("fleet-2026")
    with raises(VerificationError, "IOTKIT_ERR_OTA_UNKNOWN_KEY"):
        ota.Manifest.parse(manifest).verify(t)
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        t.remove("fleet-2026")


@pytest.mark.parametrize("old,new", [
    ('"size":1024,', ""), ('"size":1024,', '"size":1024,"extra":1,'), ('"size":1024,', '"size":1024,"size":1024,'),
    ('"size":1024', '"size":"1024"'), ('"size":1024', '"size":0'), ('"size":1024', '"size":-1024'),
    ('"size":1024', '"size":1024.5'), ('"size":1024', '"size":18014398509481984'), ('"sha256":"', '"sha256":"0'),
    ('"2.0.0"', '"2.0"'), ("http://", "ftp://"), ("/fw/", "/f w/"), ('"thermo-v2"', '"thermo/v2"'),
    ('"fleet-2026"', '""'), ('"signature":"', '"signature":"+'),
])
def test_malformed_manifests(manifest, old, new):
    with raises(InvalidArgumentError, "IOTKIT_ERR_OTA_MANIFEST"):
        ota.Manifest.parse(edit(manifest, old, new))


@pytest.mark.parametrize("text", ['{"device_type":', "[1,2]", "{}\0{}", ""])
def test_not_a_manifest(text):
    with raises(InvalidArgumentError, "IOTKIT_ERR_OTA_MANIFEST"):
        ota.Manifest.parse(text)


def test_upper_case_sha256_is_malformed(manifest):
    sha = json.loads(manifest)["sha256"]
    with raises(InvalidArgumentError, "IOTKIT_ERR_OTA_MANIFEST"):
        ota.Manifest.parse(edit(manifest, sha, sha.upper()))


def test_trailing_garbage_is_malformed_and_whitespace_fine(manifest):
    ota.Manifest.parse(manifest + " \n")
    with raises(InvalidArgumentError, "IOTKIT_ERR_OTA_MANIFEST"):
        ota.Manifest.parse(manifest + "x")


def test_sign_with_public_key_is_bad_key(key):
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        ota.sign_manifest(ota.Image.of(IMAGE, "thermo-v2", "2.0.0", URL), key.public_key(), "k")  # type: ignore


def test_sign_with_rsa_key_is_bad_key():
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        ota.sign_manifest(ota.Image.of(IMAGE, "thermo-v2", "2.0.0", URL), crypto.PrivateKey.load(RFC7515_RSA_PRIV_PEM),
                          "k")


@pytest.mark.parametrize("field,value", [("version", "2.0"), ("url", 'http://x/"q'), ("device_type", "a b"),
                                         ("size", 0), ("sha256", b"\x00" * 31)])
def test_sign_with_a_bad_field_is_invalid(key, field, value):
    fields = dict(device_type="thermo-v2", version="2.0.0", size=1024, sha256=bytes(32), url=URL)
    fields[field] = value
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        ota.sign_manifest(ota.Image(**fields), key, "k")


# ---------------------------------------------------------- trust store --

def test_trust_duplicate_id_exists(trust, key):
    with raises(AlreadyExistsError, "IOTKIT_ERR_EXISTS"):
        trust.add("fleet-2026", key)


def test_trust_bad_id_is_invalid(trust, key):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        trust.add("a b", key)


def test_trust_pem_garbage_is_bad_encoding(trust):
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
        trust.add("k2", b"garbage")


def test_trust_rsa_is_bad_key(trust):
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        trust.add("k2", crypto.PrivateKey.load(RFC7515_RSA_PRIV_PEM))


def test_trust_accepts_pem_text(trust):
    trust.add("rfc7515", RFC7515_EC_PUB_PEM)
    assert len(trust) == 2


def test_trust_is_full_at_16(trust):
    for i in range(15):
        trust.add("k%d" % i, crypto.PrivateKey.generate())
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        trust.add("k99", crypto.PrivateKey.generate())
    assert len(trust) == 16


# ------------------------------------------------------------- versions --

def test_semver_precedence_of_the_spec():
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
             "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"]
    for a, b in zip(order, order[1:]):
        assert ota.compare_versions(a, b) == -1 and ota.compare_versions(b, a) == 1
    assert ota.compare_versions("1.0.0+build.1", "1.0.0+other") == 0


@pytest.mark.parametrize("bad", ["1.0", "01.0.0", "1.0.0-", "v1.0.0", ""])
def test_semver_invalid_forms(bad):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        ota.compare_versions(bad, "1.0.0")


def test_state_labels():
    assert [s.label for s in ota.State] == ["idle", "downloading", "downloaded", "verifying", "pending", "trial",
                                            "confirmed", "rolled_back", "failed"]

