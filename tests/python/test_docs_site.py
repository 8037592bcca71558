"""`subsidy docs build|serve`: dbt's documentation as one page that opens offline in headless Chromium."""

from __future__ import annotations

import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from helpers import BIN, PROJECT_DIR, launch_chromium, message_lines, run_cli
from playwright.sync_api import sync_playwright

from subsidy_warehouse.docs_site import EXTERNAL_LOAD

pytestmark = pytest.mark.slow
ARTIFACTS = PROJECT_DIR / "test-artifacts" / "docs"


@pytest.fixture(scope="module")
def docs_index(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    built = run_cli("docs", "build", "--out", str(out), "--warehouse", str(sample_warehouse), check=True)
    assert re.search(r"Docs built in \d+ s: .*index\.html \([\d.]+ MB, opens offline\)", built.stdout), built.stdout
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    return out / "index.html"


def test_the_page_loads_nothing_from_outside(docs_index: Path) -> None:
    html = docs_index.read_text(encoding="utf-8")
    assert not EXTERNAL_LOAD.search(html)
    for tracker in ("cloudfront.net", "sinter-collect.com", "fuzzed.getdbt.com", "turn_on_tracking()"):
        assert tracker not in html


def test_opens_offline_in_chromium_with_models_lineage_and_chinese(docs_index: Path) -> None:
    outside: list[str] = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        def only_local(route) -> None:
            url = route.request.url
            if url.startswith(("file://", "data:", "blob:", "about:")) or re.match(r"https?://(127\.0\.0\.1|localhost)", url):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        page.route("**/*", only_local)
        page.goto(docs_index.as_uri())
        page.wait_for_load_state("networkidle")
        assert "上城区人工智能先导区政策资金仓库" in page.inner_text("body")  # the project's overview, in Chinese
        page.goto(docs_index.as_uri() + "#!/model/model.subsidy_warehouse.fct_awards")
        page.wait_for_selector("text=within_cap_amount", timeout=30_000)
        body = page.inner_text("body")
        assert "核定奖励事实表" in body and "上限内金额（元）" in body  # Chinese descriptions
        assert "fct_awards" in body and "binding_limit" in body  # English column names kept
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "fct_awards.png"))
        page.goto(docs_index.as_uri() + "#!/exposure/exposure.subsidy_warehouse.dashboard_overview")
        page.wait_for_selector("text=总览", timeout=30_000)
        assert "fct_awards" in page.inner_text("body")  # the page's marts, upstream of the dashboard
        page.wait_for_load_state("networkidle")
        browser.close()
    assert outside == [], outside
    assert errors == [], errors


def test_serve_on_localhost(docs_index: Path) -> None:
    server = subprocess.Popen(
        [str(BIN / "subsidy"), "docs", "serve", "--out", str(docs_index.parent), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        match = re.search(r"http://127\.0\.0\.1:\d+/", server.stdout.readline())
        assert match
        with urllib.request.urlopen(match.group(0), timeout=10) as response:
            assert response.read() == docs_index.read_bytes()
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_without_a_warehouse_says_why(tmp_path: Path) -> None:
    completed = run_cli("docs", "build", "--warehouse", str(tmp_path / "missing.duckdb"))
    assert completed.returncode == 2 and "does not exist" in completed.stderr
    assert len(message_lines(completed.stderr)) == 1
    served = run_cli("docs", "serve", "--out", str(tmp_path))
    assert served.returncode == 2 and "subsidy docs build" in served.stderr
