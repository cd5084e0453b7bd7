"""Create and free the handles of iotkit.crypto, iotkit.telemetry and
iotkit.ota many times: the resident set size must not keep growing."""
from __future__ import annotations

import gc

from iotkit import _hals, crypto, ota, telemetry


def cycle(key: crypto.PrivateKey, trust: ota.TrustStore, hal: _hals.MemoryHal) -> None:
    k = crypto.PrivateKey.generate()
    k.public_key().verify(k.sign(b"m"), b"m")
    crypto.jwt_decode(crypto.jwt_encode({"exp": 2000}, k), k, now=1000)
    with crypto.AesGcm(bytes(32)) as a:
        a.open(a.seal(b"x"))
    env = crypto.Envelope(bytes(32), "k1", "dev-a")
    env.close()
    b = telemetry.Batch({"t": 1.5, "s": "x"}).add("n", 1, tags={"k": "v"})
    telemetry.Batch.decode(b.encode("senml-cbor"), "senml-cbor").points()
    with ota.Client(trust, "thermo-v2", "1.0.0", hal=hal, on_status=lambda c, st: None):
        pass
    ota.Manifest.parse(ota.sign_manifest(ota.Image.of(b"img", "thermo-v2", "2.0.0", "http://x/y"), key, "k"))


def test_no_growth_over_many_cycles(rss_kib):
    key = crypto.PrivateKey.generate()
    trust = ota.TrustStore({"k": key})
    hal = _hals.MemoryHal()
    for _ in range(300):  # warm up allocator caches
        cycle(key, trust, hal)
    gc.collect()
    before = rss_kib()
    for _ in range(3000):
        cycle(key, trust, hal)
    gc.collect()
    grown = rss_kib() - before
    assert grown < 4096, "RSS grew by %d KiB over 3000 cycles" % grown
