"""iotkit.crypto.Envelope: the exact example of docs/protocol.md ("Payload
envelope", checked by tests/unit/test_crypto_envelope_doc.c), round trips,
nonce counters that survive a restart, and every refusal with its code."""
from __future__ import annotations

import pytest

from iotkit import _hals, crypto
from iotkit.errors import InvalidArgumentError, StateError, UnsupportedError, VerificationError
from test_crypto import raises

KEY = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")  # GCM test case 15
DOC_PAYLOAD = b'{"seq":1,"ts":1764081600000,"temperature":21.53,"humidity":40.2}'
DOC_ENVELOPE = bytes.fromhex(
    "e1026b310000000000000000000001f4"
    "0f4bf025a1ea7f5e3004de08ca0406385883136e938a43f96cb7338f9c1818e4"
    "6cd42a12cc927c53460595264a8e087073f86787af094f00a00ef8e6a17baef4"
    "f5430221e6c3037dbc59ddb716861bdd")
PAYLOAD = b'{"temperature":21.5}'


def test_doc_example_opens_to_its_payload():
    env = crypto.Envelope(KEY, "k1", "sensor-42")  # open-only: no HAL
    assert env.open("telemetry", DOC_ENVELOPE) == DOC_PAYLOAD
    assert crypto.Envelope.peek_key_id(DOC_ENVELOPE) == "k1"


def test_doc_example_seals_to_its_exact_bytes():
    hal = _hals.MemoryHal()
    hal.kv_set("iotkit.envelope.k1", (500).to_bytes(8, "big"))
    env = crypto.Envelope(KEY, "k1", "sensor-42", hal=hal)
    assert env.seal("telemetry", DOC_PAYLOAD) == DOC_ENVELOPE
    assert hal.kv_get("iotkit.envelope.k1") == (1524).to_bytes(8, "big")


def test_doc_example_is_plain_gcm_with_the_documented_aad():
    aad = bytes.fromhex("e1026b310000000000000000000001f4" "000973656e736f722d3432" "000974656c656d65747279")
    nonce, body = DOC_ENVELOPE[4:16], DOC_ENVELOPE[16:]
    assert crypto.AesGcm(KEY).decrypt(nonce, body, aad) == DOC_PAYLOAD


@pytest.fixture
def sealer(tmp_path):
    return crypto.Envelope(KEY, "k1", "dev-a", state_dir=str(tmp_path / "state"))


def test_seal_open_round_trip_and_layout(sealer):
    e = sealer.seal("telemetry", PAYLOAD)
    assert len(e) == len(PAYLOAD) + crypto.envelope_overhead("k1") == len(PAYLOAD) + 32
    assert e[0] == crypto.ENVELOPE_V1 and e[1] == 2 and e[2:4] == b"k1"
    assert e[4:8] == bytes(4)  # sender 0
    assert sealer.open("telemetry", e) == PAYLOAD
    assert crypto.Envelope(KEY, "k1", "dev-a").open("telemetry", e) == PAYLOAD


def test_nonces_never_repeat_across_restarts(tmp_path):
    state = str(tmp_path / "state")
    with crypto.Envelope(KEY, "k1", "dev-a", state_dir=state, nonce_block=4) as a:
        first = [a.seal("telemetry", b"x")[8:16] for _ in range(3)]
    b = crypto.Envelope(KEY, "k1", "dev-a", state_dir=state, nonce_block=4)
    later = b.seal("telemetry", b"x")[8:16]
    counters = [int.from_bytes(n, "big") for n in first + [later]]
    assert counters == sorted(set(counters)) and counters[-1] >= 4


def test_empty_payload_round_trips(sealer):
    e = sealer.seal("telemetry", b"")
    assert sealer.open("telemetry", e) == b""


def test_fleet_side_seals_with_sender_1():
    fleet = crypto.Envelope(KEY, "k1", "dev-a", hal=_hals.MemoryHal(), sender=1)
    e = fleet.seal("commands/request", b'{"name":"reboot"}')
    assert e[4:8] == (1).to_bytes(4, "big")
    assert crypto.Envelope(KEY, "k1", "dev-a").open("commands/request", e) == b'{"name":"reboot"}'


@pytest.mark.parametrize("at", [0 + 16, 16 + 5, -1, -16, 4, 15])
def test_any_flipped_byte_is_crypto_auth(sealer, at):
    e = bytearray(sealer.seal("telemetry", PAYLOAD))
    e[at] ^= 0x01
    with raises(VerificationError, "IOTKIT_ERR_CRYPTO_AUTH"):
        sealer.open("telemetry", bytes(e))


def test_edited_key_id_is_crypto_auth(sealer):
    e = bytearray(sealer.seal("telemetry", PAYLOAD))
    e[3:4] = b"2"
    other = crypto.Envelope(KEY, "k2", "dev-a")
    with raises(VerificationError, "IOTKIT_ERR_CRYPTO_AUTH"):
        other.open("telemetry", bytes(e))


def test_truncated_tag_is_crypto_auth(sealer):
    e = sealer.seal("telemetry", PAYLOAD)
    with raises(VerificationError, "IOTKIT_ERR_CRYPTO_AUTH"):
        sealer.open("telemetry", e[:-1])


def test_other_channel_device_or_key_is_crypto_auth(sealer):
    e = sealer.seal("telemetry", PAYLOAD)
    with raises(VerificationError, "IOTKIT_ERR_CRYPTO_AUTH"):
        sealer.open("state/reported", e)
    with raises(VerificationError, "IOTKIT_ERR_CRYPTO_AUTH"):
        crypto.Envelope(KEY, "k1", "dev-b").open("telemetry", e)
    with raises(VerificationError, "IOTKIT_ERR_CRYPTO_AUTH"):
        crypto.Envelope(bytes(32), "k1", "dev-a").open("telemetry", e)


def test_truncated_envelope_is_bad_encoding(sealer):
    e = sealer.seal("telemetry", PAYLOAD)
    for cut in (crypto.envelope_overhead("k1") - 1, 3, 0):
        with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
            sealer.open("telemetry", e[:cut])


@pytest.mark.parametrize("at,value", [(0, 0xE2), (1, 0), (1, 33)])
def test_bad_header_is_bad_encoding(sealer, at, value):
    e = bytearray(sealer.seal("telemetry", PAYLOAD))
    e[at] = value
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
        sealer.open("telemetry", bytes(e))
    if at == 0:
        with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
            crypto.Envelope.peek_key_id(bytes(e))


def test_open_only_handle_cannot_seal():
    with raises(UnsupportedError, "IOTKIT_ERR_UNSUPPORTED"):
        crypto.Envelope(KEY, "k1", "dev-a").seal("telemetry", b"x")


def test_system_hal_without_kv_store_cannot_seal():
    with raises(UnsupportedError, "IOTKIT_ERR_UNSUPPORTED"):
        crypto.Envelope(KEY, "k1", "dev-a", hal=_hals.system_hal()).seal("telemetry", b"x")


@pytest.mark.parametrize("channel", ["", "c" * 256])
def test_bad_channel_is_invalid(sealer, channel):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        sealer.seal(channel, b"x")


@pytest.mark.parametrize("kwargs", [{"key": bytes(31)}, {"key_id": ""}, {"key_id": "k" * 33}, {"key_id": "a b"},
                                    {"device_id": "bad/id"}, {"nonce_block": (1 << 20) + 1}])
def test_bad_config_is_invalid(kwargs):
    args = {"key": KEY, "key_id": "k1", "device_id": "dev-a", **kwargs}
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.Envelope(args.pop("key"), args.pop("key_id"), args.pop("device_id"), **args)


def test_key_id_of_32_bytes_is_accepted():
    kid = "k" * 32
    env = crypto.Envelope(KEY, kid, "dev-a", hal=_hals.MemoryHal())
    assert crypto.Envelope.peek_key_id(env.seal("telemetry", b"x")) == kid


def test_state_dir_and_hal_together_are_invalid(tmp_path):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        crypto.Envelope(KEY, "k1", "dev-a", state_dir=str(tmp_path), hal=_hals.MemoryHal())


def test_hal_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError):
        crypto.Envelope(KEY, "k1", "dev-a", hal=object())


def test_hal_from_an_object_with_hal_attribute():
    class Holder:
        _hal = _hals.MemoryHal()
    env = crypto.Envelope(KEY, "k1", "dev-a", hal=Holder())
    assert env.open("telemetry", env.seal("telemetry", b"x")) == b"x"


def test_closed_envelope_is_state_error(sealer):
    sealer.close()
    with raises(StateError, "IOTKIT_ERR_STATE"):
        sealer.seal("telemetry", b"x")
