"""The dashboard's JSON API with FastAPI's test client: the registry alone, then a
real broker and real simulated devices."""
from __future__ import annotations

import json
import re
import signal

from conftest import wait_for


# ---- without a broker session

def test_device_list_shows_registered_devices_offline(offline_app):
    r = offline_app.get("/api/devices")
    assert r.status_code == 200
    devs = {d["id"]: d for d in r.json()}
    assert sorted(devs) == ["dev-a", "dev-b"]
    assert devs["dev-b"]["transport"] == "coaps" and devs["dev-b"]["edge"] is True
    assert devs["dev-a"]["online"] is False and devs["dev-a"]["last_seen"] is None and devs["dev-a"]["latest"] == {}


def test_device_list_filter(offline_app):
    assert [d["id"] for d in offline_app.get("/api/devices", params={"filter": "EDGE"}).json()] == ["dev-b"]
    assert offline_app.get("/api/devices", params={"filter": "nothing-like-it"}).json() == []


def test_one_device_and_an_unknown_one(offline_app):
    assert offline_app.get("/api/devices/dev-a").json()["id"] == "dev-a"
    r = offline_app.get("/api/devices/no-such")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_bad_device_id_is_400(offline_app):
    r = offline_app.get("/api/devices/bad%20id")
    assert r.status_code == 400 and r.json()["error"] == "invalid"


def test_history_of_a_device_never_heard_and_of_an_unknown_metric(offline_app):
    assert offline_app.get("/api/devices/dev-a/history").json() == {"id": "dev-a", "metrics": {}}
    r = offline_app.get("/api/devices/dev-a/history", params={"metric": "temperature"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert offline_app.get("/api/devices/dev-a/history", params={"limit": 0}).status_code == 422
    assert offline_app.get("/api/devices/no-such/history").status_code == 404


def test_desired_none_yet(offline_app):
    assert offline_app.get("/api/devices/dev-a/desired").json() == {"id": "dev-a", "version": 0, "state": {}}
    assert offline_app.get("/api/devices/no-such/desired").status_code == 404


def test_bad_command_requests_are_refused_before_the_fleet(offline_app):
    assert offline_app.post("/api/devices/dev-a/commands", json={"name": "ping", "timeout": 0}).status_code == 422
    assert offline_app.post("/api/devices/dev-a/commands", json={"params": {}}).status_code == 422
    assert offline_app.post("/api/devices/dev-a/commands", json={"name": "ping", "params": [1]}).status_code == 422


def test_command_without_a_session_is_503_not_connected(offline_app):
    r = offline_app.post("/api/devices/dev-a/commands", json={"name": "ping"})
    assert r.status_code == 503 and r.json()["error"] == "not_connected"


def test_desired_patch_that_is_not_an_object_is_422(offline_app):
    assert offline_app.patch("/api/devices/dev-a/desired", json={"patch": [1, 2]}).status_code == 422
    assert offline_app.patch("/api/devices/dev-a/desired", content=b"{not json",
                             headers={"Content-Type": "application/json"}).status_code == 422


def test_rollouts_unavailable_say_why(offline_app):
    info = offline_app.get("/api/info").json()
    if info["rollouts"]:
        return  # the binding has them: covered by the rollout tests
    r = offline_app.post("/api/rollouts", json={"manifest": "{}"})
    assert r.status_code == 501 and r.json()["error"] == "unsupported"
    assert "not available" in info["rollouts_note"]


def test_openapi_documents_the_api(offline_app):
    paths = offline_app.get("/openapi.json").json()["paths"]
    for p in ("/api/devices", "/api/devices/{id}", "/api/devices/{id}/history", "/api/devices/{id}/commands",
              "/api/devices/{id}/desired", "/api/events"):
        assert p in paths, p


def test_the_page_and_its_bundled_chart_library_are_served(offline_app):
    page = offline_app.get("/")
    assert page.status_code == 200 and "/static/vendor/uPlot.iife.min.js" in page.text
    assert "http://" not in page.text.replace("http://127.0.0.1", "")  # nothing from elsewhere
    js = offline_app.get("/static/vendor/uPlot.iife.min.js")
    assert js.status_code == 200 and "uPlot" in js.text


# ---- a real broker and real devices

def _online(client, id):
    return client.get("/api/devices/" + id).json()["online"]


def test_a_live_device_online_with_values_and_history(live, sims):
    sims("sim-1")
    c = live("sim-1")
    assert wait_for(lambda: _online(c, "sim-1") and len(c.get("/api/devices/sim-1").json()["latest"]) == 2)
    d = c.get("/api/devices/sim-1").json()
    assert set(d["latest"]) == {"temperature", "humidity"}
    assert d["reported"]["model"] == "iotkit-sim-th"
    assert wait_for(lambda: len(c.get("/api/devices/sim-1/history").json()["metrics"].get("temperature", [])) >= 3)
    h = c.get("/api/devices/sim-1/history", params={"metric": "temperature", "limit": 2}).json()["metrics"]
    assert list(h) == ["temperature"] and len(h["temperature"]) == 2
    assert h["temperature"][0][0] <= h["temperature"][1][0]


def test_command_reaches_the_device_and_its_answer_comes_back(live, sims):
    sim = sims("sim-2")
    c = live("sim-2")
    assert wait_for(lambda: _online(c, "sim-2"))
    r = c.post("/api/devices/sim-2/commands", json={"name": "set_interval", "params": {"interval_ms": 321}})
    assert r.status_code == 200, r.text
    assert r.json()["result"] == {"interval_ms": 321}
    assert wait_for(lambda: re.search(r"command \S+: interval_ms=321", sim.log()) is not None)


def test_command_the_device_refuses_is_502_with_its_error(live, sims):
    sims("sim-3")
    c = live("sim-3")
    assert wait_for(lambda: _online(c, "sim-3"))
    r = c.post("/api/devices/sim-3/commands", json={"name": "set_interval", "params": {"interval_ms": 1}})
    assert r.status_code == 502 and r.json()["error"] == "remote_error"
    assert "invalid_params" in r.json()["message"]


def test_desired_state_reaches_the_device(live, sims):
    sim = sims("sim-4")
    c = live("sim-4")
    assert wait_for(lambda: _online(c, "sim-4"))
    r = c.patch("/api/devices/sim-4/desired", json={"patch": {"interval_ms": 456}})
    assert r.status_code == 200 and r.json()["state"] == {"interval_ms": 456}
    v = r.json()["version"]
    assert c.get("/api/devices/sim-4/desired").json()["version"] == v
    assert wait_for(lambda: "desired version %d: interval_ms=456" % v in sim.log())


def test_a_stopped_device_goes_offline_and_a_command_to_it_is_409(live, sims):
    sim = sims("sim-5")
    c = live("sim-5")
    assert wait_for(lambda: _online(c, "sim-5"))
    sim.stop(signal.SIGKILL)
    assert wait_for(lambda: not _online(c, "sim-5"), 15)  # the broker's last will, 1.5 x keepalive 2 s
    r = c.post("/api/devices/sim-5/commands", json={"name": "ping"})
    assert r.status_code == 409 and r.json()["error"] == "offline"


def test_command_timeout_is_504(live, sims):
    sim = sims("sim-6")
    c = live("sim-6")
    assert wait_for(lambda: _online(c, "sim-6"))
    sim.proc.send_signal(signal.SIGSTOP)  # alive for the broker a little longer, but it answers nothing
    try:
        r = c.post("/api/devices/sim-6/commands", json={"name": "ping", "timeout": 1})
    finally:
        sim.proc.send_signal(signal.SIGCONT)
    assert r.status_code == 504 and r.json()["error"] == "timeout"
