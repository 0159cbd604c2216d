"""Outages: an upstream that is down, slow, failing or rate-limiting; offline mode; crashes.

What the mirror promises here is written down in one place: what is cached keeps being served,
what is not is a 5xx with Retry-After (never a 404), and gated bytes go only to tokens
upstream confirmed. The tests range from one request over raw HTTP to real clients.
"""

from tests.e2e.conftest import cold_endpoint, home, new_home  # noqa: F401 - fixtures
