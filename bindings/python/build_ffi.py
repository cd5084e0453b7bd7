"""cffi build script (API mode, out of line) for the ``iotkit._iotkit`` extension.

Where libiotkit is looked for, first match wins:

1. ``IOTKIT_BUILD_DIR``: a CMake build tree of libiotkit (headers from its
   source tree, ``libiotkit.so`` from the build tree);
2. ``IOTKIT_PREFIX``: an install prefix (``<prefix>/include``, ``<prefix>/lib*``);
3. ``pkg-config iotkit`` (set ``PKG_CONFIG_PATH`` for a non-system prefix).

The extension records the library directory as its run path, so no
``LD_LIBRARY_PATH`` is needed afterwards. The declarations given to cffi are
the files of ``src/iotkit/_cdef/`` (one per area, in name order) plus the error
codes, read from ``iotkit/error.h`` so they can never drift from the C enum.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
MIN_VERSION = (0, 2, 0)


class LibiotkitNotFound(RuntimeError):
    """libiotkit or its headers are missing or too old."""


def _fail(msg):
    raise LibiotkitNotFound(
        "iotkit: " + msg + "\n"
        "  Build or install libiotkit first (see the top-level README), then point the build at it with one of:\n"
        "    IOTKIT_BUILD_DIR=/path/to/libiotkit/build   (a CMake build tree)\n"
        "    IOTKIT_PREFIX=/usr/local                     (an install prefix)\n"
        "    PKG_CONFIG_PATH=<prefix>/lib/pkgconfig       (pkg-config iotkit)")


def _from_build_dir(build):
    cache = os.path.join(build, "CMakeCache.txt")
    if not os.path.isfile(cache):
        _fail("IOTKIT_BUILD_DIR=%s is not a CMake build tree (no CMakeCache.txt)" % build)
    src = None
    with open(cache) as f:
        for line in f:
            if line.startswith("CMAKE_HOME_DIRECTORY:INTERNAL="):
                src = line.split("=", 1)[1].strip()
    if not src:
        _fail("cannot find the source tree of the build tree %s" % build)
    return os.path.join(src, "include"), os.path.abspath(build)


def _from_prefix(prefix):
    inc = os.path.join(prefix, "include")
    for libdir in [os.path.join(prefix, "lib")] + sorted(glob.glob(os.path.join(prefix, "lib*"))) + \
            sorted(glob.glob(os.path.join(prefix, "lib", "*-linux-gnu*"))):
        if glob.glob(os.path.join(libdir, "libiotkit.so*")):
            return inc, os.path.abspath(libdir)
    _fail("no libiotkit.so under IOTKIT_PREFIX=%s" % prefix)


def _from_pkg_config():
    if not shutil.which("pkg-config"):
        _fail("libiotkit not found: IOTKIT_BUILD_DIR and IOTKIT_PREFIX are unset and pkg-config is missing")
    try:
        cflags = subprocess.check_output(["pkg-config", "--cflags-only-I", "iotkit"], text=True,
                                         stderr=subprocess.PIPE).split()
        libs = subprocess.check_output(["pkg-config", "--libs-only-L", "iotkit"], text=True).split()
    except subprocess.CalledProcessError as e:
        _fail("pkg-config cannot find iotkit (%s)" % e.stderr.strip())
    inc = next((c[2:] for c in cflags if c.startswith("-I")), "/usr/include")
    libdir = next((l[2:] for l in libs if l.startswith("-L")), None)
    return inc, libdir


def find_libiotkit():
    """(include_dir, library_dir or None) of the libiotkit to build against."""
    if os.environ.get("IOTKIT_BUILD_DIR"):
        inc, libdir = _from_build_dir(os.environ["IOTKIT_BUILD_DIR"])
    elif os.environ.get("IOTKIT_PREFIX"):
        inc, libdir = _from_prefix(os.environ["IOTKIT_PREFIX"])
    else:
        inc, libdir = _from_pkg_config()
    core = os.path.join(inc, "iotkit", "core.h")
    if not os.path.isfile(core):
        _fail("headers not found: %s is missing" % core)
    with open(core) as f:
        text = f.read()
    parts = [re.search(r"#define IOTKIT_VERSION_%s (\d+)" % p, text) for p in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        _fail("%s does not say its version" % core)
    version = tuple(int(m.group(1)) for m in parts)
    if version < MIN_VERSION:
        _fail("libiotkit %s at %s is too old: these bindings need %s or newer" %
              (".".join(map(str, version)), inc, ".".join(map(str, MIN_VERSION))))
    return inc, libdir


def error_cdef(inc):
    """The iotkit_err_t enum with its values, from the X-macro of error.h."""
    with open(os.path.join(inc, "iotkit", "error.h")) as f:
        pairs = re.findall(r"XX\((\w+), (-?\d+),", f.read())
    if not pairs:
        _fail("cannot read the error codes of iotkit/error.h")
    body = ",\n".join("  IOTKIT_%s = %s" % p for p in pairs)
    return "typedef enum iotkit_err {\n%s\n} iotkit_err_t;\n" % body


def cdef_text(inc):
    parts = [error_cdef(inc)]
    for path in sorted(glob.glob(os.path.join(HERE, "src", "iotkit", "_cdef", "*.h"))):
        with open(path) as f:
            parts.append(f.read())
    return "\n".join(parts)


INCLUDE_DIR, LIBRARY_DIR = find_libiotkit()

ffibuilder = FFI()
ffibuilder.cdef(cdef_text(INCLUDE_DIR))
# The helpers of src/iotkit/_cdef/90_helpers.h: the message id (>= 0) or the error
# code (< 0) as one return value, so a send allocates nothing in Python.
HELPERS = r"""
#include "iotkit/iotkit.h"

static int64_t _iotkit_py_send_telemetry(iotkit_device_t *dev, const void *payload, size_t len) {
  uint32_t id = 0;
  iotkit_err_t err = iotkit_device_send_telemetry(dev, payload, len, &id);
  return err != IOTKIT_OK ? (int64_t)err : (int64_t)id;
}

static int64_t _iotkit_py_publish(iotkit_device_t *dev, const char *suffix, const void *payload, size_t len,
                                  int qos, bool retain) {
  uint32_t id = 0;
  iotkit_err_t err = iotkit_device_publish(dev, suffix, payload, len, qos, retain, &id);
  return err != IOTKIT_OK ? (int64_t)err : (int64_t)id;
}
"""

ffibuilder.set_source(
    "iotkit._iotkit",
    HELPERS,
    include_dirs=[INCLUDE_DIR],
    library_dirs=[LIBRARY_DIR] if LIBRARY_DIR else [],
    runtime_library_dirs=[LIBRARY_DIR] if LIBRARY_DIR else [],
    libraries=["iotkit"],
    extra_compile_args=["-std=c11", "-Wno-unused-parameter"],
)

if __name__ == "__main__":
    try:
        ffibuilder.compile(verbose=True)
    except LibiotkitNotFound as e:
        sys.exit(str(e))
