"""`subsidy simulate`: each alternative reading of the draft, computed by hand on a small raw set
(tests/readings_raw), and "no reading" = the build's own marts.fct_awards, exactly."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from helpers import PROJECT_DIR, run_cli, xlsx_cells

from subsidy_warehouse.simulate import check_readings, parse_reading, prepared_reading_sets, simulator

READINGS_RAW = PROJECT_DIR / "tests" / "readings_raw"

# within-cap amount of every award under the default readings
DEFAULT = {
    "R01": "20000000.00",
    "R02": "10000000.00",  # M02-3: 30% of the increment, 30,000,000 per enterprise over the policy period
    "R03": "2000000.00",  # M11-2: 100,000,000 × 3.00% × 240 / 360
    "R04": "1000000.00",  # M11-2: 3,000,000 over the period, 2,000,000 used
    "R05": "400000.00",  # M11-3: 20,000,000 × 3.00% × 240 / 360 (LPR interest binds)
    "R06": "0.00",  # M01-1 names enterprises: an institution gets nothing
    "R07": "15000000.00",
    "R08": "5000000.00",  # M07-2: 20,000,000 per beneficiary, 15,000,000 used
    "R09": "0.00",  # M10-1 is for the talent in person
    "R10": "4000000.00",
    "R11": "4000000.00",  # M10-2: 6,000,000 per award
    "R12": "1000000.00",
    "R13": "1000000.00",  # M07-4: each recognition rewarded
    "R14": "300000.00",
    "R15": "0.00",  # M03-3: once per enterprise
    "R16": "600000.00",  # M11-3: 1,000,000 over the period, 400,000 used
}

# (readings, {award: within-cap amount under them}); every other award keeps its default amount
CASES = [
    (["M02-3.cap_scope=annual"], {"R02": "20000000.00"}),
    (["M11-2.cap_scope=annual"], {"R04": "2000000.00"}),
    (["M11-3.cap_scope=annual"], {"R16": "800000.00"}),  # 40,000,000 × 3.00% × 240 / 360
    # 100,000,000 × 3.00% × 240 / 365 = 1,972,602.74; the second gets the rest of 3,000,000
    (["M11-2.day_count=365"], {"R03": "1972602.74", "R04": "1027397.26"}),
    # 20,000,000 × 3.00% × 240 / 365 = 394,520.55; then 1,000,000 − 394,520.55 is left
    (["M11-3.day_count=365"], {"R05": "394520.55", "R16": "605479.45"}),
    # one category per company: M11-2 came first (R03), so the M11-3 awards get nothing
    (["M11-2.stacking=exclusive", "M11-3.stacking=exclusive"], {"R05": "0.00", "R16": "0.00"}),
    (["M01-1.allowed_beneficiary_types=enterprise|institution"], {"R06": "1000000.00"}),
    (["M07-2.cap_scope=project"], {"R08": "10000000.00"}),  # another project: its own 20,000,000
    (["M10-1.allowed_beneficiary_types=person|enterprise"], {"R09": "5000000.00"}),
    (["M10-2.cap_scope=lifetime"], {"R11": "2000000.00"}),  # 6,000,000 in all
    (["M07-4.once_only_scope=beneficiary"], {"R13": "0.00"}),
    (["M03-3.once_only_scope=project"], {"R15": "300000.00"}),  # another model filing
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def readings_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = tmp_path_factory.mktemp("readings") / "warehouse.duckdb"
    run_cli("build", "--raw-dir", str(READINGS_RAW), "--warehouse", str(warehouse), check=True)
    return warehouse


@pytest.fixture(scope="module")
def sim(readings_warehouse: Path):
    with simulator(readings_warehouse) as opened:
        yield opened


def within_cap(sim, readings: list[str]) -> dict[str, str]:
    chosen = check_readings([parse_reading(r) for r in readings], sim.options)
    table = sim.run(chosen)
    return {a: str(v) for a, v in sim.con.execute(f"select application_id, within_cap_amount from {table}").fetchall()}


def test_the_build_computes_the_default_readings(readings_warehouse: Path):
    with duckdb.connect(str(readings_warehouse), read_only=True) as con:
        built = {
            a: str(v) for a, v in con.execute("select application_id, within_cap_amount from marts.fct_awards").fetchall()
        }
    assert built == DEFAULT


@pytest.mark.parametrize(("readings", "changed"), CASES, ids=[" ".join(r) for r, _ in CASES])
def test_each_alternative_reading_computed_by_hand(sim, readings: list[str], changed: dict[str, str]):
    assert within_cap(sim, readings) == DEFAULT | changed
    assert within_cap(sim, []) == DEFAULT  # and back: the default readings again


def test_every_reading_group_of_the_seed_has_a_case(sim):
    cased = {(r.split(".")[0], r.split(".")[1].split("=")[0]) for readings, _ in CASES for r in readings}
    groups = {}
    for option in sim.options.values():
        groups.setdefault(option.reading_group, set()).add((option.clause_code, option.parameter))
    assert all(members & cased for members in groups.values()), "a reading group has no hand-computed case"


def test_prepared_sets_switch_a_whole_group(sim):
    sets = {name: readings for _, name, readings in prepared_reading_sets(sim.options)}
    enterprise_only = next(r for name, r in sets.items() if name.startswith("仅限企业"))
    assert len(enterprise_only) == 11
    assert within_cap(sim, [str(r) for r in enterprise_only]) == DEFAULT | {"R06": "1000000.00"}


def test_simulate_cli_writes_its_files_and_leaves_the_warehouse_alone(readings_warehouse: Path, tmp_path: Path):
    before = sha256(readings_warehouse)
    (tmp_path / "readings.txt").write_text("# M10-2 in instalments\nM10-2.cap_scope=lifetime\n", encoding="utf-8")
    completed = run_cli(
        "simulate", "--warehouse", str(readings_warehouse), "--reading", "M02-3.cap_scope=annual",
        "--readings", str(tmp_path / "readings.txt"), "--out", str(tmp_path / "out"), check=True,
    )  # fmt: skip
    assert sha256(readings_warehouse) == before
    assert "差额 +800.00 万元" in completed.stdout  # +10,000,000 (R02) − 2,000,000 (R11)
    assert "M02 " in completed.stdout and "R02" in completed.stdout
    result = json.loads((tmp_path / "out" / "simulation.json").read_text(encoding="utf-8"))
    assert result["totals"]["difference"] == "8000000.00"
    assert {a["application_id"]: a["difference"] for a in result["changed_awards"]} == {
        "R02": "10000000.00",
        "R11": "-2000000.00",
    }
    years = {y["code"]: y["difference"] for y in result["by_award_year"]}
    assert years == {"2025": "0.00", "2026": "8000000.00", "2027": "0.00"}
    assert [b["code"] for b in result["by_beneficiary"]] == sorted({"91330102MA2RDA0104", result["changed_awards"][1]["beneficiary_id"]})
    cells = [cell for sheet in xlsx_cells(tmp_path / "out" / "simulation.xlsx").values() for cell in sheet]
    assert not any(is_formula for _, is_formula, _ in cells)
    assert any(text == "R02" for text, _, _ in cells)
    # a person is a pseudonym, never a resident ID number
    assert "33010219850612001X" not in completed.stdout + (tmp_path / "out" / "simulation.json").read_text("utf-8")


@pytest.mark.parametrize(
    ("reading", "words"),
    [
        ("M99-1.cap_scope=annual", "clause M99-1 has no ambiguous parameter"),
        ("M02-3.day_count=365", "has no parameter 'day_count'"),
        ("M02-3.cap_scope=weekly", "'weekly' is not a reading of M02-3.cap_scope"),
        ("M02-3cap_scope", "not of the form CLAUSE.PARAMETER=VALUE"),
    ],
)
def test_a_bad_reading_is_one_sentence_and_exit_2(readings_warehouse: Path, tmp_path: Path, reading: str, words: str):
    completed = run_cli("simulate", "--warehouse", str(readings_warehouse), "--reading", reading, "--out", str(tmp_path))
    assert completed.returncode == 2
    assert words in completed.stderr
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert not (tmp_path / "simulation.json").exists()


def test_no_reading_gives_the_builds_own_numbers_on_the_sample(sample_warehouse: Path, tmp_path: Path):
    columns = "application_id, eligible_amount, within_cap_amount, over_cap_amount, binding_limit, ineligible_reason"
    with simulator(sample_warehouse) as opened:
        table = opened.run([])
        simulated = opened.con.execute(f"select {columns} from {table} order by all").fetchall()
    with duckdb.connect(str(sample_warehouse), read_only=True) as con:
        built = con.execute(f"select {columns} from marts.fct_awards order by all").fetchall()
    assert len(built) > 2500
    assert simulated == built
    completed = run_cli("simulate", "--warehouse", str(sample_warehouse), "--out", str(tmp_path), check=True)
    assert "与仓库 marts.fct_awards 逐项一致" in completed.stdout
    result = json.loads((tmp_path / "simulation.json").read_text(encoding="utf-8"))
    assert result["changed_awards"] == [] and result["totals"]["difference"] == "0.00"
    assert Decimal(result["totals"]["default"]) > 0


def merged_within_cap(sim, warehouse: Path, readings: list, only_changed: bool) -> dict[str, str]:
    """Every award's within-cap amount under `readings`: the recomputed ones from the run, the others as built."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        amounts = {
            a: str(v) for a, v in con.execute("select application_id, within_cap_amount from marts.fct_awards").fetchall()
        }
    table = sim.run(readings, only_changed=only_changed)
    recomputed = sim.con.execute(f"select application_id, within_cap_amount from {table}").fetchall()
    return amounts | {a: str(v) for a, v in recomputed}


@pytest.mark.parametrize(("readings", "changed"), CASES, ids=[" ".join(r) for r, _ in CASES])
def test_recomputing_only_the_changed_measures_gives_the_same_amounts(
    sim, readings_warehouse: Path, readings: list[str], changed: dict[str, str]
):
    chosen = check_readings([parse_reading(r) for r in readings], sim.options)
    assert merged_within_cap(sim, readings_warehouse, chosen, only_changed=True) == DEFAULT | changed
    assert sim.changed_measures() == sorted({r.split("-")[0] for r in readings})


def test_each_prepared_set_recomputes_few_awards_and_the_same_amounts_on_the_sample(sample_warehouse: Path):
    recomputed = []
    with simulator(sample_warehouse) as opened:
        for _, name, readings in prepared_reading_sets(opened.options):
            everything = merged_within_cap(opened, sample_warehouse, readings, only_changed=False)
            assert merged_within_cap(opened, sample_warehouse, readings, only_changed=True) == everything, name
            recomputed += opened.con.execute(f"select count(*) from {opened.run(readings, only_changed=True)}").fetchone()
    assert len(recomputed) >= 10 and all(0 < n < len(everything) for n in recomputed)
    assert sum(recomputed) < len(recomputed) * len(everything) / 2  # most sets touch one measure of twelve
