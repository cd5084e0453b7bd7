"""iotkit.ota.Client with the built-in fetcher (libcurl) against a plain HTTP
server on 127.0.0.1 written here, with Range support so that a resumed
download can be checked too."""
from __future__ import annotations

import http.server
import os
import threading

import pytest

from iotkit import _hals, crypto, ota
from iotkit.errors import NotFoundError, UnsupportedError
from iotkit.ota import State
from test_crypto import raises

IMAGE = os.urandom(100000)


class Handler(http.server.BaseHTTPRequestHandler):
    ranges: list = []

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        if self.path != "/fw.bin":
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        Handler.ranges.append(rng)
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(IMAGE) - 1, len(IMAGE)))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(IMAGE) - start))
        self.end_headers()
        self.wfile.write(IMAGE[start:])


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    Handler.ranges = []
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def signer():
    key = crypto.PrivateKey.generate(crypto.KeyType.P256)
    return key, ota.TrustStore({"fleet": key})


def run_client(c):
    try:
        c.run()
    except UnsupportedError:  # pragma: no cover - a build without libcurl
        pytest.skip("this libiotkit has no built-in http fetcher")


def test_built_in_http_fetcher_downloads_the_image(server, signer):
    key, trust = signer
    hal = _hals.MemoryHal()
    m = ota.sign_manifest(ota.Image.of(IMAGE, "thermo-v2", "2.0.0", server + "/fw.bin"), key, "fleet")
    c = ota.Client(trust, "thermo-v2", "1.0.0", hal=hal, on_reboot=lambda c: False)
    c.start(m)
    run_client(c)
    assert c.status.state is State.PENDING and c.status.bytes == len(IMAGE)
    assert Handler.ranges == [None]


def test_built_in_fetcher_404_fails_the_update(server, signer):
    key, trust = signer
    m = ota.sign_manifest(ota.Image.of(IMAGE, "thermo-v2", "2.0.0", server + "/missing.bin"), key, "fleet")
    c = ota.Client(trust, "thermo-v2", "1.0.0", hal=_hals.MemoryHal())
    c.start(m)
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        run_client(c)
    assert c.state is State.FAILED


def test_built_in_fetcher_resumes_with_a_range(server, signer, tmp_path):
    key, trust = signer
    state = str(tmp_path / "state")
    url = server + "/fw.bin"
    m = ota.sign_manifest(ota.Image.of(IMAGE, "thermo-v2", "2.0.0", url), key, "fleet")
    calls = []

    def first(url_, offset, chunk):  # a Python fetcher that stops after 40000 bytes
        calls.append(offset)
        yield IMAGE[offset:40000]
        raise ConnectionError("cable pulled")

    with ota.Client(trust, "thermo-v2", "1.0.0", state_dir=state, fetcher=first) as c:
        c.start(m)
        with pytest.raises(ConnectionError, match="cable pulled"):
            c.run()
        done = c.status.bytes
    assert 0 < done <= 40000
    with ota.Client(trust, "thermo-v2", "1.0.0", state_dir=state, on_reboot=lambda c: False) as c:
        run_client(c)
        assert c.state is State.PENDING
    assert Handler.ranges == ["bytes=%d-" % done]
