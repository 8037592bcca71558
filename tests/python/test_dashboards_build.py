"""`subsidy dashboards build` refuses to hand over a broken site or to run without its inputs.

Evidence prints "Error in Query" for a page query that fails and still exits 0; the wrapper must fail.
(Runs after test_dashboards.py: it rebuilds reports/build.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PROJECT_DIR, message_lines, run_cli

BROKEN_PAGE = PROJECT_DIR / "reports" / "pages" / "zz_broken_query_test.md"


@pytest.fixture()
def broken_page():
    BROKEN_PAGE.write_text(
        "---\ntitle: 测试用错误页\n---\n\n```sql missing\nselect * from warehouse.no_such_table\n```\n\n"
        "<DataTable data={missing} />\n",
        encoding="utf-8",
    )
    yield BROKEN_PAGE
    BROKEN_PAGE.unlink(missing_ok=True)


def test_a_failing_page_query_fails_the_build(broken_page: Path, sample_warehouse: Path) -> None:
    completed = run_cli("dashboards", "build", "--warehouse", str(sample_warehouse))
    assert completed.returncode == 2, completed.stdout
    assert "Error in Query" in completed.stderr or "no_such_table" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (PROJECT_DIR / "reports" / "build").exists(), "a broken site was left behind"


def test_build_without_a_warehouse_says_why(tmp_path: Path) -> None:
    completed = run_cli("dashboards", "build", "--warehouse", str(tmp_path / "missing.duckdb"))
    assert completed.returncode == 2
    assert "does not exist" in completed.stderr and len(message_lines(completed.stderr)) == 1


def test_a_second_build_waits_for_the_first(tmp_path: Path) -> None:
    # builds share reports/ (data source, build folder): one holds the lock, the next one waits for it
    import fcntl
    import subprocess
    import time

    from helpers import BIN

    with (PROJECT_DIR / "reports" / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        waiting = subprocess.Popen(
            [str(BIN / "subsidy"), "dashboards", "build", "--warehouse", str(tmp_path / "missing.duckdb")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(5)
        still_waiting = waiting.poll() is None
        fcntl.flock(lock, fcntl.LOCK_UN)
    _, stderr = waiting.communicate(timeout=60)
    assert still_waiting, stderr
    assert "waiting for another dashboards build" in stderr
    assert waiting.returncode == 2 and "does not exist" in stderr  # then it ran, and said why it could not
