"""The package itself: version checks, limits, the exception hierarchy."""
import builtins

import pytest

import iotkit
from iotkit import errors


def test_library_version_matches_the_package():
    assert iotkit.library_version() == iotkit.__version__
    assert iotkit.library_version_number() == 0x000200


def test_limits_are_listed_by_name():
    lim = iotkit.limits()
    assert lim["MAX_DEVICE_ID"] >= 64
    assert lim["ERROR_TEXT_SIZE"] >= 64
    assert all(isinstance(v, int) for v in lim.values())


@pytest.mark.parametrize("code,cls,builtin", [
    (-6, iotkit.ConnectionError, builtins.ConnectionError),
    (-7, iotkit.ConnectionError, builtins.ConnectionError),
    (-22, iotkit.ConnectionError, builtins.ConnectionError),
    (-14, iotkit.AuthenticationError, None),
    (-8, iotkit.TimeoutError, builtins.TimeoutError),
    (-11, iotkit.NotFoundError, LookupError),
    (-17, iotkit.AlreadyExistsError, None),
    (-1, iotkit.InvalidArgumentError, ValueError),
    (-4, iotkit.InvalidArgumentError, ValueError),
    (-27, iotkit.VerificationError, None),
    (-25, iotkit.VerificationError, None),
    (-32, iotkit.VerificationError, None),
    (-29, iotkit.InvalidArgumentError, ValueError),
    (-38, iotkit.VerificationError, None),
    (-9, iotkit.TooLargeError, None),
    (-12, iotkit.StateError, None),
    (-36, iotkit.QueueFullError, None),
    (-3, iotkit.UnsupportedError, None),
])
def test_codes_map_to_their_family(code, cls, builtin):
    e = errors.error_for(code, "detail text")
    assert type(e) is cls
    assert isinstance(e, iotkit.IotkitError)
    if builtin:
        assert isinstance(e, builtin)
    assert e.code == code
    assert e.name.startswith("IOTKIT_ERR_")
    assert e.detail == "detail text"
    assert str(e).endswith(": detail text")


def test_unlisted_code_is_the_base_class():
    e = errors.error_for(-23)
    assert type(e) is iotkit.IotkitError
    assert e.name == "IOTKIT_ERR_CORRUPT"
    assert str(e) == "stored data is corrupt"


def test_check_passes_ok_and_raises_otherwise():
    errors.check(0)
    with pytest.raises(iotkit.TimeoutError) as ei:
        errors.check(-8, lambda: "no CONNACK")
    assert ei.value.detail == "no CONNACK"
