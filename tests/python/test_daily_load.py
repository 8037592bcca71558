"""Daily loads: a build that only reads the lines appended since the last build, and recomputes what they
touch, gives the same warehouse, row for row, as a full build of the same files."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from helpers import GOLDEN_RAW, copy_build, run_cli

from subsidy_warehouse.build import plan_daily_load
from subsidy_warehouse.identifiers import uscc_check_char

NEW_INVESTOR = "91330102MA2NEWLNX" + uscc_check_char("91330102MA2NEWLNX")
NEW_COMPANY = "91330102MA2NEWC01" + uscc_check_char("91330102MA2NEWC01")
EMPTY_APP = ",,,,,,"
# bookkeeping that differs by construction between a daily load and a full build
NOT_COMPARED = {
    ("raw", "batches"),
    ("intermediate", "int_awards_to_recompute"),
    ("intermediate", "int_cap_groups_to_recompute"),
    ("intermediate", "int_payees_to_recompute"),
    ("intermediate", "int_applications_to_resolve"),
    ("intermediate", "int_disbursements_to_resolve"),
}

BATCHES = {
    "new records in old scopes": {
        "beneficiaries.csv": [
            f"{NEW_INVESTOR},杭州新投资合伙企业（有限合伙）,investor,uscc,2020-01-01,上城区",
            f"{NEW_COMPANY},杭州新成立科技有限公司,enterprise,uscc,2024-01-01,上城区",
            "91330102MA28YB2C33,杭州黄金样例数据技术有限公司,enterprise,uscc,2020-05-01,上城区",  # exact copy
        ],
        "applications.csv": [
            # an award between G02 and G03 in the same annual scope: G03 gets less room
            "G30,91330102MA27XK1A0H,M12-1,2025,2025-03-01,approved,300000.00,300000.00,2025-04-01,区科技局,800000.00,,,,,",
            # another investor in project PRJ-1: the project cap spans both beneficiaries
            f"G31,{NEW_INVESTOR},M11-4,2025,2025-03-01,approved,2000000.00,2000000.00,2025-04-15,上城资本,200000000.00,,PRJ-1,,,",
            # a once-only clause again for the same beneficiary
            "G33,91330102MA28YB2C33,M05-1,2026,2026-03-01,approved,500000.00,500000.00,2026-04-01,区发改经信局,,,,,,",
            f"G34,{NEW_COMPANY},M04-5,2026,2026-01-05,approved,200000.00,200000.00,2026-02-01,区科技局,,,,,,",
            'G35,"坏引号,M04-5,2026,2026-01-05,submitted,1.00,,,,,,,,,',  # a stray quote: this line alone
            # an award to the person whose ID fails its check: the invalid_id finding's amount at issue grows
            "G36,330102199001010021,M10-2,2025,2025-03-01,approved,50000.00,50000.00,2025-04-01,区委人才办,,,,,,",
            # an application, not an award, naming a clause that does not exist: a finding of no award's scope
            "G38,91330102MA2GQ77N59,M99-9,2026,2026-01-05,submitted,10000.00,,,,,,,,,",
        ],
        "disbursements.csv": [
            "D20,G07,2026-03-01,30000.00,clawback,区发改经信局,V20",  # a clawback on an old award
            "D21,G30,2025-05-01,300000.00,payment,区科技局,V21",
            "D22,G34,2026-03-01,200000.00,payment,区科技局,V22",
            "D05,G18,2025-06-01,200000.00,payment,区发改经信局,V05",  # an exact copy of an old payment
            "D25,G16,2025-06-01,150000.00,payment,区科技局,V25",  # overpays an award no new line's scope holds
        ],
    },
    "corrections of old records": {
        "beneficiaries.csv": [
            # the investor again with another district: its versions conflict, both are rejected
            "91330102MA2HTY9D4G,杭州黄金样例创业投资合伙企业（有限合伙）,investor,uscc,2018-01-01,西湖区",
        ],
        "applications.csv": [
            # a corrected re-issue of G15 and of G02: each id now has two versions, all rejected
            "G15,91330102MA28YB2C33,M04-5,2025,2025-05-01,approved,250000.00,250000.00,2025-04-01,区科技局,,,,,,",
            "G02,91330102MA27XK1A0H,M12-1,2025,2025-01-05,approved,500000.00,500000.00,2025-02-01,区科技局,2000000.00,,,,,",
            # a re-issue of G19, rejected for its date: its old row in audit.rejected_rows is written again
            "G19,91330102MA28YB2C33,M04-5,2025,2025-02-28,submitted,200000.00,,,,,,,,,",
            # a re-issue of G18 withdrawn: both versions rejected, and its old payment D05, not in this load, now
            # pays an application that is not on record (fct_disbursements reaches it through its application)
            "G18,91330102MA28YB2C33,M04-5,2025,2025-01-02,withdrawn,200000.00,,,,,,,,,",
            # G16 sent again as a bureau's spreadsheet writes it, in full-width characters: the same record (collapsed)
            "Ｇ１６,91330102MA2GQ77N59,M04-5,2025,2025-01-02,approved,100000.00,100000.00,2025-02-01,区科技局,,,,,,",
            # the odd spellings of the load before (LOADED_BEFORE), sent again plainly: the same records (collapsed)
            "G37,91330102MA28YB2C33,M04-5,2025,2025-03-01,submitted,100000.00,,,,,,,,,",
            "33010219850612001x,33010219850612001X,M10-2,2025,2025-01-03,submitted,50000.00,,,,,,,,,",
            # another record without an id (an ideographic space): rejected on its own, the earlier one left as it is
            "　,91330102MA28YB2C33,M04-5,2025,2025-03-03,submitted,2000.00,,,,,,,,,",
        ],
        "disbursements.csv": [
            "D07,G02,2025-01-15,500000.00,payment,区科技局,V07",  # the payment corrected too
            "D23,G03,2025-07-01,100000.00,payment,区科技局,V23",
            "D08,G02,2025-03-15,5.00,payment,区科技局,V08",  # a re-issue of a payment rejected for its amount
            # a re-issue of the payment to a person naming another application: both versions are rejected, and the
            # person, whose records are otherwise untouched, is paid nothing in 2025 any more
            "D09,G22,2025-03-01,6000000.00,payment,区数据局,V09",
            " D 06 ,SQ-NOPE,2025-06-01,1000.00,payment,区科技局,V06",  # D06 again, with stray spaces: the same record
            "D24,G15,2025-07-01,1000.00,payment,区科技局,V24",
        ],
    },
}


def append_lines(raw: Path, batch: dict[str, list[str]]) -> None:
    for name, lines in batch.items():
        with (raw / name).open("a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in lines))


def all_tables(con) -> dict[tuple[str, str], list[tuple]]:
    """Every table of the warehouse, its rows sorted, without the raw rows' batch number."""
    tables = {}
    for schema, table in con.execute(
        "select schema_name, table_name from duckdb_tables() where not internal order by all"
    ).fetchall():
        if (schema, table) in NOT_COMPARED:
            continue
        columns = [c for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? "
            "and column_name <> '_batch' order by column_index", [schema, table]
        ).fetchall()]  # fmt: skip
        select = ", ".join(f'"{c}"' for c in columns)
        tables[(schema, table)] = con.execute(f'select {select} from "{schema}"."{table}" order by all').fetchall()
    return tables


# Lines loaded by a first daily load, before a batch that needs older records than the golden files hold.
# M11-4 caps each project at 10M yuan and each investor at 50M a year. The investor of PRJ-1 (G05 9M, G06 1M of
# its 3M) fills its 2025 with four more projects (G41-G44, 10M each), so G45 gets nothing. Then G31, another
# investor's award in PRJ-1 between G05 and G06, leaves G06 nothing and G45 1M. G45 shares no scope with G31: a
# daily load reaches it only by walking from PRJ-1's scope through G05 and G06 to their investor's year.
LOADED_BEFORE = {
    "new records in old scopes": {
        "applications.csv": [
            f"G4{n},91330102MA2HTY9D4G,M11-4,2025,2025-05-20,approved,10000000.00,10000000.00,2025-06-0{n},上城资本,"
            f"1000000000.00,,PRJ-{n + 1},,,"
            for n in range(1, 6)
        ]
    },
    # Records a bureau spelled oddly: full-width, spaced, a person's ID number as the application's id. The
    # corrections batch sends each again plainly; the load must find the odd earlier spelling.
    "corrections of old records": {
        "applications.csv": [
            "Ｇ３７,91330102MA28YB2C33,M04-5,2025,2025-03-01,submitted,100000.00,,,,,,,,,",
            "33010219850612001X,33010219850612001X,M10-2,2025,2025-01-03,submitted,50000.00,,,,,,,,,",
            " ,91330102MA28YB2C33,M04-5,2025,2025-03-02,submitted,1000.00,,,,,,,,,",  # no id, only a space: rejected
        ],
        "disbursements.csv": ["D 24,G15,2025-07-01,1000.00,payment,区科技局,V24"],
    },
}
# An older award a batch changes though it shares no scope with a new line: (award, within-cap amount before, after)
REACHED_BY_THE_WALK_ONLY = {"new records in old scopes": ("G45", 0, 1_000_000)}


@pytest.mark.parametrize("batch_name", list(BATCHES))
def test_a_daily_load_equals_a_full_build(tmp_path: Path, batch_name: str, golden_build: Path):
    raw = tmp_path / "raw"
    shutil.copytree(GOLDEN_RAW, raw)
    daily = copy_build(golden_build, tmp_path / "daily")  # a full build of the same files (batch 1)
    this_batch = 2
    if batch_name in LOADED_BEFORE:  # a first daily load takes batch 2
        append_lines(raw, LOADED_BEFORE[batch_name])
        run_cli("build", "--raw-dir", str(raw), "--warehouse", str(daily), check=True)
        this_batch = 3
    before = copy_build(tmp_path / "daily", tmp_path / "before")  # the warehouse as the batch finds it
    append_lines(raw, BATCHES[batch_name])
    completed = run_cli("build", "--raw-dir", str(raw), "--warehouse", str(daily), check=True)
    assert "daily load" in completed.stdout
    full = tmp_path / "full" / "warehouse.duckdb"
    run_cli("build", "--raw-dir", str(raw), "--warehouse", str(full), check=True)
    with duckdb.connect(str(daily), read_only=True) as a, duckdb.connect(str(full), read_only=True) as b:
        daily_tables, full_tables = all_tables(a), all_tables(b)
        batches = [(1, "full"), *((batch, "daily") for batch in range(2, this_batch + 1))]
        assert a.execute("select batch, mode from raw.batches order by batch").fetchall() == batches
        assert a.execute("select count(*) from raw.applications where _batch = ?", [this_batch]).fetchone()[0] >= 2
        recomputed = {
            key for (key,) in a.execute("select application_id from intermediate.int_awards_to_recompute").fetchall()
        }
        awards = {key for (key,) in b.execute("select application_id from marts.fct_awards").fetchall()}
        groups = set(a.execute("select beneficiary_id, clause_code from intermediate.int_cap_groups_to_recompute").fetchall())
        with duckdb.connect(str(before), read_only=True) as before_load:
            expected = scope_closure(a, before_load)
            expected_groups = {
                (beneficiary, clause)
                for con in (a, before_load)
                for key, beneficiary, clause in con.execute(
                    "select application_id, beneficiary_id, clause_code from intermediate.int_awards_static_limits"
                ).fetchall()
                if key in expected
            }
            if batch_name in REACHED_BY_THE_WALK_ONLY:
                award, was, now = REACHED_BY_THE_WALK_ONLY[batch_name]
                within_cap = "select within_cap_amount from marts.fct_awards where application_id = ?"
                assert before_load.execute(within_cap, [award]).fetchone()[0] == was
                assert b.execute(within_cap, [award]).fetchone()[0] == now
                assert award in recomputed
    assert daily_tables.keys() == full_tables.keys()
    different = [name for name in full_tables if daily_tables[name] != full_tables[name]]
    assert different == []
    # the load recomputed exactly the awards that share a cap scope with a new line, not every award
    assert recomputed == expected
    assert awards - recomputed, "a daily load recomputed every award"
    # and the cap-utilisation groups of those awards, as they are now and as they were
    assert groups == expected_groups


def scope_closure(daily, before) -> set[str]:
    """The awards a daily load must recompute, walked in Python: start from the applications of the new
    lines (and of the beneficiaries they touch), then add every award sharing a scope with one reached —
    beneficiary and clause (the measure for exclusive clauses), or clause and project — as the scopes are
    after the load and as they were before it, until nothing new is reached."""
    start = {key for (key,) in daily.execute(
        "with this_load as (select max(batch) as batch from raw.batches) "
        "select application_id from staging.base_raw__applications where _batch = (from this_load) "
        "and application_id is not null "
        "union select application_id from staging.stg_raw__applications where beneficiary_ref_hash in ("
        "select beneficiary_ref_hash from staging.base_raw__beneficiaries where _batch = (from this_load))"
    ).fetchall()}  # fmt: skip
    scope_sql = (
        "select application_id, beneficiary_id, coalesce(exclusive_group, clause_code), clause_code, project_id "
        "from intermediate.int_awards_static_limits"
    )
    scopes: dict[str, set[tuple]] = {}
    for con in (daily, before):
        for key, beneficiary, cap_group, clause, project in con.execute(scope_sql).fetchall():
            scopes.setdefault(key, set()).add(("beneficiary", beneficiary, cap_group))
            if project is not None:
                scopes[key].add(("project", clause, project))
    reached, frontier = set(start), set(start)
    while frontier:
        touched = set().union(*(scopes.get(key, set()) for key in frontier))
        frontier = {key for key, own in scopes.items() if own & touched} - reached
        reached |= frontier
    return reached


def test_a_rewritten_file_or_new_code_means_a_full_build(tmp_path: Path, golden_build: Path):
    raw = tmp_path / "raw"
    shutil.copytree(GOLDEN_RAW, raw)
    warehouse = copy_build(golden_build, tmp_path)  # a full build of the same files
    from subsidy_warehouse.build import code_fingerprint

    code = code_fingerprint()
    assert plan_daily_load(warehouse, raw, code) is not None  # nothing changed: an empty daily load
    assert plan_daily_load(warehouse, raw, "other code") is None
    text = (raw / "applications.csv").read_text(encoding="utf-8")
    (raw / "applications.csv").write_text(text.replace("G01,", "G01X,"), encoding="utf-8")
    assert plan_daily_load(warehouse, raw, code) is None
    completed = run_cli("build", "--raw-dir", str(raw), "--warehouse", str(warehouse), check=True)
    assert "full build" in completed.stdout
    forced = run_cli("build", "--raw-dir", str(raw), "--warehouse", str(warehouse), "--full-refresh", check=True)
    assert "full build" in forced.stdout


def test_only_what_dbt_reads_decides_the_code(tmp_path: Path, monkeypatch):
    """Running the Python suite (bytecode under tests/) must not turn the next daily load into a full build;
    a changed model must."""
    from subsidy_warehouse.build import code_fingerprint

    (tmp_path / "dbt_project.yml").write_text("name: p\n", encoding="utf-8")
    for name in ("models/m.sql", "tests/python/test_m.py", "tests/python/__pycache__/test_m.pyc"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("select 1\n", encoding="utf-8")
    monkeypatch.setenv("SUBSIDY_PROJECT_DIR", str(tmp_path))
    before = code_fingerprint()
    (tmp_path / "tests/python/test_m.py").write_text("assert True\n", encoding="utf-8")
    (tmp_path / "tests/python/__pycache__/test_m.pyc").write_bytes(b"\x00")
    assert code_fingerprint() == before
    (tmp_path / "models/m.sql").write_text("select 2\n", encoding="utf-8")
    assert code_fingerprint() != before


def test_a_new_salt_means_a_full_build(tmp_path: Path, monkeypatch):
    from subsidy_warehouse.build import code_fingerprint

    before = code_fingerprint()
    monkeypatch.setenv("SUBSIDY_ID_SALT", "a-district-secret")
    assert code_fingerprint() != before


# Rows planted in a copy of the golden warehouse: what a daily load's data tests must still catch, and what they
# may skip because the last build's tests passed on it unchanged.
PLANTED = [
    # a second row for G02 where G02 was rewritten
    "insert into intermediate.int_awards_capped select * from intermediate.int_awards_capped where application_id = 'G02'",
    # a second row for G03, which was not rewritten (a daily load cannot have put it there)
    "insert into marts.fct_awards select * from marts.fct_awards where application_id = 'G03'",
    "update marts.fct_awards set approved_amount = null where application_id = 'G02'",
    "update marts.fct_awards set clause_code = null where application_id = 'G04'",
    # a parent that disappeared under a row that was not rewritten
    "update marts.fct_awards set beneficiary_id = 'NOBODY' where application_id = 'G05'",
    # a rewritten beneficiary now holding the identifier of one that was not rewritten (planted in the base model:
    # stg_raw__beneficiaries is a view of it)
    "update staging.base_raw__beneficiaries set beneficiary_id = '91330102MA27XK1A0H' "
    "where beneficiary_id = '91330102MA28YB2C33'",
    # and another rewritten beneficiary left without one: the primary key's test reads that row too
    "update staging.base_raw__beneficiaries set beneficiary_id = null where beneficiary_id = '91330102MA2HTY9D4G'",
    # a rewritten row (of M10) and one not rewritten (of M05) on the same combination, which holds a null: a
    # combination collides on null as a full build's test counts it (there, the key is not among the columns)
    "update marts.agg_disbursements_by_clause_year set clause_code = 'M05-1', paid_year = null "
    "where (clause_code, paid_year) in (('M05-1', 2025), ('M10-2', 2025))",
]
REWRITTEN_KEYS = [
    "create schema daily_load_keys",
    "create table daily_load_keys.int_awards_capped as select 'G02' as application_id",
    "create table daily_load_keys.fct_awards as select 'G02' as application_id",
    "create table daily_load_keys.stg_raw__beneficiaries as select beneficiary_ref_hash from "
    "staging.stg_raw__beneficiaries where beneficiary_id in ('91330102MA28YB2C33', '91330102MA2HTY9D4G')",
    "create table daily_load_keys.agg_disbursements_by_clause_year as select 'M10' as measure_code",
]

CLAUSE_YEAR_COMBINATION = "unique_combination_agg_disbursements_by_clause_year_clause_code__paid_year"


def planted_test_results(tmp_path: Path, golden_build: Path, rewritten: list[str]) -> dict[str, tuple[str, int]]:
    """Each data test of the planted models, its status and failures, after the plants and the `rewritten`
    statements."""
    from subsidy_warehouse.dbt_runner import run_dbt

    warehouse = copy_build(golden_build, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        for statement in rewritten + PLANTED:
            con.execute(statement)
    models = ["int_awards_capped", "fct_awards", "stg_raw__beneficiaries", "agg_disbursements_by_clause_year"]
    run = run_dbt(["test", "--select", *models], warehouse, tmp_path / "logs")
    assert run.results, run.error
    return {r["unique_id"].split(".")[2]: (r["status"], r["failures"]) for r in run.results}


def test_a_daily_loads_tests_read_the_rows_it_rewrote_and_what_may_collide(tmp_path: Path, golden_build: Path):
    result = planted_test_results(tmp_path, golden_build, REWRITTEN_KEYS)
    assert result["primary_key_int_awards_capped_application_id"] == ("fail", 1)  # a duplicate of a rewritten key
    assert result["not_null_fct_awards_approved_amount"] == ("fail", 1)  # in a rewritten row
    # against a row not rewritten, and a rewritten row without an identifier
    assert result["primary_key_stg_raw__beneficiaries_beneficiary_id"] == ("fail", 2)
    assert result["relationships_fct_awards_beneficiary_id__beneficiary_id__ref_dim_beneficiaries_"][0] == "fail"
    assert result[CLAUSE_YEAR_COMBINATION] == ("fail", 1)
    # rows the load did not rewrite passed these tests in the last build: they are not read again
    assert result["primary_key_fct_awards_application_id"] == ("pass", 0)
    assert result["not_null_fct_awards_clause_code"] == ("pass", 0)


def test_without_rewritten_keys_every_test_reads_whole_tables(tmp_path: Path, golden_build: Path):
    result = planted_test_results(tmp_path, golden_build, [])
    for name in (
        "primary_key_int_awards_capped_application_id",
        "not_null_fct_awards_approved_amount",
        "primary_key_stg_raw__beneficiaries_beneficiary_id",
        "primary_key_fct_awards_application_id",
        "not_null_fct_awards_clause_code",
        CLAUSE_YEAR_COMBINATION,
    ):
        assert result[name][0] == "fail", name
    assert result["primary_key_stg_raw__beneficiaries_beneficiary_id"][1] == 2


def test_a_staging_view_notes_the_keys_its_base_model_rewrote(tmp_path: Path, golden_build: Path):
    """The staging models are views: on a daily load, each notes the keys of the rows the load rewrote in its base
    model, for its data tests; on a full build (no note from the base model), nothing."""
    from subsidy_warehouse.dbt_runner import run_dbt

    warehouse = copy_build(golden_build, tmp_path)
    view = "stg_raw__beneficiaries"
    run = run_dbt(["run", "--select", view], warehouse, tmp_path / "logs")
    assert run.success, run.error
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select count(*) from duckdb_schemas() where schema_name = 'daily_load_keys'").fetchone()[0] == 0
        # what a daily load of one beneficiary's line leaves before the view: batch 2, the base model's note of it
        con.execute("insert into raw.batches select 2, 'daily', current_timestamp, code_sha256, 1 from raw.batches")
        rewritten = con.execute(
            "update staging.base_raw__beneficiaries set _batch = 2 where beneficiary_id = '91330102MA28YB2C33' "
            "returning beneficiary_ref_hash"
        ).fetchall()
        assert len(rewritten) >= 1
        con.execute("create schema daily_load_keys")
        con.execute("create table daily_load_keys.base_raw__beneficiaries as select 2 as _batch")
    run = run_dbt(["run", "--select", view], warehouse, tmp_path / "logs")
    assert run.success, run.error
    with duckdb.connect(str(warehouse), read_only=True) as con:
        noted = con.execute(f"select * from daily_load_keys.{view}").fetchall()
        kind = f"select table_type from information_schema.tables where table_schema = 'staging' and table_name = '{view}'"
        assert con.execute(kind).fetchall() == [("VIEW",)]
    assert set(noted) == set(rewritten)
