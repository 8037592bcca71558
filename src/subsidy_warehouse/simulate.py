"""`subsidy simulate`: every award's caps recomputed under other readings of the draft, without touching the warehouse.

The readings are data (seed policy_readings, its choices in seed policy_reading_choices), so the cap models'
SQL does not change with them: dbt compiles the four models of the chain once (int_policy_readings_resolved →
int_policy_parameters → int_awards_static_limits → int_awards_capped) against the warehouse, read-only, and the
compiled SQL runs in an in-memory DuckDB that attaches the warehouse READ_ONLY. The choices and each model's
result are in-memory tables standing in for the warehouse's own, so the warehouse file is never written and the
numbers are those the build's own models would give (with no reading: exactly marts.fct_awards).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from .audit.dbt_checks import READ_ONLY_TARGET
from .dbt_runner import compiled_once, run_dbt
from .errors import UserFacingError
from .exports import ExportWorkbook, sql_text, without_personal_ids
from .paths import output_folder
from .query import duckdb_memory_limit, open_read_only
from .summary import wan

PROJECT = "subsidy_warehouse"
CHAIN = ("int_policy_readings_resolved", "int_policy_parameters", "int_awards_static_limits", "int_awards_capped")
CHOICES_SEED = "policy_reading_choices"
# the awards the chain starts from (int_awards_static_limits reads them); `run(..., only_changed=True)` narrows them
APPLICATIONS = "int_applications_resolved"
# what each model of the chain must read from the one before it (or from the choices), so that no model silently
# reads the warehouse's own table instead of the simulated one
READS = dict(zip(CHAIN, (CHOICES_SEED, *CHAIN[:-1]), strict=True))
READING_PATTERN = re.compile(r"^\s*(?P<clause>[^.=\s]+)\.(?P<parameter>[^=\s]+)\s*=\s*(?P<value>\S+)\s*$")
# the breakdowns of the summary: (key, Chinese label, code column, name column) over the joined awards
BREAKDOWNS = (
    ("measure", "措施", "measure_code", "measure_title_zh"),
    ("clause", "条款", "clause_code", "clause_title_zh"),
    ("bureau", "批准部门", "approving_bureau_code", "bureau_name_zh"),
    ("award_year", "年度", "award_year", "award_year"),
    ("beneficiary", "主体", "beneficiary_id", "beneficiary_name"),
)


@dataclass(frozen=True)
class Reading:
    clause_code: str
    parameter: str
    value: str

    def __str__(self) -> str:
        return f"{self.clause_code}.{self.parameter}={self.value}"


@dataclass(frozen=True)
class ReadingOption:
    """One ambiguous parameter, as the warehouse's seed policy_readings lists it."""

    clause_code: str
    parameter: str
    default_value: str
    alternatives: tuple[str, ...]
    reading_group: str
    source_text_zh: str
    rationale_zh: str


def parse_reading(text: str) -> Reading:
    """'M02-3.cap_scope=annual' → Reading; raises UserFacingError for anything else."""
    match = READING_PATTERN.match(text)
    if match is None:
        raise UserFacingError(f"Reading {text!r} is not of the form CLAUSE.PARAMETER=VALUE (e.g. M02-3.cap_scope=annual).")
    return Reading(match["clause"], match["parameter"], match["value"])


# A readings file has a line per parameter of the draft, a few kilobytes: more is not one (and /dev/zero is endless).
MAX_READINGS_FILE_BYTES = 1 << 20


def read_readings_file(path: Path) -> list[Reading]:
    """One CLAUSE.PARAMETER=VALUE per line; blank lines and lines starting with # are skipped. Only a regular file
    of at most MAX_READINGS_FILE_BYTES is read (a FIFO would wait for a writer, a device might never end)."""
    if not path.exists():
        raise UserFacingError(f"Readings file {path} does not exist.")
    if not path.is_file():
        raise UserFacingError(f"Readings file {path} is not a regular file; give a text file of readings.")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_READINGS_FILE_BYTES + 1)
        if len(data) > MAX_READINGS_FILE_BYTES:
            raise UserFacingError(
                f"Readings file {path} is larger than {MAX_READINGS_FILE_BYTES // 1024:,} KB; a readings file holds "
                "one CLAUSE.PARAMETER=VALUE per line."
            )
        lines = data.decode("utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserFacingError(f"Cannot read the readings file {path}: {exc}.") from None
    return [parse_reading(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def reading_options(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> dict[tuple[str, str], ReadingOption]:
    """The warehouse's seed policy_readings, by (clause, parameter)."""
    prefix = f'"{catalog}".' if catalog else ""
    try:
        rows = con.execute(
            "select clause_code, parameter, default_value, alternative_values, reading_group, source_text_zh, "
            f"rationale_zh from {prefix}policy.policy_readings order by clause_code, parameter"
        ).fetchall()
    except duckdb.CatalogException:
        raise UserFacingError(
            "This warehouse has no policy.policy_readings: it was built before readings existed; rebuild it."
        ) from None
    return {
        (r[0], r[1]): ReadingOption(r[0], r[1], r[2], tuple(r[3].split(";")), r[4], r[5], r[6]) for r in rows
    }


def reading_labels(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[tuple[str, str], str]:
    """Chinese names of the parameters (key (parameter, '')) and of their values (seed policy_reading_labels)."""
    rows = con.execute(f'select parameter, coalesce(value, \'\'), label_zh from "{catalog}".policy.policy_reading_labels')
    return {(parameter, value): label for parameter, value, label in rows.fetchall()}


def check_readings(readings: list[Reading], options: dict[tuple[str, str], ReadingOption]) -> list[Reading]:
    """The readings that differ from the defaults; raises UserFacingError (one sentence) for a reading the
    warehouse does not offer or a parameter given two values."""
    clauses = sorted({clause for clause, _ in options})
    chosen: dict[tuple[str, str], Reading] = {}
    for reading in readings:
        key = (reading.clause_code, reading.parameter)
        if reading.clause_code not in clauses:
            raise UserFacingError(
                f"Reading {reading}: clause {reading.clause_code} has no ambiguous parameter "
                f"(clauses with readings: {', '.join(clauses)})."
            )
        if key not in options:
            offered = sorted(p for c, p in options if c == reading.clause_code)
            raise UserFacingError(
                f"Reading {reading}: clause {reading.clause_code} has no parameter {reading.parameter!r} "
                f"(its parameters: {', '.join(offered)})."
            )
        option = options[key]
        allowed = (option.default_value, *option.alternatives)
        if reading.value not in allowed:
            raise UserFacingError(
                f"Reading {reading}: {reading.value!r} is not a reading of {reading.clause_code}.{reading.parameter} "
                f"(default {option.default_value}; alternatives {', '.join(option.alternatives)})."
            )
        if key in chosen and chosen[key].value != reading.value:
            raise UserFacingError(f"Readings {chosen[key]} and {reading} give one parameter two values.")
        chosen[key] = reading
    return [r for (clause, parameter), r in chosen.items() if r.value != options[(clause, parameter)].default_value]


def prepared_reading_sets(
    options: dict[tuple[str, str], ReadingOption], labels: dict[tuple[str, str], str] | None = None
) -> list[tuple[str, str, list[Reading]]]:
    """One set per reading group and alternative: every parameter of the group switched to that alternative.
    Returns (set_id, Chinese name, readings)."""
    labels = labels or {}
    groups: dict[str, list[ReadingOption]] = {}
    for option in options.values():
        groups.setdefault(option.reading_group, []).append(option)
    sets = []
    for group, members in sorted(groups.items()):
        for value in dict.fromkeys(a for m in members for a in m.alternatives):
            readings = [Reading(m.clause_code, m.parameter, value) for m in members if value in m.alternatives]
            set_id = " ".join(str(r) for r in readings)
            sets.append((set_id, f"{group}：{labels.get((readings[0].parameter, value), value)}", readings))
    return sets


class CapSimulator:
    """The cap models compiled once for a warehouse; `run(readings)` recomputes every award in memory."""

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse.resolve()
        started = time.perf_counter()
        self.compiled, self.relations = compile_chain(self.warehouse)
        self.compile_seconds = time.perf_counter() - started
        self.catalog = self.relations[CHAIN[0]].split(".")[0].strip('"')
        # bounded like a build, spilling into a private folder: unbounded, the reading sets of the dashboards took
        # 6.8 GB at 10M applications (3.2 GB bounded, in the same time)
        self.scratch = tempfile.TemporaryDirectory(prefix="subsidy-simulate-")
        self.con = duckdb.connect(config={"memory_limit": duckdb_memory_limit(), "temp_directory": self.scratch.name})
        self.con.execute(f"attach {sql_text(str(self.warehouse))} as \"{self.catalog}\" (read_only)")
        # nothing but the attached warehouse (and the spill folder): no other file, no URL, no extension, settings locked
        for setting in ("enable_external_access", "autoinstall_known_extensions", "autoload_known_extensions"):
            self.con.execute(f"set {setting} = false")
        self.con.execute("set lock_configuration = true")
        self.options = reading_options(self.con, self.catalog)

        self.labels = reading_labels(self.con, self.catalog)

    def close(self) -> None:
        self.con.close()
        self.scratch.cleanup()

    def run(self, readings: list[Reading], only_changed: bool = False) -> str:
        """Recompute the chain under `readings` (already checked); returns the in-memory awards table.

        only_changed: recompute only the awards of the measures with a clause whose parameters the readings change
        (changed_measures); every other award keeps its amounts in the warehouse. An award's caps depend only on
        its own clause's parameters and on earlier awards of its clause or, for exclusive clauses, its measure."""
        con = self.con
        con.execute(f"create or replace table memory.main.{CHOICES_SEED} (clause_code varchar, parameter varchar, value varchar)")
        if readings:
            con.executemany(
                f"insert into memory.main.{CHOICES_SEED} values (?, ?, ?)",
                [[r.clause_code, r.parameter, r.value] for r in readings],
            )
        replaced = {self.relations[model]: f"memory.main.{model}" for model in (CHOICES_SEED, *CHAIN)}
        for model in CHAIN:
            sql = self.compiled[model]
            check_reads(model, sql, self.relations[READS[model]])
            if model == "int_awards_static_limits" and only_changed:
                check_reads(model, sql, self.relations[APPLICATIONS])
                con.execute("create or replace temp table changed_measures (measure_code varchar)")
                con.executemany("insert into changed_measures values (?)", [[m] for m in self.changed_measures()])
                con.execute(
                    f"create or replace temp view changed_applications as select * from {self.relations[APPLICATIONS]} "
                    "where clause_code in (select clause_code from memory.main.int_policy_parameters "
                    "where measure_code in (select measure_code from changed_measures))"
                )
                sql = sql.replace(self.relations[APPLICATIONS], "changed_applications")
            for relation, in_memory in replaced.items():
                sql = sql.replace(relation, in_memory)
            con.execute(f"create or replace table memory.main.{model} as {sql}")
        return f"memory.main.{CHAIN[-1]}"

    def changed_measures(self) -> list[str]:
        """The measures with a clause whose parameters under the readings (the in-memory int_policy_parameters)
        differ from the warehouse's, before or after."""
        warehouse = self.relations["int_policy_parameters"]
        rows = self.con.execute(
            f"select measure_code from (select * from memory.main.int_policy_parameters except select * from {warehouse}) "
            f"union select measure_code from (select * from {warehouse} except select * from memory.main.int_policy_parameters)"
        ).fetchall()
        return sorted(measure for (measure,) in rows)


def check_reads(model: str, sql: str, relation: str) -> None:
    """The simulation swaps `relation` in the compiled SQL of `model`: a model that no longer names it would
    silently read the warehouse's own table instead."""
    if relation not in sql:
        raise RuntimeError(f"compiled {model} does not read {relation}")


def compile_chain(warehouse: Path) -> tuple[dict[str, str], dict[str, str]]:
    """dbt's compiled SQL of the chain (as a full build runs it) and the relation name of every node involved,
    compiled once per code version and warehouse file name (dbt_runner.compiled_once; "simulate-chain" since the
    relations include the applications the chain starts from)."""
    compiled, relations = compiled_once("simulate-chain", warehouse, lambda: compile_with_dbt(warehouse))
    return compiled, relations


def compile_with_dbt(warehouse: Path) -> tuple[dict[str, str], dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix="subsidy-simulate-") as logs:
        run = run_dbt(
            ["compile", "--select", *CHAIN, "--full-refresh"],
            warehouse,
            Path(logs),
            target=READ_ONLY_TARGET,
            with_manifest=True,
        )
    if not run.success:
        raise UserFacingError(f"dbt could not compile the cap models on {warehouse}: {run.error or 'see dbt.log'}.")
    nodes = run.manifest.get("nodes", {})
    compiled = {m: nodes[f"model.{PROJECT}.{m}"].get("compiled_code") or "" for m in CHAIN}
    relations = {m: nodes[f"model.{PROJECT}.{m}"]["relation_name"] for m in CHAIN}
    relations[CHOICES_SEED] = nodes[f"seed.{PROJECT}.{CHOICES_SEED}"]["relation_name"]
    relations[APPLICATIONS] = nodes[f"model.{PROJECT}.{APPLICATIONS}"]["relation_name"]
    if not all(compiled.values()):
        raise UserFacingError(f"dbt compiled no SQL for the cap models on {warehouse}.")
    return compiled, relations


@contextmanager
def simulator(warehouse: Path) -> Iterator[CapSimulator]:
    with open_read_only(warehouse) as con:  # the usual refusals (missing, not DuckDB, locked) in one sentence
        reading_options(con)
    sim = CapSimulator(warehouse)
    try:
        yield sim
    finally:
        sim.close()


def compared_awards_sql(sim: CapSimulator, awards_table: str) -> str:
    """Every award with its within-cap amount in the warehouse (fct_awards) and under the readings."""
    c = f'"{sim.catalog}"'
    return f"""
        select
            facts.application_id, facts.beneficiary_id,
            coalesce(people.beneficiary_id_display, facts.beneficiary_name) as beneficiary_name,
            facts.clause_code, clauses.clause_title_zh, facts.measure_code, clauses.measure_title_zh,
            facts.approving_bureau_code, coalesce(bureaus.bureau_name_zh, facts.approving_bureau) as bureau_name_zh,
            facts.award_year, facts.approved_amount,
            facts.within_cap_amount as default_amount,
            simulated.within_cap_amount as simulated_amount,
            facts.binding_limit as default_binding_limit,
            simulated.binding_limit as simulated_binding_limit
        from {c}.marts.fct_awards as facts
        inner join {awards_table} as simulated on facts.application_id = simulated.application_id
        left join {c}.marts.dim_clauses as clauses on facts.clause_code = clauses.clause_code
        left join {c}.marts.dim_bureaus as bureaus on facts.approving_bureau_code = bureaus.bureau_code
        left join (
            select beneficiary_id, beneficiary_id_display from {c}.marts.dim_beneficiaries
            where beneficiary_type = 'person'
        ) as people on facts.beneficiary_id = people.beneficiary_id
    """


def budget_sql(sim: CapSimulator, awards_table: str) -> str:
    """Every award's year, measure and within-cap amount in the warehouse and under the readings, where
    `awards_table` holds only the awards recomputed (run(only_changed=True)): the others keep theirs."""
    c = f'"{sim.catalog}"'
    return f"""
        select
            facts.award_year, facts.measure_code, clauses.measure_title_zh,
            facts.within_cap_amount as default_amount,
            coalesce(simulated.within_cap_amount, facts.within_cap_amount) as simulated_amount
        from {c}.marts.fct_awards as facts
        left join {awards_table} as simulated on facts.application_id = simulated.application_id
        left join {c}.marts.dim_clauses as clauses on facts.clause_code = clauses.clause_code
    """


def money(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):.2f}"


def summarise(sim: CapSimulator, readings: list[Reading], awards_table: str) -> dict:
    """The comparison as plain data (amounts as strings of yuan with two decimals)."""
    con = sim.con
    con.execute(f"create or replace temp table compared as {compared_awards_sql(sim, awards_table)}")
    count, default, simulated = con.execute(
        "select count(*), coalesce(sum(default_amount), 0), coalesce(sum(simulated_amount), 0) from compared"
    ).fetchone()
    missing = con.execute(
        f'select count(*) from "{sim.catalog}".marts.fct_awards where application_id not in '
        f"(select application_id from {awards_table})"
    ).fetchone()[0]
    result: dict = {
        "schema_version": 1,
        "warehouse": str(sim.warehouse),
        "readings": [
            {
                "clause_code": r.clause_code,
                "parameter": r.parameter,
                "value": r.value,
                "default_value": sim.options[(r.clause_code, r.parameter)].default_value,
                "parameter_zh": sim.labels.get((r.parameter, ""), r.parameter),
                "value_zh": sim.labels.get((r.parameter, r.value), r.value),
                "default_zh": sim.labels.get(
                    (r.parameter, sim.options[(r.clause_code, r.parameter)].default_value), r.value
                ),
                "source_text_zh": sim.options[(r.clause_code, r.parameter)].source_text_zh,
            }
            for r in readings
        ],
        "awards": count,
        "awards_not_recomputed": missing,
        "totals": {"default": money(default), "simulated": money(simulated), "difference": money(simulated - default)},
    }
    for key, _, code, name in BREAKDOWNS:
        # beneficiaries: only those whose total changes (every other one is the same under both readings)
        having = "having sum(simulated_amount) <> sum(default_amount)" if key == "beneficiary" else ""
        rows = con.execute(
            f"select {code}, any_value({name}), sum(default_amount), sum(simulated_amount) from compared "
            f"group by {code} {having} order by {code}"
        ).fetchall()
        result[f"by_{key}"] = [
            {"code": str(r[0]), "name": str(r[1]), "default": money(r[2]), "simulated": money(r[3]),
             "difference": money(r[3] - r[2])}
            for r in rows
        ]  # fmt: skip
    changed = con.execute(
        "select application_id, beneficiary_id, beneficiary_name, clause_code, award_year, approved_amount, "
        "default_amount, simulated_amount, default_binding_limit, simulated_binding_limit from compared "
        "where simulated_amount <> default_amount order by application_id"
    ).fetchall()
    result["changed_awards"] = [
        {
            "application_id": r[0], "beneficiary_id": r[1], "beneficiary_name": r[2], "clause_code": r[3],
            "award_year": r[4], "approved": money(r[5]), "default": money(r[6]), "simulated": money(r[7]),
            "difference": money(r[7] - r[6]), "default_binding_limit": r[8], "simulated_binding_limit": r[9],
        }
        for r in changed
    ]  # fmt: skip
    return without_personal_ids(result)


def signed_wan(amount: str) -> str:
    """A difference in 万元 with its sign, rounded half up like every amount shown (summary.wan)."""
    return ("-" if Decimal(amount) < 0 else "+") + wan(abs(Decimal(amount)))


def write_workbook(path: Path, result: dict) -> None:
    book = ExportWorkbook(path)
    bold = {"bold": True}
    sheet = book.add_sheet("汇总")
    header = ("维度", "代码", "名称", "默认口径（元）", "所选口径（元）", "差额（元）")
    for col, title in enumerate(header):
        book.write(sheet, 0, col, title, bold)
    row = 1
    totals = result["totals"]
    for col, value in enumerate(("合计", "", "", *(Decimal(totals[k]) for k in ("default", "simulated", "difference")))):
        book.write(sheet, row, col, value)
    for key, label, _, _ in BREAKDOWNS:
        for item in result[f"by_{key}"]:
            row += 1
            values = (label, item["code"], item["name"], *(Decimal(item[k]) for k in ("default", "simulated", "difference")))
            for col, value in enumerate(values):
                book.write(sheet, row, col, value)
    sheet.set_column(0, 2, 24)
    sheet.set_column(3, 5, 18)
    changed = book.add_sheet("变化项目")
    columns = (
        ("application_id", "申报编号"), ("beneficiary_id", "主体编号"), ("beneficiary_name", "主体名称"),
        ("clause_code", "条款"), ("award_year", "年度"), ("approved", "核定金额（元）"),
        ("default", "默认口径（元）"), ("simulated", "所选口径（元）"), ("difference", "差额（元）"),
        ("default_binding_limit", "默认约束上限"), ("simulated_binding_limit", "所选口径约束上限"),
    )  # fmt: skip
    for col, (_, title) in enumerate(columns):
        book.write(changed, 0, col, title, bold)
    money_keys = {"approved", "default", "simulated", "difference"}
    for row, award in enumerate(result["changed_awards"], start=1):
        for col, (key, _) in enumerate(columns):
            value = award[key]
            book.write(changed, row, col, Decimal(value) if key in money_keys else value)
    chosen = book.add_sheet("所选口径")
    for col, title in enumerate(("条款", "参数", "所选口径", "默认口径", "原文")):
        book.write(chosen, 0, col, title, bold)
    for row, reading in enumerate(result["readings"], start=1):
        keys = ("clause_code", "parameter", "value", "default_value", "source_text_zh")
        for col, key in enumerate(keys):
            book.write(chosen, row, col, reading[key])
    book.close()


def summary_lines(result: dict, top: int = 10) -> list[str]:
    totals = result["totals"]
    readings = "；".join(
        f"{r['clause_code']} {r['parameter_zh']}：{r['value_zh']}（默认：{r['default_zh']}）" for r in result["readings"]
    )
    lines = [
        f"政策口径测算：{result['warehouse']}",
        f"所选口径：{readings or '无（全部默认口径）'}",
        f"获批项目 {result['awards']:,} 项，金额变化 {len(result['changed_awards']):,} 项",
        f"上限内金额合计：默认 {wan(totals['default'])} 万元 → 所选口径 {wan(totals['simulated'])} 万元，"
        f"差额 {signed_wan(totals['difference'])} 万元",
    ]
    if not result["readings"]:
        same = not result["changed_awards"] and result["awards_not_recomputed"] == 0
        lines.append("与仓库 marts.fct_awards 逐项一致。" if same else "与仓库 marts.fct_awards 不一致：请重新构建仓库。")
    for key, label, _, _ in BREAKDOWNS:
        # every measure and year; the clauses, bureaus and beneficiaries whose total changes (the largest first)
        rows = result[f"by_{key}"]
        if key not in ("measure", "award_year"):
            rows = sorted((r for r in rows if Decimal(r["difference"]) != 0), key=lambda r: -abs(Decimal(r["difference"])))
        if not rows:
            continue
        shown = rows[:top] if key == "beneficiary" else rows
        more = "" if len(shown) == len(rows) else f"变化最大的 {len(shown)} 个"
        lines.append(f"按{label}（万元：默认 → 所选口径，差额）：{more}")
        for r in shown:
            name = r["name"] if r["name"] != r["code"] else ""
            lines.append(
                f"  {r['code']} {name}  {wan(r['default'])} → {wan(r['simulated'])}  {signed_wan(r['difference'])}"
            )
    changed = result["changed_awards"]
    if changed:
        lines.append(f"金额变化的项目（{len(changed):,} 项，前 {min(top, len(changed))} 项；全部见 simulation.json / simulation.xlsx）：")
        for a in changed[:top]:
            lines.append(
                f"  {a['application_id']} {a['clause_code']} {a['award_year']} {a['beneficiary_name']}：{wan(a['default'])} → "
                f"{wan(a['simulated'])} 万元（{signed_wan(a['difference'])}）"
            )
    return lines


@dataclass(frozen=True)
class Simulation:
    result: dict
    json_path: Path
    xlsx_path: Path
    seconds: float
    compile_seconds: float


def simulate(warehouse: Path, readings: list[Reading], out_dir: Path) -> Simulation:
    """Recompute every award of `warehouse` under `readings`; write DIR/simulation.json and simulation.xlsx."""
    started = time.perf_counter()
    if out_dir.exists() and not out_dir.is_dir():
        raise UserFacingError(f"--out {out_dir} is a file; give a folder for the simulation.")
    with open_read_only(warehouse) as con:
        chosen = check_readings(readings, reading_options(con))
    with simulator(warehouse) as sim:
        result = summarise(sim, chosen, sim.run(chosen))
        compile_seconds = sim.compile_seconds
    result["seconds"] = round(time.perf_counter() - started, 2)
    output_folder(out_dir, "the simulation")  # made only now: a simulation that fails leaves no folder behind
    json_path, xlsx_path = out_dir / "simulation.json", out_dir / "simulation.xlsx"
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    write_workbook(xlsx_path, result)
    return Simulation(result, json_path, xlsx_path, time.perf_counter() - started, compile_seconds)


@dataclass(frozen=True)
class ReadingTables:
    """What the dashboards show about the readings: every ambiguity, and the budget under each prepared set."""

    readings: list[tuple]  # clause, clause title, parameter, default, alternatives, text, rationale, group (Chinese)
    sets: list[tuple]  # set no, name, readings, default 万元, simulated 万元, difference 万元, awards changed
    budget: list[tuple]  # set no, name, award year, measure, measure title, default, simulated, difference (万元)


def reading_tables(warehouse: Path) -> ReadingTables:
    """Simulate every prepared reading set (prepared_reading_sets) on `warehouse`, read-only."""
    with simulator(warehouse) as sim:
        c = f'"{sim.catalog}"'
        titles = dict(sim.con.execute(f"select clause_code, clause_title_zh from {c}.marts.dim_clauses").fetchall())

        def label(parameter: str, value: str) -> str:
            return sim.labels.get((parameter, value), value)

        readings = [
            (
                o.clause_code, titles.get(o.clause_code, ""), label(o.parameter, ""), label(o.parameter, o.default_value),
                "；".join(label(o.parameter, a) for a in o.alternatives), o.source_text_zh, o.rationale_zh,
                o.reading_group,
            )
            for o in sim.options.values()
        ]  # fmt: skip
        sets, budget = [], []
        for number, (_, name, chosen) in enumerate(prepared_reading_sets(sim.options, sim.labels), start=1):
            sim.con.execute(f"create or replace temp table compared as {budget_sql(sim, sim.run(chosen, only_changed=True))}")
            described = "；".join(f"{r.clause_code} {label(r.parameter, '')}：{label(r.parameter, r.value)}" for r in chosen)
            default, simulated, changed = sim.con.execute(
                "select coalesce(sum(default_amount), 0), coalesce(sum(simulated_amount), 0), "
                "count(*) filter (where simulated_amount <> default_amount) from compared"
            ).fetchone()
            sets.append((number, name, described, wan_float(default), wan_float(simulated),
                         wan_float(simulated - default), changed))  # fmt: skip
            for year, measure, title, year_default, year_simulated in sim.con.execute(
                "select cast(award_year as varchar), measure_code, any_value(measure_title_zh), sum(default_amount), "
                "sum(simulated_amount) from compared group by 1, 2 order by 1, 2"
            ).fetchall():
                budget.append((number, name, year, measure, title, wan_float(year_default), wan_float(year_simulated),
                               wan_float(year_simulated - year_default)))  # fmt: skip
    return ReadingTables(readings, sets, budget)


def wan_float(amount: Decimal) -> float:
    """万元 for the dashboards (their columns are doubles, like every other 万元 column they show)."""
    return float(amount / 10000)
