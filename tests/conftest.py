"""Test distribution over cores (pytest-xdist, `make test` runs `-n N --dist loadgroup`): the tests of one
module run on one worker, so a module's fixture (a real build) is built once; modules sharing a folder of
the project (reports/: the dashboards' data source and site) form one group."""

from __future__ import annotations

import pytest

SHARED_FOLDER_GROUPS = {"test_dashboards": "reports", "test_dashboards_build": "reports"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = item.path.stem
        item.add_marker(pytest.mark.xdist_group(SHARED_FOLDER_GROUPS.get(module, module)))
