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
    "tests.listing_api_helpers",
)

pytest_plugins = ["tests.fixtures"]
