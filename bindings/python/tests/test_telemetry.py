"""iotkit.telemetry: the exact encodings of docs/protocol.md (checked in C by
tests/unit/test_telemetry_codec.c), RFC 8428's examples, round trips of every
value type, and every refused point or input with its code."""
from __future__ import annotations

import datetime
import math

import pytest

from iotkit import telemetry
from iotkit.errors import InvalidArgumentError, NotFoundError, StateError, TooLargeError, UnsupportedError
from iotkit.telemetry import Batch, Format, Point
from test_crypto import raises

DOC_JSON = (b'{"ver":1,"seq":42,"points":['
            b'{"n":"temperature","u":"Cel","ts":1767225600000,"d":21.5,"tags":{"room":"lab"}},'
            b'{"n":"count","ts":1767225600500,"i":17},'
            b'{"n":"door","ts":1767225600500,"b":true},'
            b'{"n":"mode","ts":1767225601000,"s":"eco"}]}')
DOC_SENML_JSON = (b'[{"bt":1767225600,"seq":42,"n":"temperature","u":"Cel","v":21.5,"tags":{"room":"lab"}},'
                  b'{"n":"count","t":0.5,"v":17},{"n":"door","t":0.5,"vb":true},{"n":"mode","t":1,"vs":"eco"}]')
DOC_SENML_CBOR = bytes.fromhex(
    "84 a6 22 fb 41 da 55 6e 40 00 00 00 63 73 65 71 18 2a 00 6b 74 65 6d 70 65 72 61 74"
    "75 72 65 01 63 43 65 6c 02 fa 41 ac 00 00 64 74 61 67 73 a1 64 72 6f 6f 6d 63 6c 61"
    "62 a3 00 65 63 6f 75 6e 74 06 fa 3f 00 00 00 02 11 a3 00 64 64 6f 6f 72 06 fa 3f 00"
    "00 00 04 f5 a3 00 64 6d 6f 64 65 06 fa 3f 80 00 00 03 63 65 63 6f")
DOC_POINTS = [Point("temperature", 21.5, "Cel", 1767225600000, {"room": "lab"}),
              Point("count", 17, None, 1767225600500), Point("door", True, None, 1767225600500),
              Point("mode", "eco", None, 1767225601000)]


def doc_batch() -> Batch:
    b = Batch(seq=42)
    b.add("temperature", 21.5, unit="Cel", ts_ms=1767225600000).tag("room", "lab")
    b.add("count", 17, ts_ms=1767225600500).add("door", True, ts_ms=1767225600500)
    return b.add("mode", "eco", ts_ms=1767225601000)


# ------------------------------------------------------- known answers --

def test_json_documented_example():
    assert doc_batch().encode() == DOC_JSON
    assert doc_batch().encode("json") == DOC_JSON


def test_senml_json_documented_example():
    assert doc_batch().encode(Format.SENML_JSON) == DOC_SENML_JSON


def test_senml_cbor_documented_example():
    assert len(DOC_SENML_CBOR) == 106
    assert doc_batch().encode("senml-cbor") == DOC_SENML_CBOR


def test_the_same_batch_from_points_with_tags():
    assert telemetry.encode(DOC_POINTS, "senml-cbor", seq=42) == DOC_SENML_CBOR
    assert Batch([{"name": "x", "value": 1, "ts_ms": 5}]).points() == [Point("x", 1, None, 5)]
    assert Batch([{"n": "x", "v": 1.5, "u": "V", "ts": 5, "tags": {"k": "v"}}]).points() == \
        [Point("x", 1.5, "V", 5, {"k": "v"})]
    with pytest.raises(TypeError):
        Batch([{"n": "x", "value": 1, "d": 2}])
    with pytest.raises(TypeError):
        Batch([("x", 1)])  # type: ignore[list-item]


@pytest.mark.parametrize("fmt,data", [(Format.JSON, DOC_JSON), (Format.SENML_CBOR, DOC_SENML_CBOR)])
def test_documented_examples_decode_to_the_points(fmt, data):
    b = Batch.decode(data, fmt)
    assert b.points() == DOC_POINTS and b.seq == 42


def test_senml_json_numbers_decode_as_doubles():
    pts = telemetry.decode(DOC_SENML_JSON, "senml-json")
    assert pts[1] == Point("count", 17.0, None, 1767225600500) and isinstance(pts[1].value, float)


def test_rfc8428_5_1_2_base_name_unit_and_relative_times():
    text = ('[{"bn":"urn:dev:ow:10e2073a0108006:","bt":1.276020076001e+09,"bu":"A","bver":5,'
            '"n":"voltage","u":"V","v":120.1},{"n":"current","t":-5,"v":1.2},{"n":"current","t":-4,"v":1.3},'
            '{"n":"current","t":-3,"v":1.4},{"n":"current","t":-2,"v":1.5},{"n":"current","t":-1,"v":1.6},'
            '{"n":"current","v":1.7}]')
    pts = telemetry.decode(text, Format.SENML_JSON)
    assert pts[0] == Point("urn:dev:ow:10e2073a0108006:voltage", 120.1, "V", 1276020076001)
    assert [(p.unit, p.ts_ms, p.value) for p in pts[1:]] == \
        [("A", 1276020076001 - (5 - i) * 1000, v) for i, v in enumerate([1.2, 1.3, 1.4, 1.5, 1.6, 1.7])]


def test_rfc8428_5_1_1_single_point_has_no_time():
    (p,) = telemetry.decode('[{"n":"urn:dev:ow:10e2073a01080063","u":"Cel","v":23.1}]', "senml-json")
    assert p == Point("urn:dev:ow:10e2073a01080063", 23.1, "Cel", 0) and p.time is None


def test_rfc8428_data_value_is_unsupported():
    with raises(UnsupportedError, "IOTKIT_ERR_UNSUPPORTED"):
        telemetry.decode('[{"n":"nfv-reader","vd":"aGkgCg"}]', "senml-json")


# ----------------------------------------------------------- round trips --

RICH = [Point("d", v, "Cel", 1767225600123 + i) for i, v in
        enumerate([0.0, -0.0, 0.1, 21.53, -1e300, 5e-324, 1.5, 3.4028234663852886e38, 16777217.0])] + \
       [Point("i", v, None, 1767225540123) for v in [0, 1, -1, 23, -24, 255, 65536, 2**63 - 1, -2**63, 2**53 + 1]] + \
       [Point("door/open", True, None, 1767225600123), Point("door/locked", False, None, 0),
        Point("label", 'quote" back\\ nl\n \u00fc \U0001F600', None, 1767225600123),
        Point("empty", "", "", 1767225600123, {"room": "lab \u20ac", "floor": "2"})]


@pytest.mark.parametrize("fmt", [Format.JSON, Format.SENML_CBOR])
def test_every_value_type_round_trips_exactly(fmt):
    b = Batch(RICH, seq=123456789)
    back = Batch.decode(b.encode(fmt), fmt)
    assert back.seq == 123456789
    got = back.points()
    assert got == RICH
    assert math.copysign(1, got[1].value) == -1  # -0.0 kept


def test_senml_json_round_trip_keeps_values_as_doubles():
    pts = [Point("a", 1.25, "V", 1767225600000), Point("b", True, None, 1767225600000),
           Point("c", "x", None, 1767225600000, {"k": "v"})]
    assert telemetry.decode(telemetry.encode(pts, "senml-json"), "senml-json") == pts


def test_dict_source_stamps_every_point_now():
    before = telemetry.now_ms()
    b = Batch({"temp": 21.5, "count": 3, "on": True, "mode": "eco"})
    after = telemetry.now_ms()
    assert b.as_dict() == {"temp": 21.5, "count": 3, "on": True, "mode": "eco"}
    ts = {p.ts_ms for p in b}
    assert len(ts) == 1 and before <= ts.pop() <= after
    assert isinstance(b[1].value, int) and isinstance(b[2].value, bool)


def test_explicit_zero_time_is_kept_as_unknown():
    b = Batch({"x": 1}, ts_ms=0)
    assert b[0].ts_ms == 0 and b[0].time is None
    assert b.encode() == b'{"ver":1,"points":[{"n":"x","i":1}]}'


def test_point_time_is_utc_datetime():
    p = Point("x", 1, ts_ms=1767225600500)
    assert p.time == datetime.datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=datetime.timezone.utc)


def test_sequence_access_and_repr():
    b = doc_batch()
    assert len(b) == 4 and b[-1].name == "mode" and [p.name for p in b[1:3]] == ["count", "door"]
    with pytest.raises(IndexError):
        b[4]
    assert repr(b) == "<Batch of 4 points, seq 42>"
    assert Batch(b).points() == b.points()


def test_to_batch_contract():
    b = doc_batch()
    assert telemetry.to_batch(b) is b
    assert telemetry.to_batch({"x": 1.5}).as_dict() == {"x": 1.5}
    assert len(telemetry.to_batch(DOC_POINTS)) == 4
    ptr = telemetry.to_batch(b)._ptr
    assert telemetry.ffi.typeof(ptr) is telemetry.ffi.typeof("iotkit_telemetry_batch_t *")
    for bad in (b"raw", "text"):
        with pytest.raises(TypeError):
            telemetry.to_batch(bad)  # type: ignore[arg-type]


def test_format_names_and_media_types():
    assert [f.short_name for f in Format] == ["json", "senml-json", "senml-cbor"]
    assert [f.media_type for f in Format] == ["application/json", "application/senml+json",
                                              "application/senml+cbor"]
    assert Format.parse("senml-cbor") is Format.SENML_CBOR and Format.parse(1) is Format.SENML_JSON
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        Format.parse("xml")
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        Format.parse(7)


def test_many_points_round_trip():
    b = Batch()
    for i in range(2000):
        b.add("series", i * 0.01, unit="V", ts_ms=1767225600123 + i * 250)
    for f in Format:
        assert len(Batch.decode(b.encode(f), f)) == 2000


# -------------------------------------------------------------- refused --

@pytest.mark.parametrize("name", ["", "room temp", "-temp", ":temp", 'te"mp', "a" * 129, "t\u00e9"])
def test_bad_names_are_invalid_and_leave_the_batch_unchanged(name):
    b = Batch({"ok": 1})
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        b.add(name, 1)
    assert len(b) == 1


def test_longest_name_and_allowed_punctuation():
    Batch().add("a" * 128, 1).add("urn:dev:ow:10e2/a-b.c_d", 1)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_floats_are_invalid(value):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG") as e:
        Batch().add("t", value)
    assert "finite" in str(e.value)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        Batch().add("t", value, tags={"k": "v"})


def test_nul_in_name_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        Batch().add("a\0b", 1)


def test_lone_surrogate_string_is_invalid_utf8():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        Batch().add("t", "surrogate \ud800")


def test_string_of_4096_bytes_is_the_limit():
    Batch().add("t", "a" * 4096)
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        Batch().add("t", "a" * 4097)
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        Batch().add("t", 1, tags={"k": "v" * 4097})


def test_too_many_tags():
    tags = {"k%d" % i: "v" for i in range(16)}
    b = Batch().add("t", 1, tags=tags)
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        b.tag("last", "v")
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE") as e:
        Batch().add("t", 1, tags={**tags, "k16": "v"})
    assert "more than 16 tags" in str(e.value)


@pytest.mark.parametrize("key", ["a b", "", "k" * 65])
def test_bad_tag_keys_are_invalid(key):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        Batch().add("t", 1, tags={key: "v"})
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        Batch().add("t", 1).tag(key, "v")


def test_duplicate_tag_key_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        Batch().add("t", 1, tags={"room": "lab"}).tag("room", "other")


def test_tag_on_an_empty_batch_is_state_error():
    with raises(StateError, "IOTKIT_ERR_STATE"):
        Batch().tag("room", "lab")


def test_too_many_points():
    b = Batch()
    for _ in range(telemetry.MAX_POINTS):
        b.add("p", 1, ts_ms=1)
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        b.add("p", 1, ts_ms=1)
    assert len(b) == telemetry.MAX_POINTS


@pytest.mark.parametrize("value", [2**63, -2**63 - 1])
def test_int_outside_64_bits_is_too_large(value):
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        Batch().add("t", value)


@pytest.mark.parametrize("value", [b"\x01\x02", bytearray(b"x")])
def test_bytes_values_are_unsupported(value):
    with raises(UnsupportedError, "IOTKIT_ERR_UNSUPPORTED"):
        Batch().add("t", value)


@pytest.mark.parametrize("value", [None, [1], {"a": 1}, 1j])
def test_other_value_types_are_type_errors(value):
    with pytest.raises(TypeError):
        Batch().add("t", value)


def test_seq_range():
    b = Batch(seq=42)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        b.seq = 2**53 + 1
    assert b.seq == 42


def test_encode_empty_batch_is_invalid():
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG") as e:
        Batch().encode()
    assert "empty" in str(e.value)


def test_closed_batch_is_state_error():
    with Batch({"x": 1}) as b:
        pass
    with raises(StateError, "IOTKIT_ERR_STATE"):
        b.encode()
    assert repr(b) == "<Batch closed>"


@pytest.mark.parametrize("fmt,data,code", [
    ("json", b"", "IOTKIT_ERR_BAD_ENCODING"),
    ("json", b'{"ver":1,', "IOTKIT_ERR_BAD_ENCODING"),
    ("json", b'{"ver":2,"points":[]}', "IOTKIT_ERR_UNSUPPORTED"),
    ("json", b'{"ver":1,"points":[{"n":"a","d":1,"i":1}]}', "IOTKIT_ERR_BAD_ENCODING"),
    ("json", b'{"ver":1,"points":[{"n":"a","i":1.5}]}', "IOTKIT_ERR_BAD_ENCODING"),
    ("json", b'{"ver":1,"points":[{"n":"a","s":"\xff"}]}', "IOTKIT_ERR_BAD_ENCODING"),
    ("senml-json", b'[{"n":"a","v":1,"x_":1}]', "IOTKIT_ERR_UNSUPPORTED"),
    ("senml-json", b'[{"n":"a","s":12}]', "IOTKIT_ERR_UNSUPPORTED"),
    ("senml-json", b'[{"n":"-a","v":1}]', "IOTKIT_ERR_BAD_ENCODING"),
    ("senml-json", b"[] []", "IOTKIT_ERR_BAD_ENCODING"),
    ("senml-cbor", bytes.fromhex("81 a2 00 65 61 62 02 01"), "IOTKIT_ERR_BAD_ENCODING"),
    ("senml-cbor", bytes.fromhex("81 a2 00 61 61 02 c4 82 21 19 6a b3"), "IOTKIT_ERR_UNSUPPORTED"),
    ("senml-cbor", bytes.fromhex("81 a2 00 61 61 02 f9 7e 00"), "IOTKIT_ERR_UNSUPPORTED"),
    ("senml-cbor", DOC_SENML_CBOR + b"\x00", "IOTKIT_ERR_BAD_ENCODING"),
])
def test_decode_refusals(fmt, data, code):
    cls = UnsupportedError if code == "IOTKIT_ERR_UNSUPPORTED" else InvalidArgumentError
    with raises(cls, code):
        Batch.decode(data, fmt)


def test_decode_more_than_max_points_is_too_large():
    data = b'{"ver":1,"points":[' + b",".join([b'{"n":"a","i":1}'] * (telemetry.MAX_POINTS + 1)) + b"]}"
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        Batch.decode(data)
