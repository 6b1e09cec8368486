"""The test suite's pytest configuration: the shared fixtures come from tests/fixtures.py."""

import pytest

# Modules that hold fixtures or helpers with asserts, registered before anything imports them so
# that their failed asserts explain themselves like a test's.
pytest.register_assert_rewrite(
    "tests.fixtures",
    "tests.support",
    "tests.browser.support",
    "tests.billing_helpers",
    "tests.billing_document_helpers",
    "tests.lead_helpers",
    "tests.listing_import_helpers",
    "tests.listing_page_helpers",
)

pytest_plugins = ["tests.fixtures"]

# `host` is here only for test_search_api.py, test_search_pages.py and browser/test_search_map.py,
# which import it from this conftest until the search split imports it from tests.support; then
# this line goes.
from tests.support import host  # noqa: E402, F401
