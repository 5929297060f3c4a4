"""The warning for a local Ray node that listens beyond loopback (it crashed on IPv4)."""

import warnings

import pytest

from archsearch.ray_executor import _warn_unless_loopback


@pytest.mark.parametrize("address", ["192.0.2.2", "2001:db8::1"])
def test_a_node_beyond_loopback_is_warned_of(address):
    with pytest.warns(RuntimeWarning, match="not only on loopback"):
        _warn_unless_loopback(address)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_a_loopback_node_is_not(address):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_unless_loopback(address)
