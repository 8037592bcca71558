"""`subsidy audit`: a read-only rerun of every check, its report, its verdict, and tampering it must catch.

A warehouse built from the clean sample (`generate --clean`) passes; copies of it are tampered with one
change each and must fail on the rule that names the change. The generated sample with problems fails on
its fatal data rules, and two audits of it agree on every finding and on the fingerprint.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from helpers import PROJECT_DIR, launch_chromium, run_cli, xlsx_cells
from playwright.sync_api import sync_playwright

from subsidy_warehouse.audit.report import read_report_head
from subsidy_warehouse.exports import FORMULA_TRIGGERS
from subsidy_warehouse.identifiers import find_personal_ids, mask_resident_id, resident_id_check_char

CATALOGUE = Path(__file__).parents[2] / "seeds" / "audit" / "audit_rules.csv"
ARTIFACTS = PROJECT_DIR / "test-artifacts"
RULES = [row["rule_code"] for row in csv.DictReader(CATALOGUE.open(encoding="utf-8"))]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def audit(warehouse: Path, out: Path) -> tuple[subprocess.CompletedProcess[str], Path, dict]:
    """Run `subsidy audit`; return the process, the run folder and its report.json."""
    completed = run_cli("audit", "--warehouse", str(warehouse), "--out", str(out))
    assert completed.returncode in (0, 1), completed.stderr
    run_dir = Path(completed.stdout.split("Report: ")[1].splitlines()[0]).parent
    return completed, run_dir, json.loads((run_dir / "report.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def clean_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean")
    run_cli("generate", "--clean", "--scale", "0.2", "--seed", "11", "--out", str(root / "raw"), check=True)
    warehouse = root / "warehouse.duckdb"
    run_cli("build", "--raw-dir", str(root / "raw"), "--warehouse", str(warehouse), check=True)
    return warehouse


@pytest.fixture(scope="module")
def clean_audit(clean_warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    before = sha256(clean_warehouse)
    result = audit(clean_warehouse, tmp_path_factory.mktemp("clean-audits"))
    assert sha256(clean_warehouse) == before, "the audit changed the warehouse file"
    return result


def test_clean_warehouse_passes_every_rule(clean_audit) -> None:
    completed, run_dir, report = clean_audit
    assert completed.returncode == 0
    assert "通过 PASS" in completed.stdout
    assert report["verdict"]["status"] == "pass" and report["verdict"]["findings"] == 0
    assert [rule["rule_code"] for rule in report["rules"]] == RULES
    for rule in report["rules"]:
        assert rule["status"] == "pass", rule["rule_code"]
        assert rule["checks"], f"rule {rule['rule_code']} has no check behind it"
    engines = {check["engine"] for rule in report["rules"] for check in rule["checks"]}
    assert engines == {"dbt", "great_expectations"}
    for name in ("report.html", "report.json", "findings.csv", "findings.xlsx"):
        assert (run_dir / name).is_file()


def test_report_records_what_it_ran_on(clean_audit, clean_warehouse: Path) -> None:
    _, _, report = clean_audit
    fingerprint = report["fingerprint"]
    assert fingerprint["warehouse_sha256"] == sha256(clean_warehouse)
    assert fingerprint["policy_version"] == "shangcheng-ai-2025-draft"
    assert {"duckdb", "dbt-core", "dbt-duckdb", "great-expectations"} <= set(fingerprint["tools"])
    raw_sha = {f["source_file"]: f["sha256"] for f in fingerprint["raw_files"]}
    raw_dir = clean_warehouse.parent / "raw"
    assert raw_sha == {p.name: sha256(p) for p in raw_dir.glob("*.csv")}
    with duckdb.connect(str(clean_warehouse), read_only=True) as con:
        (awards,) = con.execute("select count(*) from marts.fct_awards").fetchone()
    tables = {f"{t['schema']}.{t['table']}": t for t in fingerprint["tables"]}
    assert tables["marts.fct_awards"]["rows"] == awards
    assert len(tables["marts.fct_awards"]["content_sha256"]) == 64


# Each tampering changes its own rows, so all of them go into one copy and one audit; each must be found by its
# rule on the row it planted (the record id), and show up as new against the clean run.
TAMPERINGS = {
    "extra over-cap award": (
        "insert into marts.fct_awards select * replace ('SQ-TAMPERED' as application_id, "
        "approved_amount + 1000000 as approved_amount, over_cap_amount + 1000000 as over_cap_amount) "
        "from marts.fct_awards order by application_id limit 1",
        "over_cap",
        "SQ-TAMPERED",
    ),
    "disbursement with no application": (
        "insert into marts.fct_disbursements select * replace ('BF-TAMPERED' as disbursement_id, "
        "'SQ-NO-SUCH' as application_id, false as is_application_known, null as application_status) "
        "from marts.fct_disbursements order by disbursement_id limit 1",
        "paid_without_approval",
        "BF-TAMPERED",
    ),
    "rollup row changed": (
        "update marts.agg_disbursements_by_bureau_year set net_paid_amount = net_paid_amount + 100 "
        "where paid_year = {first_year}",
        "rollup_mismatch",
        ":agg_disbursements_by_bureau_year:{first_year}:",
    ),
    "duplicated key": (
        "insert into marts.fct_awards select * from marts.fct_awards where application_id = '{first_award}'",
        "key_not_unique",
        "marts.fct_awards:{first_award}",
    ),
    # a row without its key: dbt's primary_key test (no Great Expectations suite reads this table)
    "empty key": (
        "insert into marts.dim_bureaus select * replace (null as bureau_code) from marts.dim_bureaus "
        "order by bureau_code limit 1",
        "key_not_unique",
        "marts.dim_bureaus:None:1",
    ),
}


def test_tampering_is_caught_by_the_right_rule(clean_warehouse: Path, clean_audit, tmp_path: Path) -> None:
    copy = tmp_path / "tampered" / clean_warehouse.name
    copy.parent.mkdir()
    shutil.copyfile(clean_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        (first_award,) = con.execute("select min(application_id) from marts.fct_awards").fetchone()
        (first_year,) = con.execute("select min(paid_year) from marts.agg_disbursements_by_bureau_year").fetchone()
        for sql, _, _ in TAMPERINGS.values():
            con.execute(sql.format(first_award=first_award, first_year=first_year))
        # the rollup tampering's year is not the one the extra disbursement lands in: its finding is its own
        (extra_year,) = con.execute(
            "select paid_year from marts.fct_disbursements where disbursement_id = 'BF-TAMPERED'"
        ).fetchone()
        assert extra_year != first_year
    completed, run_dir, report = audit(copy, tmp_path / "audits")
    assert completed.returncode == 1, completed.stdout
    # the auditor sees what changed since the clean run
    compared = run_cli("audit", "--compare", str(clean_audit[1]), str(run_dir))
    assert compared.returncode == 0, compared.stderr
    assert "新增 new: 0" not in compared.stdout
    new_lines = [line.split("\t") for line in compared.stdout.splitlines() if line.startswith("新增 new\t")]
    for tampering, (_, rule_code, record) in TAMPERINGS.items():
        record = record.format(first_award=first_award, first_year=first_year)
        assert rule_code in report["verdict"]["fatal_rules_failed"], (tampering, report["verdict"])
        assert any(f["rule_code"] == rule_code and record in f["record_id"] for f in report["findings"]), tampering
        assert any(line[1] == rule_code and record in line[3] for line in new_lines), (tampering, compared.stdout)


def test_finding_deleted_after_the_build_is_caught(sample_warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tampered" / sample_warehouse.name
    copy.parent.mkdir()
    shutil.copyfile(sample_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        (hidden,) = con.execute(
            "delete from audit.exceptions where exception_id = (select min(exception_id) from audit.exceptions "
            "where rule_code = 'overpaid') returning record_id"
        ).fetchone()
    completed, _, report = audit(copy, tmp_path / "audits")
    assert completed.returncode == 1
    assert "findings_out_of_date" in report["verdict"]["fatal_rules_failed"]
    stale = [f for f in report["findings"] if f["rule_code"] == "findings_out_of_date"]
    assert len(stale) == 1 and hidden in stale[0]["record_id"] and "missing_from_exceptions" in stale[0]["detail"]


def test_untouched_warehouse_keeps_its_verdict(clean_warehouse: Path, clean_audit, tmp_path: Path) -> None:
    completed, _, report = audit(clean_warehouse, tmp_path)
    assert completed.returncode == 0
    assert report["fingerprint"] == clean_audit[2]["fingerprint"]


@pytest.fixture(scope="module")
def sample_audits(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    """Two audits of the generated sample (with problems), one after the other."""
    out = tmp_path_factory.mktemp("sample-audits")
    return audit(sample_warehouse, out), audit(sample_warehouse, out)


def test_problem_sample_fails_and_reruns_identically(sample_warehouse: Path, sample_audits) -> None:
    (first, first_dir, first_report), (second, second_dir, second_report) = sample_audits
    assert first.returncode == second.returncode == 1
    assert first_dir != second_dir
    assert {"over_cap", "overpaid", "paid_without_approval"} <= set(first_report["verdict"]["fatal_rules_failed"])
    assert first_report["findings"] == second_report["findings"]
    assert first_report["fingerprint"] == second_report["fingerprint"]
    # what the dashboards read of a report: all of it but the findings, without loading them
    assert first_report["findings"]
    assert read_report_head(first_dir / "report.json") == {k: v for k, v in first_report.items() if k != "findings"}
    # every rule of audit.exceptions was found again with the same number of records
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        stored = dict(con.execute("select rule_code, count(*) from audit.exceptions group by 1").fetchall())
    rerun = {r["rule_code"]: r["failing_rows"] for r in first_report["rules"] if r["rule_code"] in stored}
    assert rerun == stored
    # findings.csv and findings.xlsx hold every failing record
    with (first_dir / "findings.csv").open(encoding="utf-8-sig") as handle:
        assert len(list(csv.DictReader(handle))) == len(first_report["findings"])
    assert pl.read_excel(first_dir / "findings.xlsx", sheet_name="异常记录").height == len(first_report["findings"])
    # amounts at issue add up to the per-bureau totals
    by_bureau = sum(float(t["fatal_amount"]) + float(t["warning_amount"]) for t in first_report["totals"]["by_bureau"])
    by_rule = sum(float(f["amount_at_issue"]) for f in first_report["findings"] if f["record_type"] != "table")
    assert by_bureau == pytest.approx(by_rule)
    compared = run_cli("audit", "--compare", str(first_dir), str(second_dir))
    assert f"新增 new: 0   已解决 resolved: 0   未变 unchanged: {len(first_report['findings'])}" in compared.stdout
    # no personal identifier reaches the auditor's files
    report_text = (first_dir / "report.json").read_text(encoding="utf-8") + (first_dir / "findings.csv").read_text(
        encoding="utf-8-sig"
    )
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        personal = [
            r[0]
            for r in con.execute(
                "select beneficiary_id from raw.beneficiaries where id_type in ('resident_id', 'passport')"
            ).fetchall()
        ]
    assert personal and not [number for number in personal if number in report_text]


def test_report_head_is_read_without_the_findings_in_any_layout(tmp_path: Path) -> None:
    # a finding's text may hold the very key that separates the findings, and an older report is indented
    report = {
        "verdict": {"findings": 2},
        "rules": [{"first_failing_records": [{"detail": 'x,"findings":[1]'}]}],
        "totals": {"by_bureau": [{"bureau": "区科技局", "findings": 2}]},
    }
    findings = [{"detail": ',"findings":['}, {"detail": "}"}]
    compact = json.dumps({**report, "findings": findings}, ensure_ascii=False, separators=(",", ":"))
    indented = json.dumps({**report, "findings": findings}, ensure_ascii=False, indent=2)
    for name, text in (("compact.json", compact), ("indented.json", indented)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert read_report_head(tmp_path / name) == report, name


def test_report_opens_offline_in_chromium(sample_audits) -> None:
    _, run_dir, report = sample_audits[0]
    page_url = (run_dir / "report.html").as_uri()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        # block the network: any request leaving the file is refused (and recorded above)
        page.route("**/*", lambda route: route.continue_() if route.request.url == page_url else route.abort())
        page.goto(page_url)
        assert "审计结论：不通过" in page.locator("#verdict").inner_text()
        rows = page.locator("#rules tbody tr")
        assert rows.count() == len(RULES)
        assert "over_cap" in rows.nth(0).inner_text() and "未通过" in rows.nth(0).inner_text()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "audit-report.png"), full_page=False)
        browser.close()
    assert requests == [page_url]
    assert report["verdict"]["exit_code"] == 1


def test_list_rules_prints_the_catalogue() -> None:
    completed = run_cli("audit", "--list-rules")
    assert completed.returncode == 0
    for code in RULES:
        assert code in completed.stdout


def hold_write_lock(path: Path) -> subprocess.Popen:
    script = (
        f"import duckdb, sys, time\ncon = duckdb.connect({str(path)!r})\nprint('locked', flush=True)\ntime.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_audit_that_cannot_run_says_why(tmp_path: Path, clean_warehouse: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    empty.write_bytes(b"")
    text = tmp_path / "notes.duckdb"
    text.write_text("not a database\n" * 100)
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create table t as select 1 as x")
    out_file = tmp_path / "out-is-a-file"
    out_file.write_text("")
    cases = {
        "does not exist": ["--warehouse", str(tmp_path / "missing.duckdb")],
        "empty file": ["--warehouse", str(empty)],
        "is a directory": ["--warehouse", str(tmp_path)],
        "not a DuckDB warehouse": ["--warehouse", str(text)],
        "not a subsidy warehouse": ["--warehouse", str(other)],
        "is a file; give a folder": ["--warehouse", str(clean_warehouse), "--out", str(out_file)],
    }
    for expected, args in cases.items():
        completed = run_cli("audit", *args)
        assert completed.returncode == 2, (expected, completed.stdout, completed.stderr)
        assert expected in completed.stderr and "Traceback" not in completed.stderr
        assert len(completed.stderr.strip().splitlines()) == 1
    locked = tmp_path / "locked" / "warehouse.duckdb"
    locked.parent.mkdir()
    shutil.copyfile(clean_warehouse, locked)
    holder = hold_write_lock(locked)
    try:
        completed = run_cli("audit", "--warehouse", str(locked), "--out", str(tmp_path / "audits"))
    finally:
        holder.kill()
    assert completed.returncode == 2 and "locked by another process" in completed.stderr
    not_a_run = run_cli("audit", "--compare", str(tmp_path), str(tmp_path))
    assert not_a_run.returncode == 2 and "is not an audit run" in not_a_run.stderr


# --- what an auditor opens: no personal ID, no formula ------------------------------------------------------
def resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


ID_18 = resident_id("33010219900307123")
ID_18_X = next(
    resident_id(f"11010519491231{n:03d}")
    for n in range(1000)
    if resident_id_check_char(f"11010519491231{n:03d}") == "X"
)
ID_15 = "330102900307123"  # first generation: province 33, born 1990-03-07
HOSTILE_TEXTS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tTAB", "\rCR", "＝1+1", "＠SUM(A1)"]
PERSONAL_TAMPERING = [
    # an over-cap award keyed by a resident ID, paid to a person written as an ID, by a bureau with an ID in it
    "insert into marts.fct_awards select * replace ("
    f"'{ID_18}' as application_id, '{ID_18_X}' as beneficiary_id, '区科技局{ID_15}' as approving_bureau, "
    "approved_amount + 1000000 as approved_amount, over_cap_amount + 1000000 as over_cap_amount) "
    "from marts.fct_awards order by application_id limit 1",
    # an over-cap award whose beneficiary and bureau are formulas
    "insert into marts.fct_awards select * replace ("
    "'SQ-HOSTILE' as application_id, '+1' as beneficiary_id, '=HYPERLINK(\"http://x\",\"y\")' as approving_bureau, "
    "approved_amount + 1000000 as approved_amount, over_cap_amount + 1000000 as over_cap_amount) "
    "from marts.fct_awards order by application_id limit 1",
    # a stored finding nobody can find again, carrying IDs in its key and its detail
    "insert into audit.exceptions by name select "
    f"'paid_without_approval:disbursement:BF-{ID_18_X}' as exception_id, 'paid_without_approval' as rule_code, "
    "'fatal' as severity, 'accuracy' as category, 'disbursement' as record_type, "
    f"'BF-{ID_18_X}' as record_id, '{ID_18}' as beneficiary_id, 'M01-1' as clause_code, 'M01' as measure_code, "
    f"'区科技局' as bureau, 2025 as award_year, 1.00 as amount_at_issue, '证件号码 {ID_18} 与 {ID_15}' as detail, "
    "'' as rule_description_zh",
    # a rollup row keyed by a first-generation ID, twice (a duplicated key that also breaks the sums)
    "insert into marts.agg_disbursements_by_company_year select * replace "
    f"('{ID_15}' as beneficiary_id) from marts.agg_disbursements_by_company_year order by all limit 1",
    "insert into marts.agg_disbursements_by_company_year select * replace "
    f"('{ID_15}' as beneficiary_id) from marts.agg_disbursements_by_company_year order by all limit 1",
    # rejected raw rows whose reasons are formulas or carry an ID
    *[
        "insert into audit.rejected_rows values "
        f"('beneficiaries.csv#{90000 + index}', 'beneficiaries.csv', {90000 + index}, {90000 + index}, "
        f"'beneficiary', 'HOSTILE-{index}', $${text}$$, '{{}}')"
        for index, text in enumerate(HOSTILE_TEXTS)
    ],
    "insert into audit.rejected_rows values "
    f"('beneficiaries.csv#{ID_15}', 'beneficiaries.csv', 99999, 99999, 'beneficiary', '{ID_18}', "
    f"'证件号码 {ID_18_X} 未通过校验', '{{\"beneficiary_id\": \"{ID_18}\"}}')",
]


def test_audit_outputs_show_no_personal_id_and_run_no_formula(clean_warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tampered" / clean_warehouse.name
    copy.parent.mkdir()
    shutil.copyfile(clean_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        for sql in PERSONAL_TAMPERING:
            con.execute(sql)
    completed, run_dir, report = audit(copy, tmp_path / "audits")
    assert completed.returncode == 1
    by_rule = {f["rule_code"] for f in report["findings"]}
    assert {"over_cap", "rejected_row", "findings_out_of_date", "key_not_unique", "rollup_mismatch"} <= by_rule
    # the tampering reached the findings, masked
    assert any(f["rule_code"] == "over_cap" and f["record_id"] == mask_resident_id(ID_18) for f in report["findings"])
    over_cap = next(
        f for f in report["findings"] if f["rule_code"] == "over_cap" and f["record_id"] == mask_resident_id(ID_18)
    )
    assert over_cap["beneficiary_id"] == mask_resident_id(ID_18_X)
    assert over_cap["bureau"] == f"区科技局{mask_resident_id(ID_15)}"

    # no resident ID in any file (the fingerprint's SHA-256 digests are hashes, not text: left out of the scan)
    digests = {value for key, value in walk(report) if key.endswith("sha256")}
    outputs = {
        name: (run_dir / name).read_text(encoding="utf-8-sig")
        for name in ("report.json", "report.html", "findings.csv")
    }
    with zipfile.ZipFile(run_dir / "findings.xlsx") as archive:
        outputs.update({f"findings.xlsx:{n}": archive.read(n).decode("utf-8") for n in archive.namelist()})
    for name, text in outputs.items():
        for digest in digests:
            text = text.replace(digest, "")
        assert find_personal_ids(text) == [], name
        for number in (ID_18, ID_18_X, ID_15):
            assert number not in text, (name, number)

    # CSV: every hostile text cell is neutralised with a leading quote; numbers stay numbers
    with (run_dir / "findings.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    details = {row["detail"] for row in rows if row["rule_code"] == "rejected_row"}
    assert details >= {"'" + text for text in HOSTILE_TEXTS}
    hostile_award = next(row for row in rows if row["rule_code"] == "over_cap" and row["record_id"] == "SQ-HOSTILE")
    assert hostile_award["beneficiary_id"] == "'+1" and hostile_award["bureau"] == '\'=HYPERLINK("http://x","y")'
    assert float(hostile_award["amount_at_issue"]) >= 1000000
    for row in rows:
        for name, value in row.items():
            if name != "amount_at_issue":
                assert not value.startswith(FORMULA_TRIGGERS), (name, value)

    # XLSX: no formula anywhere; hostile texts are plain strings, marked so that editing keeps them text
    sheets = xlsx_cells(run_dir / "findings.xlsx")
    cells = [cell for sheet in sheets.values() for cell in sheet]
    assert cells and not [cell for cell in cells if cell[1]]
    texts = {text: quoted for text, _, quoted in cells}
    for text in [*HOSTILE_TEXTS, "+1", '=HYPERLINK("http://x","y")']:
        assert text in texts, text
        assert texts[text], f"{text!r} has no quote prefix"
    findings_sheet = pl.read_excel(run_dir / "findings.xlsx", sheet_name="异常记录")
    assert set(HOSTILE_TEXTS) <= set(findings_sheet["说明"])


def walk(value: object, key: str = ""):
    """(key, value) of every scalar in a JSON structure."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from walk(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, key)
    else:
        yield key, value
