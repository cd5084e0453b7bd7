"""Build glue: the cffi extension (API mode, out of line) is declared here
because setuptools reads ``cffi_modules`` from setup() only; the metadata is in
pyproject.toml."""
from setuptools import setup

setup(cffi_modules=["build_ffi.py:ffibuilder"])
