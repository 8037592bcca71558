"""The Evidence dashboards (reports/), built offline by `subsidy dashboards build` and opened in headless Chromium.

One small warehouse (a copy of the generated sample with problems, audited) is built into the site once; `subsidy
dashboards serve` serves it on 127.0.0.1 and every test drives Debian's Chromium against it. Screenshots of each
page are saved under test-artifacts/dashboards/ (not committed). The last tests check the build's refusals: they
remove reports/build, so they run after the others, in this module (one worker under pytest-xdist).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import http.server
import json
import re
import subprocess
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from helpers import BIN, PROJECT_DIR, copy_build, launch_chromium, message_lines, run_cli
from playwright.sync_api import Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from subsidy_warehouse.dashboards import SOURCES_DATA, SiteHandler, evidence_env

SITE = PROJECT_DIR / "reports" / "build"
ARTIFACTS = PROJECT_DIR / "test-artifacts" / "dashboards"
PAGES = {
    "overview": "/",
    "years": "/years",
    "bureaus": "/bureaus",
    "measures": "/measures",
    "companies": "/companies",
    "findings": "/findings",
    "quality": "/quality",
    "readings": "/readings",
}
PRERENDERED = 5
CHART_PAGES = {"overview", "years", "bureaus", "measures", "findings", "readings"}
RESIDENT_ID = re.compile(r"(?<!\d)\d{6}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])")


@pytest.fixture(scope="module")
def dashboard_warehouse(sample_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboards")
    warehouse = copy_build(sample_build, root)  # the generated sample, built once per test run (conftest)
    audited = run_cli("audit", "--warehouse", str(warehouse))
    assert audited.returncode == 1, audited.stderr  # the sample has fatal findings on purpose
    # few prerendered company pages, so that the others are rendered in the browser through the fallback page
    built = run_cli("dashboards", "build", "--warehouse", str(warehouse), "--company-pages", str(PRERENDERED))
    assert built.returncode == 0, built.stderr
    assert f"{PRERENDERED} company pages prerendered" in built.stdout
    assert "Audit shown on 数据质量: " + str(root / "audits") in built.stdout
    return warehouse


@pytest.fixture(scope="module")
def site_url(dashboard_warehouse: Path):
    server = subprocess.Popen(
        [str(BIN / "subsidy"), "dashboards", "serve", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    line = server.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert match, line
    yield match.group(0)
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(site_url: str):
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def new_page(browser, site_url: str) -> Page:
    """A page in a fresh Chromium context; `page.problems` collects console errors, page errors and any request
    that leaves site_url."""
    context = browser.new_context(viewport={"width": 1300, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on(
        "request",
        lambda r: None if r.url.startswith(site_url) else page.problems.append(f"request outside localhost: {r.url}"),
    )
    return page


@pytest.fixture()
def page(browser, site_url: str):
    page = new_page(browser, site_url)
    yield page
    page.context.close()


@contextlib.contextmanager
def served(folder: Path):
    """`folder` served as `subsidy dashboards serve` serves a site, on a free port of 127.0.0.1: yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SiteHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


# The number a BigValue shows, as the page draws it: its text without the title, first line, no separators.
SHOWN_NUMBER_JS = "(element, title) => element.innerText.replace(title, '').trim().split('\\n')[0].replaceAll(',', '')"


def big_value_box(page: Page, title: str) -> Locator:
    """The BigValue under `title`, once it has drawn a number (a loaded machine can finish loading the network
    before the component has drawn its value)."""
    box = page.get_by_text(title, exact=True).first.locator("xpath=..")
    box.wait_for()
    page.wait_for_function(
        f"([element, title]) => /[0-9]/.test(({SHOWN_NUMBER_JS})(element, title))", arg=[box.element_handle(), title]
    )
    return box


def wait_until(page: Page, condition_js: str, arg: object, timeout_ms: int = 15_000) -> None:
    """Wait at most `timeout_ms` for `condition_js(arg)` to hold in the page. The caller then asserts what the page
    shows: a page that never gets there fails on that assertion, with what it shows instead of a timeout."""
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(condition_js, arg=arg, timeout=timeout_ms)


def settled_big_value(page: Page, title: str, expected: Decimal) -> Decimal:
    """The number (万元, separators removed) a BigValue shows once it shows `expected` (or after wait_until's
    timeout). The page draws a value for every state of its inputs while they settle (the year dropdown selects
    every year after the first query, a filter's query finishes after networkidle), so reading it once can read a
    passing state."""
    box = big_value_box(page, title)
    condition = f"([element, title, expected]) => ({SHOWN_NUMBER_JS})(element, title) === expected"
    wait_until(page, condition, [box.element_handle(), title, str(expected)])
    return Decimal(box.evaluate(f"(element, title) => ({SHOWN_NUMBER_JS})(element, title)", title))


def wait_for_texts(page: Page, texts: list[str]) -> None:
    """Wait until the page shows every one of `texts` (wait_until): a loaded machine can draw a table after the
    network is idle."""
    wait_until(page, "(texts) => texts.every(text => document.body.innerText.includes(text))", texts)


def wan(amount: Decimal) -> Decimal:
    return (amount / 10000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def query_one(warehouse: Path, sql: str, *params):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchone()


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_offline_without_errors(name: str, page: Page, site_url: str) -> None:
    open_page(page, site_url + PAGES[name])
    page.wait_for_timeout(500)
    assert page.locator("h1").first.is_visible()
    if name in CHART_PAGES:  # a loaded machine draws the charts after the network is idle: wait for one
        page.locator("[_echarts_instance_] canvas, [_echarts_instance_] svg").first.wait_for()
        charts = page.locator("[_echarts_instance_]")
        assert charts.count() > 0, "no chart rendered"
        assert charts.first.locator("canvas, svg").count() > 0
    assert "Error" not in page.locator("article, main").first.inner_text()
    page.get_by_text("上城区人工智能先导区").first.wait_for()
    assert english_words(page.locator("body").inner_text()) == set()
    # every table fits the 1300-pixel window (new_page's viewport): none is wider than what holds it
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('table')]"
        ".filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).map(t => t.innerText.slice(0, 40))"
    )
    assert clipped == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert page.problems == []


def test_overview_total_equals_the_warehouse(page: Page, site_url: str, dashboard_warehouse: Path) -> None:
    open_page(page, site_url + "/")
    (approved, paid) = query_one(
        dashboard_warehouse, "select sum(approved_amount), sum(disbursed_amount) from marts.fct_awards"
    )
    assert settled_big_value(page, "核定金额（万元）", wan(approved)) == wan(approved)
    assert settled_big_value(page, "已拨付（万元）", wan(paid)) == wan(paid)
    assert page.problems == []


def test_bureau_filter_shows_that_bureaus_numbers(page: Page, site_url: str, dashboard_warehouse: Path) -> None:
    open_page(page, site_url + "/")
    (everyone,) = query_one(dashboard_warehouse, "select sum(approved_amount) from marts.fct_awards")
    bureau = "区科技局"
    (approved,) = query_one(
        dashboard_warehouse, "select sum(approved_amount) from marts.fct_awards where approving_bureau = ?", bureau
    )
    assert wan(approved) != wan(everyone)
    # every bureau's total first: a filter chosen while the page still settles its first state could be overdrawn
    assert settled_big_value(page, "核定金额（万元）", wan(everyone)) == wan(everyone)
    page.get_by_role("combobox", name="部门").click()
    page.get_by_role("option", name=bureau, exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_load_state("networkidle")
    assert settled_big_value(page, "核定金额（万元）", wan(approved)) == wan(approved)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-filtered-by-bureau.png"), full_page=False)
    assert page.problems == []


def company_with_a_few_awards(warehouse: Path, prerendered: bool) -> tuple[str, str, set[str]]:
    """A company with 2–50 awards (the page lists the 50 most recent) whose page was (or was not) prerendered."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        candidates = con.execute(
            "select beneficiary_id, any_value(beneficiary_name), list(application_id) from marts.fct_awards "
            "where beneficiary_id like '91%' or beneficiary_id like '52%' or beneficiary_id like '12%' "
            "group by 1 having count(*) between 2 and 50 order by count(*), 1"
        ).fetchall()
    for beneficiary_id, name, applications in candidates:
        if (SITE / "companies" / beneficiary_id).exists() == prerendered:
            return beneficiary_id, name, set(applications)
    raise AssertionError(f"no company with 2–50 awards and prerendered={prerendered}")


@pytest.mark.parametrize("prerendered", [True, False], ids=["prerendered", "rendered-in-browser"])
def test_company_page_shows_that_companys_awards(
    prerendered: bool, page: Page, site_url: str, dashboard_warehouse: Path
) -> None:
    beneficiary_id, name, expected = company_with_a_few_awards(dashboard_warehouse, prerendered)
    open_page(page, f"{site_url}/companies/{beneficiary_id}")
    page.get_by_text("核定项目（按条款与年度）").first.wait_for()
    page.wait_for_function("(name) => document.body.innerText.includes(name)", arg=name)
    wait_for_texts(page, sorted(expected))  # the awards table is its own query, drawn after the name
    text = page.locator("body").inner_text()
    shown = set(re.findall(r"SQ[0-9A-Z]+", text.split("核定项目（按条款与年度）")[1].split("拨付记录")[0]))
    assert shown == expected
    assert english_words(text) == set()  # the other pages are checked by test_page_loads_offline_without_errors
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS / f"company-{'prerendered' if prerendered else 'in-browser'}.png"), full_page=True
    )
    assert page.problems == []


def test_company_list_links_to_company_pages(page: Page, site_url: str) -> None:
    open_page(page, site_url + "/companies")
    page.get_by_role("textbox", name="搜索").fill("研究院")
    page.wait_for_function(  # the search has filtered the table: every row shown names the term
        "(term) => { const rows = [...document.querySelectorAll('tr.row-link')].filter(r => r.offsetParent);"
        " return rows.length > 0 && rows.every(r => r.innerText.includes(term)); }",
        arg="研究院",
    )
    page.locator("tr.row-link:visible").first.click()
    page.wait_for_url(re.compile(r"/companies/[0-9A-Za-z]+/?$"))
    assert "研究院" in page.locator("h1").nth(1).inner_text()
    assert page.problems == []


def site_sources() -> dict[str, Path]:
    """The parquet file of every Evidence source in the built site, by source name."""
    return {path.stem: path for path in (SITE / "data").rglob("*.parquet")}


def read_source(con: duckdb.DuckDBPyConnection, source: str, sql: str = "select count(*) from data") -> list[tuple]:
    """`sql` over one source's parquet file in the site (as the view `data`)."""
    con.execute(f"create or replace view data as select * from read_parquet('{site_sources()[source]}')")
    return con.execute(sql).fetchall()


# How many rows each source has, from the marts of the warehouse shown: its grain, or its bound per group. A source
# not listed here or in POLICY_SIZED (a row-level copy of a fact table, say) fails the test.
SOURCE_ROWS = {
    "award_totals": "select count(*) from (select distinct award_year, approving_bureau, clause_code "
    "from marts.fct_awards)",
    "award_years": "select count(distinct award_year) from marts.fct_awards",
    "monthly_payments": "select count(*) from (select distinct award_year, paying_bureau, paid_month "
    "from marts.fct_disbursements)",
    "beneficiaries": "select count(*) from marts.dim_beneficiaries",
    "company_awards": "select sum(least(n, 50)) from (select count(*) as n from marts.fct_awards "
    "where beneficiary_id is not null group by beneficiary_id)",
    "company_payments": "select sum(least(n, 50)) from (select count(*) as n from marts.fct_disbursements "
    "where beneficiary_id is not null group by beneficiary_id)",
    "company_findings": "select sum(least(n, 10)) from (select count(*) as n from audit.exceptions "
    "where beneficiary_id is not null group by beneficiary_id)",
    "company_cap_room": "select count(*) from marts.agg_cap_utilization where annual_cap is not null",
    "findings": "select sum(least(n, 200)) from (select count(*) as n from audit.exceptions "
    "group by rule_code, coalesce(bureau, '（未知）'))",
    "finding_totals": "select count(*) from (select distinct rule_code, severity, coalesce(bureau, '（未知）') "
    "from audit.exceptions)",
    "open_balances": "select sum(least(n, 20)) from (select count(*) as n from marts.fct_awards "
    "where open_balance_amount > 0 group by approving_bureau)",
    # ten per set of years (every non-empty set) and bureau choice ('%' = all): fewer where fewer beneficiaries
    "top_beneficiaries": "with years as (select award_year, dense_rank() over (order by award_year) - 1 as bit "
    "from (select distinct award_year from marts.fct_awards)), "
    "choices as (select distinct approving_bureau as bureau from marts.fct_awards union select '%') "
    "select sum(least(n, 10)) from (select count(distinct a.beneficiary_id) as n "
    "from range(1, cast(2 ** (select count(*) from years) as bigint)) as m, choices as c, marts.fct_awards as a "
    "inner join years as y on a.award_year = y.award_year "
    "where a.approving_bureau like c.bureau and (m.range >> y.bit) & 1 = 1 group by m.range, c.bureau)",
    "cap_use": "select count(*) from (select distinct award_year, clause_code, "
    "coalesce(least(floor(annual_cap_share_used * 4), 4), 4) from marts.agg_cap_utilization "
    "where annual_cap is not null)",
    "clauses": "select count(*) from marts.dim_clauses",
    "audit_rules": "select count(*) from audit.audit_rules",
}
# sized by the policy and the rule catalogue, not by the records
POLICY_SIZED = {"audit_verdict", "policy_readings", "reading_sets", "reading_budget"}


def test_every_source_has_the_rows_of_its_grain(dashboard_warehouse: Path) -> None:
    sources = site_sources()
    assert set(sources) - set(SOURCE_ROWS) - POLICY_SIZED == set(), "a source with no declared grain"
    with duckdb.connect(str(dashboard_warehouse), read_only=True) as warehouse, duckdb.connect() as site:
        for source, sql in SOURCE_ROWS.items():
            (expected,) = warehouse.execute(sql).fetchone()
            assert read_source(site, source) == [(expected or 0,)], source
        for source in POLICY_SIZED:
            assert 0 < read_source(site, source)[0][0] <= 1000, source
        (awards,) = warehouse.execute("select count(*) from marts.fct_awards").fetchone()
        # even on this small sample the totals have far fewer rows than the awards they sum
        assert read_source(site, "award_totals")[0][0] < awards / 2


def test_source_totals_equal_the_marts(dashboard_warehouse: Path) -> None:
    money = ("approved_wan", "within_cap_wan", "over_cap_wan", "disbursed_wan", "open_balance_wan")
    with duckdb.connect(str(dashboard_warehouse), read_only=True) as warehouse, duckdb.connect() as site:
        count, *amounts = warehouse.execute(
            "select count(*), sum(approved_amount), sum(within_cap_amount), sum(over_cap_amount), "
            "sum(disbursed_amount), sum(open_balance_amount) from marts.fct_awards"
        ).fetchone()
        expected = dict(zip(money, map(wan, amounts), strict=True))
        sums = ", ".join(f"round(sum({column}), 2)" for column in money)
        assert rounded(read_source(site, "award_totals", f"select sum(award_count), {sums} from data")[0]) == (
            count, *expected.values()
        )
        sums = ", ".join(f"round(sum({column}), 2)" for column in ("approved_wan", "disbursed_wan", "open_balance_wan"))
        assert rounded(read_source(site, "beneficiaries", f"select sum(award_count), {sums} from data")[0]) == (
            count, expected["approved_wan"], expected["disbursed_wan"], expected["open_balance_wan"]
        )
        (paid,) = warehouse.execute("select sum(signed_amount) from marts.fct_disbursements").fetchone()
        assert rounded(read_source(site, "monthly_payments", "select round(sum(paid_wan), 2) from data")[0]) == (
            wan(paid),
        )
        findings, at_issue = warehouse.execute("select count(*), sum(amount_at_issue) from audit.exceptions").fetchone()
        assert rounded(
            read_source(site, "finding_totals", "select sum(finding_count), round(sum(amount_wan), 2) from data")[0]
        ) == (findings, wan(at_issue))
        # the ten largest beneficiaries of every year and bureau, as the marts rank them
        top = warehouse.execute(
            "select beneficiary_id from marts.fct_awards group by 1 order by sum(approved_amount) desc, 1 limit 10"
        ).fetchall()
        shown = read_source(
            site, "top_beneficiaries", "select beneficiary_id from data where bureau_choice = '%' "
            "and year_mask = (select max(year_mask) from data) order by rank_no",
        )  # fmt: skip
        assert shown == top


def test_sources_are_what_evidences_own_sources_step_writes(dashboard_warehouse: Path, tmp_path: Path) -> None:
    """`subsidy dashboards build` writes the sources itself (write_sources); Evidence's `sources` step, run on the same
    copy of the warehouse, must write the same columns, types and rows in the same order, and the same manifest."""
    reports = PROJECT_DIR / "reports"
    theirs = tmp_path / "data"
    completed = subprocess.run(
        ["npx", "--no-install", "evidence", "sources"],
        cwd=reports, env={**evidence_env(), "EVIDENCE_DATA_DIR": str(theirs)}, capture_output=True, text=True,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    ours = sorted(SITE.joinpath("data").rglob("*.parquet"))
    assert {p.stem for p in ours} == {p.stem for p in theirs.rglob("*.parquet")} == set(SOURCE_ROWS) | POLICY_SIZED
    with duckdb.connect() as con:
        for parquet in ours:
            (their_parquet,) = theirs.rglob(parquet.name)
            compared = [
                con.sql(f"select row_number() over () as row_no, * from read_parquet('{path}')")
                for path in (parquet, their_parquet)
            ]
            assert compared[0].types == compared[1].types, parquet.stem
            assert compared[0].fetchall() == compared[1].fetchall(), parquet.stem
            schema = parquet.stem + ".schema.json"
            (our_schema,), (their_schema,) = (list(folder.rglob(schema)) for folder in (reports / SOURCES_DATA, theirs))
            assert our_schema.read_text(encoding="utf-8") == their_schema.read_text(encoding="utf-8"), schema
    manifest = json.loads((reports / SOURCES_DATA / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["renderedFiles"] == json.loads((theirs / "manifest.json").read_text())["renderedFiles"]


def rounded(row: tuple) -> tuple:
    """A row read from parquet (Evidence stores every number as a double) as Decimals to the cent."""
    return tuple(Decimal(str(v)).quantize(Decimal("0.01")) if isinstance(v, float) else v for v in row)


def test_no_personal_id_reaches_the_site(dashboard_warehouse: Path) -> None:
    with duckdb.connect(str(dashboard_warehouse), read_only=True) as con:
        personal = {
            r[0]
            for r in con.execute(
                "select beneficiary_id from raw.beneficiaries where id_type in ('resident_id', 'passport')"
            ).fetchall()
        }
    assert personal
    parquet_files = sorted((SITE / "data").rglob("*.parquet"))
    assert parquet_files, "the site carries no data"
    values: list[str] = []
    with duckdb.connect() as con:
        for parquet in parquet_files:
            relation = con.sql(f"select * from read_parquet('{parquet}')")
            text_columns = [c for c, t in zip(relation.columns, relation.types, strict=True) if str(t) == "VARCHAR"]
            for column in text_columns:
                values += [
                    v
                    for (v,) in con.execute(
                        f'select distinct "{column}" from read_parquet(?)', [str(parquet)]
                    ).fetchall()
                    if v
                ]
    assert not personal & set(values)
    assert not [v for v in values if RESIDENT_ID.search(v)]
    # prerendered pages and scripts carry no ID either
    for path in SITE.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".js", ".json"}:
            text = path.read_text(encoding="utf-8", errors="ignore")
            assert not [number for number in personal if number in text], path


# What a page may show that is not Chinese: codes and ids (letters with digits: M02-3, SQ2025…, 9133…), all-capital
# abbreviations (LPR, AI, GB, USCC fragments), file names and dotted table names, and these proper names.
ALLOWED_WORDS = {"dbt", "Great", "Expectations"}
ASCII_RUN = re.compile(r"[A-Za-z0-9_./|'-]+")


def english_words(text: str) -> set[str]:
    """Runs of ASCII letters a reader would have to read as English: not a code or id (a digit), a path, file
    or table name (/ or .), an all-capital abbreviation, or an allowed name."""
    runs = {run.strip("'-") for run in ASCII_RUN.findall(text)}
    return {
        run
        for run in runs
        if sum(c.isalpha() for c in run) >= 2
        and not any(c.isdigit() or c in "/." for c in run)
        and not run.isupper()
        and run not in ALLOWED_WORDS
    }


def test_english_words_outside_the_allow_list_are_found() -> None:
    assert english_words("over_cap 超过政策上限 Home 5 Selected") == {"over_cap", "Home", "Selected"}
    assert english_words("M02-3 LPR 91330102MA27XK1A0H audit.exceptions report.html dbt") == set()
    assert english_words("贷款期限超过5年Home页，主体enterprise|institution") == {"Home", "enterprise|institution"}


def test_readings_page_shows_each_prepared_set(page: Page, site_url: str, dashboard_warehouse: Path) -> None:
    from subsidy_warehouse.simulate import prepared_reading_sets, simulator

    with simulator(dashboard_warehouse) as sim:
        names = [name for _, name, _ in prepared_reading_sets(sim.options, sim.labels)]
    open_page(page, site_url + "/readings")
    wait_for_texts(page, names)
    text = page.locator("body").inner_text()
    assert len(names) >= 10
    assert all(name in text for name in names)
    assert "M02-3" in text and "单家企业最高3000万元" in text
    assert page.problems == []


# The build's refusals. Evidence prints "Error in Query" for a page query that fails and still exits 0;
# the wrapper must fail. These rebuild or remove reports/build, so they come last.

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


# What a real warehouse can have none of: findings (a clean audit), open balances, cap use or payments (a new year).
# Each empties these sources, which must still build and show an empty table or chart, not break the site.
EMPTIED = {
    "delete from audit.exceptions": {"findings", "finding_totals", "company_findings"},
    "update marts.fct_awards set open_balance_amount = 0": {"open_balances"},
    "delete from marts.agg_cap_utilization": {"company_cap_room", "cap_use"},
    "delete from marts.fct_disbursements": {"monthly_payments", "company_payments"},
}
# Where Evidence's build writes the site before it is copied to reports/build (which the refused build removes).
EVIDENCE_SITE = PROJECT_DIR / "reports" / ".evidence" / "template" / "build"


def test_a_failing_page_query_fails_the_build_and_empty_sources_do_not(
    broken_page: Path, sample_warehouse: Path, tmp_path: Path, browser
) -> None:
    """One build for two refusals: the broken page must fail it, and sources with no rows must not (this build is
    the one that proves it, so that the module needs no third Evidence build)."""
    # named as the module's other warehouse: the cap models' SQL dbt compiled for its build is reused (compiled_once)
    warehouse = copy_build(sample_warehouse.parent, tmp_path / "empty-sources")
    with duckdb.connect(str(warehouse)) as con:
        for statement in EMPTIED:
            con.execute(statement)
    completed = run_cli("dashboards", "build", "--warehouse", str(warehouse), "--company-pages", "1")
    assert completed.returncode == 2, completed.stdout
    assert "Traceback" not in completed.stderr
    assert not (PROJECT_DIR / "reports" / "build").exists(), "a broken site was left behind"
    # the error names every failing query: the broken page's, and nothing the empty sources did
    (message,) = message_lines(completed.stderr)
    failures = message.split("failed: ", 1)[1].split("; ")
    assert failures and all("no_such_table" in failure for failure in failures), message
    emptied = set().union(*EMPTIED.values())
    with duckdb.connect() as con:
        for source in emptied:
            (parquet,) = (PROJECT_DIR / "reports" / SOURCES_DATA).rglob(f"{source}.parquet")
            relation = con.sql(f"select * from read_parquet('{parquet}')")
            assert relation.fetchall() == [] and len(relation.columns) > 1, source
    # every other page was built from them: each opens in Chromium without an error, empty parts say so in Chinese
    # the prerendered company page (its stored query results are in the site; `serve` would answer for the others)
    (company,) = json.loads((PROJECT_DIR / "reports" / ".company-pages.json").read_text(encoding="utf-8"))
    company = company.removeprefix("/companies/")
    with served(EVIDENCE_SITE) as url:
        for path in [*PAGES.values(), f"/companies/{company}"]:
            page = new_page(browser, url)
            open_page(page, url + path)
            page.get_by_text("上城区人工智能先导区").first.wait_for()
            page.wait_for_timeout(500)
            text = page.locator("article, main").first.inner_text()
            # this warehouse has no audit: 数据质量 names the command to run, `subsidy audit`
            body = page.locator("body").inner_text().replace("subsidy audit", "")
            assert "Error" not in text and english_words(body) == set(), path
            if path in {"/findings", "/bureaus", f"/companies/{company}"}:
                assert "暂无数据" in text, path
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"empty-sources{path.replace('/', '-')}.png"), full_page=True)
            assert page.problems == [], path
            page.context.close()


def test_build_without_a_warehouse_says_why(tmp_path: Path) -> None:
    completed = run_cli("dashboards", "build", "--warehouse", str(tmp_path / "missing.duckdb"))
    assert completed.returncode == 2
    assert "does not exist" in completed.stderr and len(message_lines(completed.stderr)) == 1


def test_a_second_build_waits_for_the_first(tmp_path: Path) -> None:
    # builds share reports/ (data source, build folder): one holds the lock, the next one waits for it
    with (PROJECT_DIR / "reports" / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        waiting = subprocess.Popen(
            [str(BIN / "subsidy"), "dashboards", "build", "--warehouse", str(tmp_path / "missing.duckdb")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        lines: list[str] = []
        said_it_waits = threading.Event()

        def read_stderr() -> None:
            for line in waiting.stderr:
                lines.append(line)
                if "waiting for another dashboards build" in line:
                    said_it_waits.set()

        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        said = said_it_waits.wait(timeout=60)
        time.sleep(1)
        still_waiting = waiting.poll() is None
        fcntl.flock(lock, fcntl.LOCK_UN)
    waiting.wait(timeout=60)
    reader.join(timeout=10)
    stderr = "".join(lines)
    assert said and still_waiting, stderr  # it said it waits, and went on waiting while the lock was held
    assert waiting.returncode == 2 and "does not exist" in stderr  # then it ran, and said why it could not
