"""iotkit.crypto JWS/JWT: the RFC 7515 and RFC 8037 examples of the C tests
(tests/unit/test_crypto_jwt*.c), round trips with claims as dicts, every
refused token with its exact code, and the device token provider."""
from __future__ import annotations

import datetime
import time

import pytest

from iotkit import crypto
from iotkit.errors import InvalidArgumentError, StateError, TooLargeError, UnsupportedError, VerificationError
from test_crypto import raises
from test_crypto_vectors import (RFC7515_A2_TOKEN, RFC7515_A3_TOKEN, RFC7515_A5_TOKEN, RFC7515_EC_PRIV_PEM,
                                 RFC7515_EC_PUB_PEM, RFC7515_EXP, RFC7515_RSA_PRIV_PEM, RFC7515_RSA_PUB_PEM,
                                 RFC8037_A4_TOKEN, RFC8037_PUB, RFC8037_SEED)

RFC7515_CLAIMS = {"iss": "joe", "exp": RFC7515_EXP, "http://example.com/is_root": True}


def ec_pub():
    return crypto.PublicKey.load(RFC7515_EC_PUB_PEM)


def ed_pair():
    return crypto.PrivateKey.from_raw(crypto.KeyType.ED25519, bytes.fromhex(RFC8037_SEED), bytes.fromhex(RFC8037_PUB))


def craft(header: str, payload: str, sig: str) -> str:
    return crypto.b64url_encode(header) + "." + crypto.b64url_encode(payload) + "." + sig


# ------------------------------------------------------- known answers --

def test_rfc8037_a4_eddsa_sign_is_exact():
    assert crypto.jws_sign(b"Example of Ed25519 signing", ed_pair()) == RFC8037_A4_TOKEN


def test_rfc8037_a4_verifies_with_the_public_key():
    pub = crypto.PublicKey.from_raw(crypto.KeyType.ED25519, bytes.fromhex(RFC8037_PUB))
    assert crypto.jws_verify(RFC8037_A4_TOKEN, pub, alg="EdDSA") == b"Example of Ed25519 signing"


def test_rfc7515_a2_rs256_claims():
    pub = crypto.PublicKey.load(RFC7515_RSA_PUB_PEM)
    assert crypto.jwt_decode(RFC7515_A2_TOKEN, pub, now=RFC7515_EXP - 1) == RFC7515_CLAIMS


def test_rfc7515_a3_es256_claims():
    assert crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub(), alg=crypto.JwtAlg.ES256, now=RFC7515_EXP - 1000) == \
        RFC7515_CLAIMS


def test_rfc7515_a3_with_datetime_now():
    now = datetime.datetime.fromtimestamp(RFC7515_EXP - 10, datetime.timezone.utc)
    assert crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub(), now=now)["iss"] == "joe"


def test_alg_names():
    assert [a.jose_name for a in crypto.JwtAlg] == ["EdDSA", "ES256", "RS256"]


# ---------------------------------------------------------- round trips --

@pytest.mark.parametrize("priv,pub", [(RFC7515_EC_PRIV_PEM, RFC7515_EC_PUB_PEM),
                                      (RFC7515_RSA_PRIV_PEM, RFC7515_RSA_PUB_PEM)])
def test_roundtrip_with_every_claim_type(priv, pub):
    claims = {"sub": "device-42", "aud": ["x", "broker"], "iat": 1700000000, "nbf": 1700000000,
              "exp": 1700003600, "admin": False, "ratio": 0.25, "meta": {"fw": "1.2.3", "n": [1, 2]},
              "none": None, "big": -(1 << 50)}
    tok = crypto.jwt_encode(claims, crypto.PrivateKey.load(priv), kid="key-1")
    header = crypto.b64url_decode(tok.split(".")[0])
    assert b'"typ":"JWT"' in header and b'"kid":"key-1"' in header
    got = crypto.jwt_decode(tok, crypto.PublicKey.load(pub), now=1700000100, audience="broker")
    assert got == claims


def test_integer_claims_up_to_2_53_are_exact():
    k = ed_pair()
    tok = crypto.jwt_encode({"n": (1 << 53) - 1, "exp": 2000}, k)
    assert crypto.jwt_decode(tok, k, now=1000)["n"] == (1 << 53) - 1


def test_roundtrip_with_generated_key_and_system_clock():
    k = crypto.PrivateKey.generate()
    tok = crypto.jwt_encode({"sub": "d", "exp": datetime.datetime.now() + datetime.timedelta(minutes=5)}, k)
    assert crypto.jwt_decode(tok, k.public_key())["sub"] == "d"


def test_jws_with_typ_and_kid():
    k = ed_pair()
    tok = crypto.jws_sign(b"\x00\x01binary", k, typ="x", kid="k")
    assert crypto.b64url_decode(tok.split(".")[0]) == b'{"alg":"EdDSA","typ":"x","kid":"k"}'
    assert crypto.jws_verify(tok, k) == b"\x00\x01binary"


def test_leeway_accepts_small_skew():
    with raises(VerificationError, "IOTKIT_ERR_JWT_EXPIRED"):
        crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub(), now=RFC7515_EXP + 30)
    assert crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub(), now=RFC7515_EXP + 30, leeway=60)["iss"] == "joe"
    assert crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub(), now=RFC7515_EXP + 30,
                             leeway=datetime.timedelta(minutes=1))["iss"] == "joe"


def test_require_exp_false():
    k = ed_pair()
    tok = crypto.jwt_encode({"sub": "x"}, k)
    with raises(VerificationError, "IOTKIT_ERR_JWT_CLAIM"):
        crypto.jwt_decode(tok, k, now=1000)
    assert crypto.jwt_decode(tok, k, now=1000, require_exp=False) == {"sub": "x"}


# -------------------------------------------------------------- refused --

def test_expired():
    with raises(VerificationError, "IOTKIT_ERR_JWT_EXPIRED"):
        crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub(), now=RFC7515_EXP)


def test_expired_by_the_system_clock():
    with raises(VerificationError, "IOTKIT_ERR_JWT_EXPIRED"):
        crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub())


def test_not_yet_valid_and_leeway():
    k = ed_pair()
    tok = crypto.jwt_encode({"nbf": 1000, "exp": 5000}, k)
    with raises(VerificationError, "IOTKIT_ERR_JWT_NOT_YET_VALID"):
        crypto.jwt_decode(tok, k, now=999)
    assert crypto.jwt_decode(tok, k, now=990, leeway=10) == {"nbf": 1000, "exp": 5000}


def test_alg_none_rfc7515_a5():
    with raises(VerificationError, "IOTKIT_ERR_JWT_ALG_NONE"):
        crypto.jwt_decode(RFC7515_A5_TOKEN, ec_pub(), now=RFC7515_EXP - 1)
    with raises(VerificationError, "IOTKIT_ERR_JWT_ALG_NONE"):
        crypto.jws_verify(craft('{"alg":"NoNe"}', '{"exp":1300819380}', "AAAA"), ec_pub())


def test_alg_confusion_hs256_with_public_key_as_secret():
    t = craft('{"alg":"HS256","typ":"JWT"}', '{"iss":"joe","exp":1300819380}', "")
    t += crypto.b64url_encode(crypto.hmac_sha256(RFC7515_EC_PUB_PEM, t[:-1]))
    with raises(VerificationError, "IOTKIT_ERR_JWT_ALG"):
        crypto.jwt_decode(t, ec_pub(), now=RFC7515_EXP - 1)


def test_rs256_token_where_es256_is_expected():
    with raises(VerificationError, "IOTKIT_ERR_JWT_ALG"):
        crypto.jwt_decode(RFC7515_A2_TOKEN, ec_pub(), now=RFC7515_EXP - 1)


def test_expected_alg_with_key_of_other_type_is_bad_key():
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        crypto.jwt_decode(RFC7515_A2_TOKEN, ec_pub(), alg="RS256", now=RFC7515_EXP - 1)


def test_tampered_signature():
    at = len(RFC7515_A3_TOKEN) - 86
    assert RFC7515_A3_TOKEN[at] == "D"
    t = RFC7515_A3_TOKEN[:at] + "C" + RFC7515_A3_TOKEN[at + 1:]
    with raises(VerificationError, "IOTKIT_ERR_BAD_SIGNATURE"):
        crypto.jwt_decode(t, ec_pub(), now=RFC7515_EXP - 1)


def test_tampered_payload():
    at = len("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJq")
    t = RFC7515_A3_TOKEN[:at] + "c" + RFC7515_A3_TOKEN[at + 1:]
    with raises(VerificationError, "IOTKIT_ERR_BAD_SIGNATURE"):
        crypto.jwt_decode(t, ec_pub(), now=RFC7515_EXP - 1)


def test_signature_by_another_key():
    other = crypto.PrivateKey.generate(crypto.KeyType.P256)
    t = crypto.jws_sign(b'{"iss":"joe","exp":1300819380}', other)
    with raises(VerificationError, "IOTKIT_ERR_BAD_SIGNATURE"):
        crypto.jwt_decode(t, ec_pub(), now=RFC7515_EXP - 1)


def test_signature_stripped():
    t = RFC7515_A3_TOKEN[:RFC7515_A3_TOKEN.rindex(".") + 1]
    with raises(VerificationError, "IOTKIT_ERR_BAD_SIGNATURE"):
        crypto.jwt_decode(t, ec_pub(), now=RFC7515_EXP - 1)


def test_audience_missing_and_mismatch():
    with raises(VerificationError, "IOTKIT_ERR_JWT_AUDIENCE"):
        crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub(), now=RFC7515_EXP - 1, audience="broker")
    k = ed_pair()
    tok = crypto.jwt_encode({"aud": ["x", "broker"], "exp": 2000}, k)
    assert crypto.jwt_decode(tok, k, now=1000, audience="broker")["aud"] == ["x", "broker"]
    with raises(VerificationError, "IOTKIT_ERR_JWT_AUDIENCE"):
        crypto.jwt_decode(tok, k, now=1000, audience="other")


@pytest.mark.parametrize("payload,code", [
    ('{"exp":"5000"}', "IOTKIT_ERR_JWT_CLAIM"),
    ('{"exp":5000,"nbf":true}', "IOTKIT_ERR_JWT_CLAIM"),
])
def test_claims_of_the_wrong_type(payload, code):
    k = ed_pair()
    with raises(VerificationError, code):
        crypto.jwt_decode(crypto.jws_sign(payload, k, typ="JWT"), k, now=1000)


@pytest.mark.parametrize("payload", ["[1,2]", '{"exp":1,"exp":5000}', '{"exp":5000}x'])
def test_payload_not_a_single_json_object_is_malformed(payload):
    k = ed_pair()
    with raises(InvalidArgumentError, "IOTKIT_ERR_JWT_MALFORMED"):
        crypto.jwt_decode(crypto.jws_sign(payload, k, typ="JWT"), k, now=1000)


def test_rfc8037_plain_payload_is_not_a_jwt():
    with raises(InvalidArgumentError, "IOTKIT_ERR_JWT_MALFORMED"):
        crypto.jwt_decode(RFC8037_A4_TOKEN, ed_pair(), now=1000)


@pytest.mark.parametrize("token", ["eyJhbGciOiJFUzI1NiJ9.e30", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA.AAAA", ".e30.AAAA",
                                   "eyJhbGciOiJFUzI1NiJ9=.e30.AAAA", craft("not json", "{}", "AAAA"),
                                   craft('{"typ":"JWT"}', "{}", "AAAA")])
def test_malformed_tokens(token):
    with raises(InvalidArgumentError, "IOTKIT_ERR_JWT_MALFORMED"):
        crypto.jwt_decode(token, ec_pub(), now=RFC7515_EXP - 1)


def test_crit_header_is_unsupported():
    with raises(UnsupportedError, "IOTKIT_ERR_UNSUPPORTED"):
        crypto.jws_verify(craft('{"alg":"ES256","crit":["exp"]}', "{}", "AAAA"), ec_pub())


def test_too_long_token():
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        crypto.jwt_decode("a" * (crypto.JWT_MAX_LEN + 1), ec_pub(), now=1000)


@pytest.mark.parametrize("now", [0, 1300819000 * 1000])
def test_now_zero_or_in_milliseconds_is_invalid(now):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub(), now=now)


def test_leeway_too_large_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.jwt_decode(RFC7515_A3_TOKEN, ec_pub(), now=RFC7515_EXP - 1, leeway=601)


def test_sign_with_public_key_is_bad_key():
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        crypto.jwt_encode({"exp": 1}, ec_pub())  # type: ignore[arg-type]


def test_sign_with_key_of_other_type_is_bad_key():
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        crypto.jwt_encode({"exp": 1}, ed_pair(), alg="ES256")


def test_claim_integer_beyond_2_53_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.jwt_encode({"exp": (1 << 53) + 1}, ed_pair())


def test_claim_nan_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.jwt_encode({"x": float("nan")}, ed_pair())


def test_claim_of_unknown_type_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.jwt_encode({"x": object()}, ed_pair())


def test_unknown_alg_name_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.jwt_encode({"exp": 1}, ed_pair(), alg="none")


# ------------------------------------------------------------- provider --

def test_provider_mints_and_caches_a_token():
    k = crypto.PrivateKey.generate()
    with crypto.JwtProvider(k, "dev-1", audience="broker", kid="k1", lifetime=600) as p:
        t1 = p.token()
        assert p.token() == t1
        now = int(time.time())
        assert now + 590 <= p.expires_at <= now + 610
        claims = crypto.jwt_decode(t1, k.public_key(), audience="broker")
        assert claims["iss"] == claims["sub"] == "dev-1"
        assert claims["exp"] - claims["iat"] == 600
        assert b'"kid":"k1"' in crypto.b64url_decode(t1.split(".")[0])
        p.invalidate()
        assert crypto.jwt_decode(p.token(), k.public_key(), audience="broker")["sub"] == "dev-1"


def test_provider_rsa_token_is_large():
    k = crypto.PrivateKey.load(RFC7515_RSA_PRIV_PEM)
    p = crypto.JwtProvider(k, "dev-rsa")
    assert crypto.jwt_decode(p.token(), k.public_key())["sub"] == "dev-rsa"


@pytest.mark.parametrize("kwargs", [{"device_id": "bad id"}, {"device_id": ""}, {"lifetime": 59},
                                    {"lifetime": 86401}, {"lifetime": 600, "refresh_margin": 600}])
def test_provider_bad_config_is_invalid(kwargs):
    args = {"device_id": "dev-1", **kwargs}
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.JwtProvider(ed_pair(), **args)


def test_provider_with_public_key_is_bad_key():
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        crypto.JwtProvider(ec_pub(), "dev-1")  # type: ignore[arg-type]


def test_provider_closed_is_state_error():
    p = crypto.JwtProvider(ed_pair(), "dev-1")
    p.close()
    with raises(StateError, "IOTKIT_ERR_STATE"):
        p.token()
