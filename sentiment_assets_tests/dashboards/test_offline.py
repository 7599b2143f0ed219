"""Nothing leaves the machine: the namespace the site is built and browsed in has no way out.

The session's `built_site` runs `sentiment dashboards build` in a loopback-only network
namespace and test_site.py opens every page in Chromium inside one; this test shows that such a
namespace reaches neither the internet nor the hosts the recipe exists to avoid.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from sentiment_assets.lib.dashboards.build import BuildResult
from sentiment_assets_tests.dashboards.conftest import in_namespace

pytestmark = pytest.mark.slow

CONNECT_OUT = """
import socket
for host in ("1.1.1.1", "registry.npmjs.org", "extensions.duckdb.org"):
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError as exc:
        print(host, "unreachable:", type(exc).__name__)
    else:
        raise SystemExit(f"{host} is reachable from the namespace")
"""


@pytest.mark.timeout(1200)  # the session's build may happen in this test's setup
def test_the_build_ran_where_nothing_is_reachable(
    built_site: BuildResult, loopback_prefix: list[str] | None
) -> None:
    if loopback_prefix is None:
        pytest.skip("network namespaces (unshare --net, ip) are not permitted here")
    assert "/" in built_site.pages  # built inside the namespace by the fixture
    sealed = subprocess.run(
        [*in_namespace(loopback_prefix), sys.executable, "-c", CONNECT_OUT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert sealed.stdout.count("unreachable") == 3
