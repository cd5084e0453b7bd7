#!/usr/bin/env python3
"""Write the seed corpora that come from docs/protocol.md's examples, the unit
tests' inputs (RFC 8428) and a few hand-made requests, into tests/fuzz/corpus/.
The seeds that need the fixed keys (signed tokens, manifests, envelopes, and
the stores a library writes) come from fuzz_seeds.c. Run from anywhere:
    python3 tests/fuzz/seeds_from_docs.py
"""
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def le16(n):
    return struct.pack("<H", n)


doc = open(os.path.join(ROOT, "docs", "protocol.md"), encoding="utf-8").read()
examples = []  # (name, channel suffix or "", json)
for m in re.finditer(r"<!-- example: (\S+)(?: channel=(\S+))? -->\s*```json\n(.*?)\n```", doc, re.S):
    ch = m.group(2) or ""
    suffix = ch.split("/", 3)[3] if ch.count("/") >= 3 else ""
    examples.append((m.group(1), suffix, m.group(3)))
# The unlabelled JSON blocks (telemetry encodings, the manifest example).
unlabelled = [b for b in re.findall(r"```json\n(.*?)\n```", doc, re.S) if all(b != e[2] for e in examples)]

proto_sel = {"state/desired": 0, "state/reported": 1, "status": 2, "events": 3, "location": 4,
             "commands/response": 5, "ota/status": 6}
fleet_sel = {"status": 0, "telemetry": 1, "state/reported": 5, "events": 6, "location": 7}
device_sel = {"state/desired": 0, "commands/request": 1, "ota/manifest": 2}

for name, suffix, js in examples:
    base = suffix.split("/")[0] if suffix.startswith("events") else suffix
    if base in proto_sel:
        put("fuzz_protocol", name, bytes([proto_sel[base]]) + js.encode())
    if base in fleet_sel:
        put("fuzz_fleet_ingest", name, bytes([fleet_sel[base]]) + le16(len(js)) + js.encode())
    if base in device_sel:
        put("fuzz_device_channels", name, bytes([device_sel[base]]) + le16(len(js)) + js.encode())
    put("fuzz_protocol", "merge-" + name, b"\x08" + b'{"a":{"b":1},"c":[1,2]}\x00' + js.encode())
    put("fuzz_protocol", "diff-" + name, b"\x09" + js.encode() + b'\x00{"a":null,"state":{"x":{"y":2}}}')

for i, js in enumerate(unlabelled):
    if js.startswith("["):
        put("fuzz_telemetry_decode", "docs-senml-%d" % i, b"\x01" + js.encode())
        put("fuzz_fleet_ingest", "docs-senml-%d" % i, b"\x02" + le16(len(js)) + js.encode())
    elif '"points"' in js:
        put("fuzz_telemetry_decode", "docs-json-%d" % i, b"\x00" + js.encode())
        put("fuzz_fleet_ingest", "docs-json-%d" % i, b"\x01" + le16(len(js)) + js.encode())
        put("fuzz_queue_store", "docs-json-%d" % i, b"\x00\x00" + le16(len(js)) + js.encode())
    elif '"signature"' in js:
        put("fuzz_ota_manifest", "docs-manifest", js)
        put("fuzz_device_channels", "docs-manifest", b"\x02" + le16(len(js)) + js.encode())

# The fleet's flat telemetry form and a telemetry message with no media type.
flat = '{"ts":1767225600000,"seq":7,"temp":21.5,"on":true,"mode":"eco"}'
put("fuzz_fleet_ingest", "flat", b"\x09" + le16(len(flat)) + flat.encode())
put("fuzz_fleet_ingest", "two-devices",
    b"\x00" + le16(17) + b'{"status":"online"}'[:17] + b"\x47" + le16(40) + b'{"lat":48.85,"lon":2.35,"ts":1767225600}'[:40])

# RFC 8428 examples (tests/unit/test_telemetry_rfc8428.c).
rfc = open(os.path.join(ROOT, "tests", "unit", "test_telemetry_rfc8428.c"), encoding="utf-8").read()
hexdump = re.search(r'k_cbor_hex =\s*((?:"[^"]*"\s*)+);', rfc).group(1)
cbor = bytes.fromhex("".join(re.findall(r'"([^"]*)"', hexdump)).replace(" ", ""))
put("fuzz_telemetry_decode", "rfc8428-cbor", b"\x02" + cbor)
put("fuzz_fleet_ingest", "rfc8428-cbor", b"\x03" + le16(len(cbor)) + cbor)
for var in ("k_multi", "k_multi_time", "k_measurements"):
    m = re.search(var + r' =\s*((?:"(?:[^"\\]|\\.)*"\s*)+);', rfc)
    text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))).encode().decode("unicode_escape")
    put("fuzz_telemetry_decode", "rfc8428-" + var[2:], b"\x01" + text.encode())

# URIs: the schemes and forms the configuration and manifests use.
for i, u in enumerate(["mqtt://127.0.0.1:1883", "mqtts://user:p%40ss@broker.example.com/",
                       "coaps://[::1]:5684/iotkit?x=1", "https://updates.example.com/a/b.bin?sig=abc",
                       "loop://local", "coap://h", "http://[fe80::1%25eth0]:8080/p"]):
    put("fuzz_uri", "uri-%d" % i, u)

# base64 and base64url.
for i, s in enumerate(["", "Zg==", "Zm9vYmFy", "SGVsbG8gd29ybGQ", "-_-_", "YWJj\nZGVm", "QWqyGPru1QPzefZCFpU8Bk"]):
    put("fuzz_base64", "b64-%d" % i, s)

# Hub HTTP requests: METHOD SP PATH LF AUTHORIZATION LF CONTENT-TYPE LF BODY.
tok = "Bearer 00112233445566778899aabbccddeeff"
for i, (meth, path, ctype, body) in enumerate([
        ("POST", "/iotkit/v1/sensor-1/telemetry", "application/json", '{"temp":21.5}'),
        ("PUT", "/iotkit/v1/sensor-1/state/reported", "application/json", '{"state":{"led":true}}'),
        ("PUT", "/iotkit/v1/sensor-1/status", "", '{"status":"online"}'),
        ("POST", "/iotkit/v1/sensor-1/commands/response", "application/json", '{"id":"1","status":"ok"}'),
        ("POST", "/iotkit/v1/sensor-1/events/overheat", "", '{"type":"overheat"}'),
        ("GET", "/iotkit/v1/sensor-1/state/desired", "", ""),
        ("HEAD", "/", "", ""),
        ("POST", "/iotkit/v1/dev-2/telemetry", "", "x")]):
    put("fuzz_hub_http", "req-%d" % i, "%s %s\n%s\n%s\n%s" % (meth, path, tok, ctype, body))


# Hub CoAP datagrams: CON/NON PUT/POST with Uri-Path, Content-Format, token and payload.
def coap(mtype, code, mid, token, path, fmt, payload):
    out = bytes([0x40 | mtype << 4 | len(token), code]) + struct.pack(">H", mid) + token
    last = 0
    opts = [(11, seg.encode()) for seg in path.split("/")]
    if fmt is not None:
        opts.append((12, bytes([fmt]) if fmt else b""))
    for num, val in opts:
        delta = num - last
        last = num
        out += bytes([delta << 4 | len(val)]) + val if len(val) < 13 else bytes([delta << 4 | 13, len(val) - 13]) + val
    return out + (b"\xff" + payload if payload else b"")


for i, (t, c, path, fmt, body) in enumerate([
        (0, 2, "iotkit/v1/sensor-1/telemetry", 50, b'{"temp":21.5}'),
        (1, 2, "iotkit/v1/sensor-1/telemetry", 60, cbor[:40]),
        (0, 3, "iotkit/v1/sensor-1/state/reported", 50, b'{"state":{"led":true}}'),
        (0, 3, "iotkit/v1/sensor-1/status", None, b'{"status":"online"}'),
        (0, 2, "iotkit/v1/sensor-1/events/overheat", 0, b"hot"),
        (0, 2, "iotkit/v1/sensor-1/commands/response", 50, b'{"id":"1","status":"ok"}'),
        (0, 3, "iotkit/v1/sensor-1/telemetry", 50, b"{}")]):
    put("fuzz_hub_coap", "coap-%d" % i, coap(t, c, 0x1234 + i, b"\x01\x02\x03\x04"[: i % 5], path, fmt, body))

# Hub key files (even first byte) and configuration files (odd).
put("fuzz_hub_files", "keys", b"\x00# devices\nsensor-1 00112233445566778899aabbccddeeff\n\ndev-2\t0102 # x\n")
put("fuzz_hub_files", "config", b"\x01# hub\ncoap_listen = 127.0.0.1:5683\nallow_insecure_coap = true\n"
    b"mqtt_uri = mqtt://127.0.0.1:1883\ntopic_prefix = iotkit/v1\nlog_level = debug\nmax_payload = 4096\n"
    b"command_queue = 8\nsession_timeout_s = 60\n")
