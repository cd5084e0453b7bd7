"""iotkit.Fleet: the registry (CRUD, partial updates, every refusal with its exact
class and code name, literal storage of SQL-looking text, keyset paging, filters,
reopening a file, refusing bad files at open, and create/close cycles)."""
import datetime as dt
import gc
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import iotkit
from iotkit.fleet import MAX_PAGE, UNSET

LIM = iotkit.limits()


@pytest.fixture
def fleet():
    with iotkit.Fleet() as f:
        yield f


def raises(cls, name, fn, /, *args, **kwargs):
    with pytest.raises(cls) as info:
        fn(*args, **kwargs)
    assert type(info.value) is cls, type(info.value)
    assert info.value.name == name, (info.value.name, str(info.value))
    return info.value


# ------------------------------------------------------------------ CRUD --

def test_exports():
    assert iotkit.Fleet is iotkit.fleet.Fleet
    assert "Fleet" in iotkit.__all__ and "FleetDevice" in iotkit.__all__


def test_crud_round_trip(fleet):
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    d = fleet.create("sensor-1", name="Hall sensor", type="th-sensor", tags=("hall", "floor-1"),
                     attributes={"room": 12, "nested": {"a": [1, 2.5, None, True]}, "ü": "é"})
    assert isinstance(d, iotkit.FleetDevice)
    assert d.id == "sensor-1" and d.name == "Hall sensor" and d.type == "th-sensor"
    assert d.tags == ("hall", "floor-1")
    assert d.attributes == {"room": 12, "nested": {"a": [1, 2.5, None, True]}, "ü": "é"}
    assert d.created.tzinfo is not None and before <= d.created <= dt.datetime.now(dt.timezone.utc)
    assert d.updated == d.created
    assert d.last_seen is None and d.last_seen_ms == 0 and d.online is False
    assert d.created_ms == int(d.created.timestamp() * 1000)
    assert fleet.get("sensor-1") == d
    assert fleet["sensor-1"] == d
    assert "sensor-1" in fleet and "sensor-2" not in fleet and 42 not in fleet and "bad id!" not in fleet
    assert len(fleet) == 1
    fleet.delete("sensor-1")
    assert "sensor-1" not in fleet and len(fleet) == 0
    raises(iotkit.NotFoundError, "IOTKIT_ERR_NOT_FOUND", fleet.get, "sensor-1")


def test_defaults(fleet):
    d = fleet.create("bare")
    assert (d.name, d.type, d.tags, d.attributes) == ("", "", (), {})


def test_update_one_field_leaves_the_others(fleet):
    orig = fleet.create("d1", name="n", type="t", tags=["a", "b"], attributes={"k": 1})
    time.sleep(0.01)
    d = fleet.update("d1", name="renamed")
    assert (d.name, d.type, d.tags, d.attributes) == ("renamed", "t", ("a", "b"), {"k": 1})
    assert d.created == orig.created and d.updated >= orig.updated
    d = fleet.update("d1", tags=["c"])
    assert (d.name, d.type, d.tags, d.attributes) == ("renamed", "t", ("c",), {"k": 1})
    d = fleet.update("d1", attributes={"z": [1]})
    assert (d.name, d.type, d.tags, d.attributes) == ("renamed", "t", ("c",), {"z": [1]})
    d = fleet.update("d1", type="t2")
    assert (d.name, d.type, d.tags, d.attributes) == ("renamed", "t2", ("c",), {"z": [1]})
    assert fleet.update("d1") == fleet.get("d1")  # nothing given: nothing changes
    d = fleet.update("d1", name=None, type=None, tags=None, attributes=None)  # None clears
    assert (d.name, d.type, d.tags, d.attributes) == ("", "", (), {})
    assert repr(UNSET) == "UNSET"


def test_unknown_and_duplicate(fleet):
    fleet.create("x")
    e = raises(iotkit.AlreadyExistsError, "IOTKIT_ERR_EXISTS", fleet.create, "x")
    assert "x" in e.detail
    e = raises(iotkit.NotFoundError, "IOTKIT_ERR_NOT_FOUND", fleet.get, "nope")
    assert isinstance(e, LookupError)
    raises(iotkit.NotFoundError, "IOTKIT_ERR_NOT_FOUND", fleet.update, "nope", name="a")
    raises(iotkit.NotFoundError, "IOTKIT_ERR_NOT_FOUND", fleet.update, "nope")
    raises(iotkit.NotFoundError, "IOTKIT_ERR_NOT_FOUND", fleet.delete, "nope")
    with pytest.raises(LookupError):
        fleet["nope"]


# --------------------------------------------------------- bad inputs --

BAD_IDS = ["", "a b", "a/b", "x'; DROP TABLE devices;--", "é", "a" * (LIM["MAX_DEVICE_ID"] + 1), "a\0b"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_bad_ids(fleet, bad):
    for fn in (fleet.create, fleet.get, fleet.delete):
        raises(iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG", fn, bad)
    raises(iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG", fleet.update, bad, name="x")
    assert bad not in fleet


BAD_FIELDS = [
    ({"name": "n" * (LIM["FLEET_MAX_NAME"] + 1)}, iotkit.TooLargeError, "IOTKIT_ERR_TOO_LARGE"),
    ({"type": "t" * (LIM["FLEET_MAX_TYPE"] + 1)}, iotkit.TooLargeError, "IOTKIT_ERR_TOO_LARGE"),
    ({"type": "has space"}, iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"),
    ({"type": ".."}, iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"),
    ({"tags": ["t" * (LIM["FLEET_MAX_TAG"] + 1)]}, iotkit.TooLargeError, "IOTKIT_ERR_TOO_LARGE"),
    ({"tags": ["t%d" % i for i in range(LIM["FLEET_MAX_TAGS"] + 1)]}, iotkit.TooLargeError,
     "IOTKIT_ERR_TOO_LARGE"),
    ({"tags": ["a", ""]}, iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"),
    ({"tags": ["a", "a"]}, iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"),
    ({"attributes": {"k": "v" * LIM["FLEET_MAX_ATTRIBUTES"]}}, iotkit.TooLargeError, "IOTKIT_ERR_TOO_LARGE"),
    ({"attributes": [1, 2]}, iotkit.InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"),  # not an object
    ({"attributes": "text"}, iotkit.InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"),
    ({"attributes": {"x": float("nan")}}, iotkit.InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"),
    ({"attributes": {"x": object()}}, iotkit.InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"),
    ({"name": "bad \ud800 surrogate"}, iotkit.InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"),
    ({"name": "nul\0inside"}, iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"),
    ({"tags": ["nul\0"]}, iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"),
]


@pytest.mark.parametrize("kwargs,cls,name", BAD_FIELDS, ids=[str(i) for i in range(len(BAD_FIELDS))])
def test_bad_fields(fleet, kwargs, cls, name):
    raises(cls, name, fleet.create, "dev", **kwargs)
    assert "dev" not in fleet
    good = fleet.create("dev", name="keep", type="keep", tags=["keep"], attributes={"keep": 1})
    raises(cls, name, fleet.update, "dev", **kwargs)
    assert fleet.get("dev") == good


def test_limits_exactly_are_accepted(fleet):
    d = fleet.create("a" * LIM["MAX_DEVICE_ID"], name="n" * LIM["FLEET_MAX_NAME"],
                     type="t" * LIM["FLEET_MAX_TYPE"],
                     tags=["%d" % i + "x" * (LIM["FLEET_MAX_TAG"] - len("%d" % i))
                           for i in range(LIM["FLEET_MAX_TAGS"])])
    assert len(d.tags) == LIM["FLEET_MAX_TAGS"] and all(len(t) == LIM["FLEET_MAX_TAG"] for t in d.tags)


def test_wrong_python_types(fleet):
    with pytest.raises(TypeError):
        fleet.create(5)
    with pytest.raises(TypeError):
        fleet.create("d", name=5)
    with pytest.raises(TypeError):
        fleet.create("d", tags="single")  # a str is not a list of tags
    with pytest.raises(TypeError):
        fleet.list(limit="10")
    with pytest.raises(TypeError):
        fleet.count(online="yes")
    with pytest.raises(TypeError):
        fleet.count(seen_before="yesterday")
    with pytest.raises(TypeError):
        iotkit.Fleet(busy_timeout="1")


def test_bad_list_arguments(fleet):
    for limit in (0, -1, MAX_PAGE + 1):
        raises(iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG", fleet.list, limit=limit)
    raises(iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG", fleet.list, after="bad cursor!")
    raises(iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG", fleet.count, seen_before=-5)
    raises(iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG", iotkit.Fleet, busy_timeout=0)
    raises(iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG", iotkit.Fleet, "")
    assert len(fleet.list(limit=MAX_PAGE)) == 0


def test_sql_looking_strings_are_stored_literally(fleet):
    evil = "x'; DROP TABLE devices;--"
    d = fleet.create("sql", name=evil, tags=[evil, "' OR '1'='1", '"; --'],
                     attributes={evil: evil, "q": "\" OR 1=1 --"})
    assert fleet.get("sql") == d
    assert d.name == evil and d.tags == (evil, "' OR '1'='1", '"; --')
    assert d.attributes == {evil: evil, "q": "\" OR 1=1 --"}
    assert fleet.count(tag=evil) == 1 and fleet.count(tag="' OR '1'='1") == 1
    assert fleet.count(tag="%") == 0 and fleet.count(tag="x%") == 0  # no LIKE patterns either
    fleet.update("sql", name="Robert'); DROP TABLE devices; --")
    assert fleet.get("sql").name == "Robert'); DROP TABLE devices; --"
    fleet.create("other")
    assert len(fleet) == 2


# ---------------------------------------------------------- paging --

def test_paging_250_devices_in_pages_of_100(fleet):
    ids = ["dev-%03d" % i for i in range(250)]
    for i in reversed(ids):
        fleet.create(i, type="even" if int(i[-3:]) % 2 == 0 else "odd")
    pages, after = [], None
    while True:
        page = fleet.list(limit=100, after=after)
        pages.append(page)
        if page.next is None:
            break
        assert page.next == page.items[-1].id
        after = page.next
    assert [len(p) for p in pages] == [100, 100, 50]
    seen = [d.id for p in pages for d in p]
    assert seen == sorted(ids) and len(set(seen)) == 250
    assert [d.id for d in fleet.iter(page_size=7)] == sorted(ids)
    assert [d.id for d in fleet] == sorted(ids)
    assert len(fleet) == 250
    assert [d.id for d in fleet.iter(type="odd", page_size=100)] == sorted(ids)[1::2]


def test_paging_while_deleting_and_creating(fleet):
    for i in range(50):
        fleet.create("k-%02d" % i)
    page = fleet.list(limit=20)
    fleet.delete("k-05")  # behind the cursor
    fleet.delete("k-30")  # ahead
    fleet.create("a-new")  # sorts before the cursor: not seen
    rest = []
    after = page.next
    while after is not None:
        p = fleet.list(limit=20, after=after)
        rest += [d.id for d in p]
        after = p.next
    assert rest == ["k-%02d" % i for i in range(20, 50) if i != 30]


def test_filters(fleet):
    fleet.create("a", type="cam", tags=["x", "y"])
    fleet.create("b", type="cam", tags=["y"])
    fleet.create("c", type="th", tags=["x"])
    fleet.create("d")
    ids = lambda **kw: [d.id for d in fleet.iter(**kw)]  # noqa: E731
    assert ids(type="cam") == ["a", "b"] and fleet.count(type="cam") == 2
    assert ids(type="") == ["d"]
    assert ids(tag="x") == ["a", "c"] and ids(tag="y") == ["a", "b"] and ids(tag="z") == []
    assert ids(type="cam", tag="x") == ["a"]
    assert fleet.count(type="nope") == 0
    # The registry API never marks a device seen or online (that is the MQTT side's).
    assert ids(online=False) == ["a", "b", "c", "d"] and ids(online=True) == []
    now = dt.datetime.now(dt.timezone.utc)
    assert fleet.count(seen_before=now) == 0 and fleet.count(seen_after=1) == 0
    assert fleet.count(seen_before=int(now.timestamp() * 1000)) == 0
    assert fleet.list(type="cam", limit=1).next == "a"


# ------------------------------------------------------------- files --

def test_reopen_keeps_the_records(tmp_path):
    db = tmp_path / "registry.db"
    with iotkit.Fleet(db) as f:
        f.create("one", name="first", tags=["t"], attributes={"a": 1})
        f.create("two")
        f.update("two", name="second")
        f.delete("one")
        f.create("three", type="x")
    with iotkit.Fleet(str(db), integrity_check=True) as f:
        assert [d.id for d in f] == ["three", "two"]
        assert f.get("two").name == "second" and f.get("three").type == "x"


def test_corrupt_file_is_refused_at_open(tmp_path):
    db = tmp_path / "garbage.db"
    db.write_bytes(os.urandom(8192))
    e = raises(iotkit.IotkitError, "IOTKIT_ERR_CORRUPT", iotkit.Fleet, db)
    assert str(db) in e.detail or "garbage.db" in e.detail, e.detail
    raises(iotkit.IotkitError, "IOTKIT_ERR_CORRUPT", iotkit.Fleet, db, integrity_check=True)


def test_missing_directory_is_io(tmp_path):
    raises(iotkit.IotkitError, "IOTKIT_ERR_IO", iotkit.Fleet, tmp_path / "no" / "such" / "dir.db")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_read_only_file_is_io(tmp_path):
    db = tmp_path / "ro.db"
    iotkit.Fleet(db).close()
    for p in tmp_path.iterdir():
        p.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        raises(iotkit.IotkitError, "IOTKIT_ERR_IO", iotkit.Fleet, db)
    finally:
        tmp_path.chmod(0o755)


def test_other_application_database_is_invalid_arg(tmp_path):
    import sqlite3
    db = tmp_path / "other.db"
    con = sqlite3.connect(str(db))
    con.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    raises(iotkit.InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG", iotkit.Fleet, db)


LOCKER = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
con.execute("ROLLBACK")
"""


def test_locked_database_is_busy(tmp_path):
    db = tmp_path / "locked.db"
    with iotkit.Fleet(db) as f:
        f.create("x")
    p = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LOCKER), str(db)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        e = raises(iotkit.StateError, "IOTKIT_ERR_BUSY", iotkit.Fleet, db, busy_timeout=0.3)
        assert 0.2 < time.monotonic() - t0 < 10, e
    finally:
        p.stdin.write("\n")
        p.stdin.close()
        p.wait(10)
    with iotkit.Fleet(db) as f:
        assert "x" in f


# ---------------------------------------------------------- lifetime --

def test_close_is_idempotent_and_later_calls_fail():
    f = iotkit.Fleet()
    f.create("a")
    f.close()
    f.close()
    assert f.closed and "closed" in repr(f)
    for fn, args in ((f.get, ("a",)), (f.create, ("b",)), (f.delete, ("a",)), (f.count, ()), (f.list, ())):
        raises(iotkit.StateError, "IOTKIT_ERR_STATE", fn, *args)
    with iotkit.Fleet() as g:
        pass
    assert g.closed


def test_threads_share_one_fleet(fleet):
    errs = []

    def work(k):
        try:
            for i in range(50):
                fleet.create("t%d-%02d" % (k, i), tags=["t%d" % k])
                fleet.get("t%d-%02d" % (k, i))
        except BaseException as exc:  # noqa: B902
            errs.append(exc)

    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errs
    assert len(fleet) == 200 and all(fleet.count(tag="t%d" % k) == 50 for k in range(4))


def test_close_waits_for_calls_in_other_threads():
    f = iotkit.Fleet()
    for i in range(300):
        f.create("c%03d" % i)
    stop = threading.Event()
    outcome = []

    def reader():
        try:
            while not stop.is_set():
                list(f.iter(page_size=50))
        except iotkit.StateError:
            outcome.append("closed")
        except BaseException as exc:  # noqa: B902
            outcome.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.05)
    f.close()
    stop.set()
    t.join(10)
    assert outcome == ["closed"]


def cycle(n: int) -> None:
    for i in range(n):
        f = iotkit.Fleet(":memory:")
        f.create("d-%d" % (i % 10), tags=["x"], attributes={"i": i})
        f.get("d-%d" % (i % 10))
        f.close()


def test_1000_create_close_cycles_do_not_grow_rss(rss_kib):
    cycle(200)  # warm-up: allocator arenas, caches, cffi types
    gc.collect()
    before = rss_kib()
    cycle(1000)
    gc.collect()
    after = rss_kib()
    # A leak of 1.5 KB per cycle (a record, a statement, a connection's cache) would show.
    assert after - before < 1536, "RSS grew by %d KiB over 1,000 cycles" % (after - before)


def test_collected_fleets_are_freed(rss_kib):
    def drop(n):
        for _ in range(n):
            iotkit.Fleet().create("gc")
        gc.collect()

    drop(100)
    before = rss_kib()
    drop(500)
    after = rss_kib()
    assert after - before < 1536, "RSS grew by %d KiB over 500 collected fleets" % (after - before)


EXIT_SCRIPT = """
import logging, sys, threading
import iotkit
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
f = iotkit.Fleet(sys.argv[1])
for i in range(100):
    f.create("exit-%03d" % i)
kept = [iotkit.Fleet() for _ in range(3)]  # open at exit, never closed
t = threading.Thread(target=lambda: [f.get("exit-000") for _ in range(100000)], daemon=True)
t.start()
print("ok", flush=True)
"""


def test_fleets_open_at_interpreter_exit(tmp_path):
    db = tmp_path / "exit.db"
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(EXIT_SCRIPT), str(db)], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, PYTHONFAULTHANDLER="1"))
    assert r.returncode == 0 and r.stdout == "ok\n", r.stderr[-3000:]
    with iotkit.Fleet(db) as f:
        assert len(f) == 100


def test_error_details_name_the_cause(fleet):
    e = raises(iotkit.TooLargeError, "IOTKIT_ERR_TOO_LARGE", fleet.create, "d", name="n" * 1000)
    assert "create 'd'" in e.detail and "name" in e.detail, e.detail
    e = raises(iotkit.InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING", fleet.create, "d", attributes=[1])
    assert "JSON object" in e.detail, e.detail
    e = raises(iotkit.NotFoundError, "IOTKIT_ERR_NOT_FOUND", fleet.delete, "ghost")
    assert "ghost" in e.detail
