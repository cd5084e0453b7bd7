"""iotkit.crypto: hashing, HMAC, HKDF, base64, random, keys and signatures,
AES-256-GCM. Known answers are those of the C tests (tests/unit/test_crypto_*.c)."""
from __future__ import annotations

import os

import pytest

import iotkit
from iotkit import crypto
from iotkit.errors import (InvalidArgumentError, IotkitError, StateError, UnsupportedError,
                           VerificationError)
from test_crypto_vectors import (ENCRYPTED_PEM, P384_PUB_PEM, RFC7515_EC_D_HEX, RFC7515_EC_PRIV_PEM,
                                 RFC7515_EC_PUB_HEX, RFC7515_EC_PUB_PEM, RFC7515_RSA_PRIV_PEM,
                                 RFC7515_RSA_PUB_PEM, RSA1024_PUB_PEM)


def raises(cls, name):
    """pytest.raises for an iotkit exception class and its exact C code name."""
    class _Check:
        def __enter__(self):
            self.cm = pytest.raises(cls)
            self.info = self.cm.__enter__()
            return self.info

        def __exit__(self, *exc):
            r = self.cm.__exit__(*exc)
            assert self.info.value.name == name, self.info.value.name
            assert self.info.value.code == getattr(iotkit._native.lib, name)
            return r
    return _Check()


# ------------------------------------------------------------ SHA-256 --

@pytest.mark.parametrize("msg,want", [
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
])
def test_sha256_nist(msg, want):
    assert crypto.sha256(msg).hex() == want


def test_sha256_str_is_utf8():
    assert crypto.sha256("abc") == crypto.sha256(b"abc")


def test_sha256_streaming_million_a():
    h = crypto.Sha256()
    block = b"a" * 1000
    for _ in range(1000):
        h.update(block)
    assert h.finalize().hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"


def test_sha256_finalize_resets():
    h = crypto.Sha256(b"a").update(b"").update(memoryview(b"bc"))
    assert h.finalize() == crypto.sha256(b"abc")
    assert h.finalize() == crypto.sha256(b"")


def test_sha256_rejects_non_bytes():
    with pytest.raises(TypeError):
        crypto.sha256(42)  # type: ignore[arg-type]


# --------------------------------------------------------- HMAC, HKDF --

def test_hmac_rfc4231_case1():
    assert crypto.hmac_sha256(b"\x0b" * 20, b"Hi There").hex() == \
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"


def test_hmac_rfc4231_case2():
    assert crypto.hmac_sha256(b"Jefe", b"what do ya want for nothing?").hex() == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_hmac_rfc4231_case6_key_larger_than_block():
    assert crypto.hmac_sha256(b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First").hex() == \
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"


def test_hkdf_rfc5869_case1():
    okm = crypto.hkdf_sha256(bytes.fromhex("0b" * 22), 42, salt=bytes.fromhex("000102030405060708090a0b0c"),
                             info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"))
    assert okm.hex() == "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"


def test_hkdf_rfc5869_case3_no_salt_no_info():
    okm = crypto.hkdf_sha256(bytes.fromhex("0b" * 22), 42)
    assert okm.hex() == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"


@pytest.mark.parametrize("length", [0, 255 * 32 + 1])
def test_hkdf_bad_length(length):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.hkdf_sha256(b"k", length)


# ------------------------------------------------------ base64, equal --

RFC4648 = [(b"", ""), (b"f", "Zg=="), (b"fo", "Zm8="), (b"foo", "Zm9v"), (b"foob", "Zm9vYg=="),
           (b"fooba", "Zm9vYmE="), (b"foobar", "Zm9vYmFy")]


@pytest.mark.parametrize("data,text", RFC4648)
def test_base64_rfc4648(data, text):
    assert crypto.b64encode(data) == text
    assert crypto.b64decode(text) == data
    assert crypto.b64url_encode(data) == text.rstrip("=")
    assert crypto.b64url_decode(text.rstrip("=")) == data


def test_base64url_alphabet():
    assert crypto.b64encode(b"\xfb\xff\xbf") == "+/+/"
    assert crypto.b64url_encode(b"\xfb\xff\xbf") == "-_-_"


@pytest.mark.parametrize("text", ["Zg", "Zm9vY", "Zm9v!mFy", "Zm9-", "Zm9v YmFy", "Zg==Zm8=", "Zh==", "é"])
def test_base64_strict_decoding(text):
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
        crypto.b64decode(text)


@pytest.mark.parametrize("text", ["Zg==", "Zm9vY", "Zm9+", "Zh"])
def test_base64url_strict_decoding(text):
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
        crypto.b64url_decode(text)


def test_constant_time_equal():
    assert crypto.constant_time_equal(b"abc", b"abc")
    assert crypto.constant_time_equal(b"", b"")
    assert not crypto.constant_time_equal(b"abc", b"abd")
    assert not crypto.constant_time_equal(b"abc", b"ab")


def test_random_bytes():
    a, b = crypto.random_bytes(32), crypto.random_bytes(32)
    assert len(a) == 32 and a != b
    assert crypto.random_bytes(0) == b""
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.random_bytes(-1)


# --------------------------------------------------------------- keys --

def test_load_pem_keys_of_every_type():
    for pem, kind, private in [(RFC7515_RSA_PRIV_PEM, crypto.KeyType.RSA, True),
                               (RFC7515_RSA_PUB_PEM, crypto.KeyType.RSA, False),
                               (RFC7515_EC_PRIV_PEM, crypto.KeyType.P256, True),
                               (RFC7515_EC_PUB_PEM, crypto.KeyType.P256, False)]:
        k = crypto.load_key(pem)
        assert k.type is kind
        assert k.has_private is private
        assert isinstance(k, crypto.PrivateKey if private else crypto.PublicKey)


def test_public_pem_round_trips_exactly():
    assert crypto.load_key(RFC7515_EC_PRIV_PEM).public_pem() == RFC7515_EC_PUB_PEM
    assert crypto.load_key(RFC7515_RSA_PUB_PEM).public_pem() == RFC7515_RSA_PUB_PEM


def test_private_pem_round_trips():
    k = crypto.PrivateKey.load(RFC7515_EC_PRIV_PEM.encode())
    again = crypto.PrivateKey.load(k.private_pem())
    assert again == k
    assert k.private_pem().startswith("-----BEGIN PRIVATE KEY-----\n")


def test_rsa_private_pem_needs_a_larger_buffer():
    k = crypto.PrivateKey.load(RFC7515_RSA_PRIV_PEM)
    pem = k.private_pem()
    assert len(pem) > 512
    assert crypto.PrivateKey.load(pem).public_pem() == RFC7515_RSA_PUB_PEM


def test_p256_from_raw_matches_the_pem():
    pub = crypto.PublicKey.from_raw(crypto.KeyType.P256, bytes.fromhex(RFC7515_EC_PUB_HEX))
    assert pub.public_pem() == RFC7515_EC_PUB_PEM
    pair = crypto.PrivateKey.from_raw(crypto.KeyType.P256, bytes.fromhex(RFC7515_EC_D_HEX),
                                      bytes.fromhex(RFC7515_EC_PUB_HEX))
    assert pair == crypto.PrivateKey.load(RFC7515_EC_PRIV_PEM)


def test_public_key_of_a_private_key():
    k = crypto.PrivateKey.load(RFC7515_EC_PRIV_PEM)
    pub = k.public_key()
    assert isinstance(pub, crypto.PublicKey) and not pub.has_private
    assert pub == crypto.PublicKey.load(RFC7515_EC_PUB_PEM)
    assert crypto.PublicKey.load(RFC7515_EC_PRIV_PEM) == pub
    assert pub.public_key() is pub


@pytest.mark.parametrize("kind", [crypto.KeyType.ED25519, crypto.KeyType.P256])
def test_generate_sign_verify(kind):
    k = crypto.PrivateKey.generate(kind)
    assert k.type is kind and k.signature_size == 64
    sig = k.sign(b"message")
    assert len(sig) == 64
    k.public_key().verify(sig, b"message")
    k.verify(sig, b"message")
    assert crypto.PrivateKey.generate(kind) != k


def test_generate_rsa_is_unsupported():
    with raises(UnsupportedError, "IOTKIT_ERR_UNSUPPORTED"):
        crypto.PrivateKey.generate(crypto.KeyType.RSA)


def test_save_and_load_files(tmp_path):
    k = crypto.PrivateKey.generate()
    k.save(tmp_path / "key.pem")
    k.save_public(tmp_path / "pub.pem")
    assert os.stat(tmp_path / "key.pem").st_mode & 0o777 == 0o600
    assert crypto.PrivateKey.load_file(tmp_path / "key.pem") == k
    assert crypto.load_key_file(str(tmp_path / "pub.pem")) == k.public_key()
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        crypto.PrivateKey.load_file(tmp_path / "pub.pem")


def test_load_missing_file_is_io_error(tmp_path):
    with raises(IotkitError, "IOTKIT_ERR_IO"):
        crypto.load_key_file(tmp_path / "absent.pem")


@pytest.mark.parametrize("data", ["not a key at all", RFC7515_EC_PUB_PEM[:60], ENCRYPTED_PEM, b"\x30\x03\x02\x01"])
def test_malformed_key_is_bad_encoding(data):
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
        crypto.load_key(data)


@pytest.mark.parametrize("pem", [P384_PUB_PEM, RSA1024_PUB_PEM])
def test_unsupported_curve_or_size_is_bad_key(pem):
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        crypto.load_key(pem)


def test_key_too_large():
    with raises(IotkitError, "IOTKIT_ERR_TOO_LARGE"):
        crypto.load_key(b"-" * (64 * 1024 + 1))


def test_private_load_of_a_public_key_is_bad_key():
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        crypto.PrivateKey.load(RFC7515_EC_PUB_PEM)


def test_from_raw_mismatched_parts_is_bad_key():
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    other_pub = bytes.fromhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c")
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        crypto.PrivateKey.from_raw(crypto.KeyType.ED25519, seed, other_pub)


def test_from_raw_wrong_length_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.PublicKey.from_raw(crypto.KeyType.ED25519, b"\x01" * 31)


def test_closed_key_is_state_error():
    k = crypto.PrivateKey.generate()
    with k:
        pass
    with raises(StateError, "IOTKIT_ERR_STATE"):
        k.sign(b"x")
    assert "closed" in repr(k)


# --------------------------------------------------------- signatures --

@pytest.mark.parametrize("seed,pub,msg,sig", [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5"
     "f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2e"
     "aeb4302aeeb00d291612bb0c00"),
])
def test_ed25519_rfc8032(seed, pub, msg, sig):
    k = crypto.PrivateKey.from_raw(crypto.KeyType.ED25519, bytes.fromhex(seed), bytes.fromhex(pub))
    assert k.sign(bytes.fromhex(msg)).hex() == sig
    crypto.PublicKey.from_raw(crypto.KeyType.ED25519, bytes.fromhex(pub)).verify(bytes.fromhex(sig),
                                                                                 bytes.fromhex(msg))


RFC7515_A2_INPUT = ("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvb"
                    "S9pc19yb290Ijp0cnVlfQ")
RFC7515_A2_SIG = ("cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGb"
                  "ds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0"
                  "GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6L"
                  "bgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw")


def test_rsa_pkcs1_rfc7515_a2_is_exact():
    k = crypto.PrivateKey.load(RFC7515_RSA_PRIV_PEM)
    assert k.signature_size == 256
    sig = k.sign(RFC7515_A2_INPUT, crypto.SigAlg.RSA_PKCS1_SHA256)
    assert crypto.b64url_encode(sig) == RFC7515_A2_SIG
    crypto.PublicKey.load(RFC7515_RSA_PUB_PEM).verify(sig, RFC7515_A2_INPUT, "rsa_pkcs1_sha256")


def test_ecdsa_rfc7515_a3_verifies():
    sig = crypto.b64url_decode("DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")
    inp = RFC7515_A2_INPUT.replace("eyJhbGciOiJSUzI1NiJ9", "eyJhbGciOiJFUzI1NiJ9")
    crypto.PublicKey.load(RFC7515_EC_PUB_PEM).verify(sig, inp)


def test_rsa_pss_round_trip_and_default():
    k = crypto.PrivateKey.load(RFC7515_RSA_PRIV_PEM)
    sig = k.sign(b"m")  # RSA defaults to PSS
    k.public_key().verify(sig, b"m", crypto.SigAlg.RSA_PSS_SHA256)
    with raises(VerificationError, "IOTKIT_ERR_BAD_SIGNATURE"):
        k.public_key().verify(sig, b"m", crypto.SigAlg.RSA_PKCS1_SHA256)


def test_tampered_signature_is_bad_signature():
    k = crypto.PrivateKey.generate()
    sig = bytearray(k.sign(b"message"))
    sig[0] ^= 1
    with raises(VerificationError, "IOTKIT_ERR_BAD_SIGNATURE"):
        k.public_key().verify(bytes(sig), b"message")


def test_altered_message_is_bad_signature():
    k = crypto.PrivateKey.generate(crypto.KeyType.P256)
    sig = k.sign(b"msg")
    with raises(VerificationError, "IOTKIT_ERR_BAD_SIGNATURE"):
        k.verify(sig, b"msh")


def test_signature_of_wrong_length_is_bad_signature():
    k = crypto.PrivateKey.generate(crypto.KeyType.P256)
    with raises(VerificationError, "IOTKIT_ERR_BAD_SIGNATURE"):
        k.verify(k.sign(b"m")[:63], b"m")


def test_wrong_key_type_is_bad_key():
    ed = crypto.PrivateKey.generate(crypto.KeyType.ED25519)
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY") as e:
        ed.sign(b"m", crypto.SigAlg.ECDSA_P256_SHA256)
    assert "needs a P256 key" in str(e.value)
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_KEY"):
        ed.verify(b"\0" * 64, b"m", crypto.SigAlg.ECDSA_P256_SHA256)


def test_unknown_algorithm_name_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.PrivateKey.generate().sign(b"m", "md5")


# --------------------------------------------------------- AES-256-GCM --

TC15_KEY = bytes.fromhex("feffe9928665731c6d6a8f9467308308" * 2)
TC15_IV = bytes.fromhex("cafebabefacedbaddecaf888")
TC15_PT = bytes.fromhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
TC15_CT = bytes.fromhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662")
TC16_AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")

GCM = [  # McGrew-Viega test cases 13-16
    (bytes(32), bytes(12), b"", b"", b"", "530f8afbc74536b9a963b4f1c4cb738b"),
    (bytes(32), bytes(12), bytes(16), b"", bytes.fromhex("cea7403d4d606b6e074ec5d3baf39d18"),
     "d0d1c8a799996bf0265b98b5d48ab919"),
    (TC15_KEY, TC15_IV, TC15_PT + bytes.fromhex("1aafd255"), b"", TC15_CT + bytes.fromhex("898015ad"),
     "b094dac5d93471bdec1a502270e3cc6c"),
    (TC15_KEY, TC15_IV, TC15_PT, TC16_AAD, TC15_CT, "76fc6ece0f4e1768cddf8853bb2d551b"),
]


@pytest.mark.parametrize("key,iv,pt,aad,ct,tag", GCM)
def test_gcm_spec_vectors(key, iv, pt, aad, ct, tag):
    got_ct, got_tag = crypto.aes256gcm_seal(key, iv, pt, aad)
    assert got_ct == ct and got_tag.hex() == tag
    assert crypto.aes256gcm_open(key, iv, ct, bytes.fromhex(tag), aad) == pt
    with crypto.AesGcm(key) as a:
        assert a.encrypt(iv, pt, aad) == ct + bytes.fromhex(tag)
        assert a.decrypt(iv, ct + bytes.fromhex(tag), aad) == pt


def test_gcm_altered_tag_is_crypto_auth():
    key, iv, pt, aad, ct, tag = GCM[3]
    bad = bytearray.fromhex(tag)
    bad[15] ^= 0x80
    with raises(VerificationError, "IOTKIT_ERR_CRYPTO_AUTH"):
        crypto.aes256gcm_open(key, iv, ct, bytes(bad), aad)


@pytest.mark.parametrize("what", ["ciphertext", "aad", "nonce"])
def test_gcm_altered_input_is_crypto_auth(what):
    key, iv, pt, aad, ct, tag = GCM[3]
    args = {"ciphertext": bytearray(ct), "aad": bytearray(aad), "nonce": bytearray(iv)}
    args[what][0] ^= 1
    with raises(VerificationError, "IOTKIT_ERR_CRYPTO_AUTH"):
        crypto.aes256gcm_open(key, bytes(args["nonce"]), bytes(args["ciphertext"]), bytes.fromhex(tag),
                              bytes(args["aad"]))


def test_aesgcm_seal_open_with_random_nonce():
    a = crypto.AesGcm(crypto.AesGcm.generate_key())
    s1, s2 = a.seal(b"payload", b"ad"), a.seal(b"payload", b"ad")
    assert s1[:12] != s2[:12] and len(s1) == 12 + 7 + 16
    assert a.open(s1, b"ad") == b"payload"
    with raises(VerificationError, "IOTKIT_ERR_CRYPTO_AUTH"):
        a.open(s1, b"other")
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        a.open(s1[:27])


def test_aesgcm_close_wipes_the_key():
    a = crypto.AesGcm(TC15_KEY)
    buf = a._key
    a.close()
    assert bytes(iotkit._native.ffi.buffer(buf)) == bytes(32)
    with raises(StateError, "IOTKIT_ERR_STATE"):
        a.seal(b"x")


@pytest.mark.parametrize("key,nonce", [(bytes(31), bytes(12)), (bytes(32), bytes(11))])
def test_gcm_bad_sizes_are_invalid(key, nonce):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.aes256gcm_seal(key, nonce, b"x")


def test_gcm_short_tag_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.aes256gcm_open(bytes(32), bytes(12), b"", bytes(15))
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.AesGcm(bytes(32)).decrypt(bytes(12), bytes(15))


def test_gcm_nonces_are_random():
    assert crypto.AesGcm.nonce() != crypto.AesGcm.nonce()
    assert len(crypto.AesGcm.nonce()) == 12
