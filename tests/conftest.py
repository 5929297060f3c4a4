"""Every Ray instance the tests start listens on loopback only, as a search's own does.

Tests that call ``ray.init`` themselves (the fault drills) would otherwise start a node on
the machine's address, and Ray, once imported, keeps that for the process: the settings
archsearch gives a local instance go into the environment before any test imports Ray.
"""

import os

from archsearch.ray_executor import LOCAL_ENV

for key, value in LOCAL_ENV.items():
    os.environ.setdefault(key, value)
