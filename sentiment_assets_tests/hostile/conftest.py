"""The crawl tests' replay site (real HTTP on 127.0.0.1, frozen clock, a fault hook) for these."""

from sentiment_assets_tests.crawl.conftest import faults, server, site

__all__ = ["faults", "server", "site"]
