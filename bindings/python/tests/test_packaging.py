"""The build script's errors: libiotkit missing or too old is said at install time."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.dirname(HERE)


def run_build_script(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("IOTKIT_BUILD_DIR", "IOTKIT_PREFIX")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", "import build_ffi"], cwd=PKG, env=env,
                          capture_output=True, text=True)


def test_missing_library_is_a_clear_error(tmp_path):
    r = run_build_script({"IOTKIT_PREFIX": str(tmp_path)})
    assert r.returncode != 0
    assert "LibiotkitNotFound" in r.stderr
    assert "no libiotkit.so under IOTKIT_PREFIX=%s" % tmp_path in r.stderr
    assert "IOTKIT_BUILD_DIR=" in r.stderr  # says how to point at one


def test_too_old_library_is_refused(tmp_path):
    (tmp_path / "include" / "iotkit").mkdir(parents=True)
    (tmp_path / "include" / "iotkit" / "core.h").write_text(
        "#define IOTKIT_VERSION_MAJOR 0\n#define IOTKIT_VERSION_MINOR 1\n#define IOTKIT_VERSION_PATCH 9\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libiotkit.so").write_bytes(b"")
    r = run_build_script({"IOTKIT_PREFIX": str(tmp_path)})
    assert r.returncode != 0
    assert "libiotkit 0.1.9" in r.stderr and "too old" in r.stderr and "0.2.0 or newer" in r.stderr


def test_not_a_build_tree_is_refused(tmp_path):
    r = run_build_script({"IOTKIT_BUILD_DIR": str(tmp_path)})
    assert r.returncode != 0
    assert "is not a CMake build tree" in r.stderr


def test_headers_missing_is_refused(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libiotkit.so").write_bytes(b"")
    r = run_build_script({"IOTKIT_PREFIX": str(tmp_path)})
    assert r.returncode != 0
    assert "headers not found" in r.stderr


@pytest.mark.skipif(not os.environ.get("IOTKIT_BUILD_DIR"), reason="needs IOTKIT_BUILD_DIR (scripts/test-python.sh sets it)")
def test_build_tree_is_found():
    r = run_build_script({"IOTKIT_BUILD_DIR": os.environ["IOTKIT_BUILD_DIR"]})
    assert r.returncode == 0, r.stderr
