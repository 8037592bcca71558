"""`subsidy query`: read-only SQL in three formats, clear errors."""

from __future__ import annotations

import csv
import http.server
import io
import json
import shutil
import threading
import urllib.request
from pathlib import Path

import pytest
from helpers import run_cli


def test_query_formats(sample_warehouse: Path):
    sql = "select clause_code, count(*) as n from marts.fct_awards group by clause_code order by clause_code"
    as_csv = run_cli("query", sql, "-w", str(sample_warehouse), "--format", "csv", check=True).stdout
    lines = as_csv.strip().splitlines()
    assert lines[0] == "clause_code,n"
    assert lines[1].startswith("M01-1,")
    as_json = json.loads(run_cli("query", sql, "-w", str(sample_warehouse), "--format", "json", check=True).stdout)
    assert {row["clause_code"] for row in as_json} >= {"M01-1", "M11-2", "M11-4"}
    table = run_cli("query", sql, "-w", str(sample_warehouse), check=True).stdout
    assert "M11-4" in table


def test_query_is_read_only_and_errors_are_clear(sample_warehouse: Path, tmp_path: Path):
    write = run_cli("query", "delete from marts.fct_awards", "-w", str(sample_warehouse))
    assert write.returncode == 2
    assert "read-only" in write.stderr.lower()
    bad_format = run_cli("query", "select 1", "-w", str(sample_warehouse), "--format", "xml")
    assert bad_format.returncode == 2 and "--format must be one of" in bad_format.stderr
    missing = run_cli("query", "select 1", "-w", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    not_duckdb = tmp_path / "notes.duckdb"
    not_duckdb.write_text("hello")
    garbage = run_cli("query", "select 1", "-w", str(not_duckdb))
    assert garbage.returncode == 2 and "not a DuckDB warehouse" in garbage.stderr
    for completed in (write, bad_format, missing, garbage):
        assert "Traceback" not in completed.stderr


# --- `subsidy query` is read-only and offline ---------------------------------------------------------------
# Every class of statement a hostile tester used to write files, read files or reach the network, with
# several variants each. {out} is an empty folder of the test, {port} a local HTTP server that records every
# connection, {raw} the raw CSV files (personal IDs in clear) the sample warehouse was built from.
REFUSED = {
    "copy to a file": [
        "copy marts.fct_awards to '{out}/awards.csv'",
        "copy (select * from marts.dim_beneficiaries) to '{out}/b.parquet' (format parquet)",
        "copy marts.fct_awards to '{out}/awards.json' (format json)",
        "select 1; copy (select 1) to '{out}/second-statement.csv'",
        "copy (select 1 as x) to 'subsidy-query-probe.csv'",  # relative to the working directory
        "copy (select 1 as x) to '/dev/stdout'",
    ],
    "export database": [
        "export database '{out}/dump'",
        "export database '{out}/dump-parquet' (format parquet)",
        "export database '{out}'",
    ],
    "profiling output": [
        "pragma profiling_output = '{out}/profile.json'",
        "set profiling_output = '{out}/profile.json'",
        "pragma enable_profiling = 'json'",
        "set enable_profiling = 'query_tree'; select 1",
    ],
    "install or load an extension": [
        "install httpfs",
        "force install httpfs",
        "load httpfs",
        "install httpfs from 'http://127.0.0.1:{port}'",
        "install 'http://127.0.0.1:{port}/httpfs.duckdb_extension'",
        "load '{out}/evil.duckdb_extension'",
        "set custom_extension_repository = 'http://127.0.0.1:{port}'",
        "set allow_unsigned_extensions = true",
    ],
    "network": [
        "select * from read_csv('http://127.0.0.1:{port}/x.csv')",
        "select * from 'http://127.0.0.1:{port}/x.csv'",
        "select * from read_parquet('http://127.0.0.1:{port}/x.parquet')",
        "select * from read_json('http://127.0.0.1:{port}/x.json')",
        "select * from read_text('http://127.0.0.1:{port}/x.txt')",
        "attach 'http://127.0.0.1:{port}/w.duckdb' as remote",
        "select * from read_csv('https://subsidy-probe.invalid/x.csv')",
        "select * from read_csv('s3://subsidy-probe/x.csv')",
    ],
    "read a local file": [
        "select * from read_csv('/etc/passwd')",
        "select * from read_csv('{raw}/beneficiaries.csv')",
        "select * from read_text('/etc/passwd')",
        "select * from read_blob('/etc/hostname')",
        "select * from glob('/etc/*')",
        "select * from glob('{raw}/*')",
        "select * from sniff_csv('{raw}/beneficiaries.csv')",
        "select * from parquet_metadata('/etc/passwd')",
        "attach '/etc/passwd' as passwd",
        "attach '{out}/other.duckdb' as other",
    ],
    "change the sandbox settings": [
        "set enable_external_access = true",
        "set global enable_external_access = true",
        "reset enable_external_access",
        "set lock_configuration = false",
        "reset lock_configuration",
        "set lock_configuration = false; copy (select 1) to '{out}/after-unlock.csv'",
        "set allowed_directories = ['/']",
        "set temp_directory = '{out}'",
        "set autoload_known_extensions = true",
    ],
}
REFUSED_CASES = [(kind, statement) for kind, statements in REFUSED.items() for statement in statements]


class RecordingServer(http.server.ThreadingHTTPServer):
    """A local HTTP server that records every connection made to it (and answers with a small CSV)."""

    def __init__(self) -> None:
        self.connections: list[tuple[str, int]] = []
        super().__init__(("127.0.0.1", 0), CsvHandler)

    def get_request(self):
        connection, address = super().get_request()
        self.connections.append(address)
        return connection, address


class CsvHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        body = b"a,b\n1,2\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def local_server():
    server = RecordingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # the recorder works: a real request is seen, so an empty record below means no request was made
    with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/x.csv", timeout=5) as response:
        assert response.read() == b"a,b\n1,2\n"
    assert len(server.connections) == 1
    server.connections.clear()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("kind", "statement"), REFUSED_CASES, ids=[f"{k}: {s}" for k, s in REFUSED_CASES])
def test_query_refuses_files_network_extensions_and_settings(
    kind: str, statement: str, sample_warehouse: Path, sample_raw_dir: Path, local_server, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    warehouse_folder_before = sorted(p.name for p in sample_warehouse.parent.iterdir())
    sql = statement.format(out=out, port=local_server.server_port, raw=sample_raw_dir, warehouse=sample_warehouse)
    completed = run_cli("query", sql, "-w", str(sample_warehouse), "--format", "csv")
    assert completed.returncode == 2, (kind, completed.stdout, completed.stderr)
    assert completed.stdout == ""
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), completed.stderr
    assert "Traceback" not in completed.stderr
    assert sorted(out.iterdir()) == [], f"{kind}: files were written"
    assert not Path("subsidy-query-probe.csv").exists()
    assert sorted(p.name for p in sample_warehouse.parent.iterdir()) == warehouse_folder_before
    assert local_server.connections == [], f"{kind}: the statement reached the network"


def test_query_cannot_write_into_duckdbs_temp_folder(sample_warehouse: Path, tmp_path: Path) -> None:
    # DuckDB lets a sandboxed connection write into its temp folder (by default FILE.tmp beside the warehouse),
    # so spilling is off; the folder exists here as if a big query had spilled into it
    temp_folder = Path(f"{sample_warehouse}.tmp")
    temp_folder.mkdir()
    try:
        for sql in (
            f"copy (select * from marts.dim_beneficiaries) to '{temp_folder}/people.csv'",
            f"select * from glob('{temp_folder}/*')",
        ):
            completed = run_cli("query", sql, "-w", str(sample_warehouse))
            assert completed.returncode == 2 and len(completed.stderr.strip().splitlines()) == 1, completed.stderr
        assert list(temp_folder.iterdir()) == []
    finally:
        shutil.rmtree(temp_folder)


def test_query_refusals_say_why(sample_warehouse: Path, tmp_path: Path) -> None:
    cases = {
        f"copy marts.fct_awards to '{tmp_path}/a.csv'": "cannot read or write other files",
        "set enable_external_access = true": "cannot change DuckDB settings",
        "delete from marts.fct_awards": "read-only",
    }
    for sql, reason in cases.items():
        completed = run_cli("query", sql, "-w", str(sample_warehouse))
        assert completed.returncode == 2 and reason in completed.stderr, completed.stderr


ANALYST_QUERIES = [
    "select application_id, approved_amount from marts.fct_awards order by application_id limit 5",
    "with by_clause as (select clause_code, sum(approved_amount) as approved from marts.fct_awards group by 1) "
    "select * from by_clause order by approved desc",
    "select application_id, sum(approved_amount) over (partition by beneficiary_id order by approved_on, "
    "application_id) as running from marts.fct_awards limit 10",
    "describe marts.fct_awards",
    "show all tables",
    "summarize marts.fct_awards",
    "select table_schema, table_name from information_schema.tables where table_schema = 'marts'",
    "select column_name, data_type from information_schema.columns where table_name = 'fct_awards'",
    "select * from duckdb_settings() where name = 'enable_external_access'",
    "pragma table_info('marts.fct_awards')",
    "set search_path = 'marts'; select count(*) from fct_awards",
]


@pytest.mark.parametrize("sql", ANALYST_QUERIES)
def test_analyst_queries_still_work(sql: str, sample_warehouse: Path) -> None:
    as_json = run_cli("query", sql, "-w", str(sample_warehouse), "-f", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)
    as_csv = run_cli("query", sql, "-w", str(sample_warehouse), "-f", "csv")  # nested values (show) as text
    assert as_csv.returncode == 0, as_csv.stderr
    assert len(list(csv.reader(io.StringIO(as_csv.stdout)))) >= 2


def test_query_writes_types_polars_cannot(sample_warehouse: Path) -> None:
    sql = "select '\\x01'::blob as b, interval 1 day as i, 1::variant as v, [1, 2] as l, {'k': 1} as s"
    as_json = run_cli("query", sql, "-w", str(sample_warehouse), "-f", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [{"b": "\\x01", "i": "1 day", "v": "1", "l": [1, 2], "s": {"k": 1}}]
    as_csv = run_cli("query", sql, "-w", str(sample_warehouse), "-f", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    assert list(csv.reader(io.StringIO(as_csv.stdout)))[1] == ["\\x01", "1 day", "1", "[1, 2]", "{'k': 1}"]
    assert run_cli("query", sql, "-w", str(sample_warehouse)).returncode == 0


def test_query_writes_dates_polars_cannot_print(sample_warehouse: Path) -> None:
    # DuckDB's infinite dates and years beyond ±262,142 made polars panic while printing (a Rust backtrace and a
    # Python traceback): those columns come out as DuckDB's text, the others keep their type
    sql = "select 'infinity'::date as d, '-infinity'::timestamp as t, '294247-01-01'::date as far, date '2025-03-01' as ok"
    as_json = run_cli("query", sql, "-w", str(sample_warehouse), "-f", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [{"d": "infinity", "t": "-infinity", "far": "294247-01-01", "ok": "2025-03-01"}]
    as_table = run_cli("query", sql, "-w", str(sample_warehouse))
    assert as_table.returncode == 0 and as_table.stderr == "", as_table.stderr
    assert "infinity" in as_table.stdout and "date" in as_table.stdout  # `ok` is still a date column


def test_sandbox_settings_hold_on_the_connection(sample_warehouse: Path) -> None:
    sql = (
        "select name, value from duckdb_settings() where name in ('enable_external_access', "
        "'autoinstall_known_extensions', 'autoload_known_extensions', 'lock_configuration', 'temp_directory') "
        "order by name"
    )
    completed = run_cli("query", sql, "-w", str(sample_warehouse), "-f", "json", check=True)
    assert {row["name"]: row["value"] for row in json.loads(completed.stdout)} == {
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "enable_external_access": "false",
        "lock_configuration": "true",
        "temp_directory": "",
    }


def test_query_csv_neutralises_formula_text(sample_warehouse: Path) -> None:
    sql = (
        "select * from (values ('=HYPERLINK(\"http://x\",\"y\")', -1200.50::decimal(18, 2)), ('+1', 2), ('-2', 3), "
        "('@SUM(A1)', 4), ('＝1+1', 5), ('plain', -6)) as t(label, amount)"
    )
    rows = list(csv.reader(io.StringIO(run_cli("query", sql, "-w", str(sample_warehouse), "-f", "csv").stdout)))
    assert rows == [
        ["label", "amount"],
        ['\'=HYPERLINK("http://x","y")', "-1200.50"],
        ["'+1", "2.00"],
        ["'-2", "3.00"],
        ["'@SUM(A1)", "4.00"],
        ["'＝1+1", "5.00"],
        ["plain", "-6.00"],
    ]
    as_json = json.loads(run_cli("query", sql, "-w", str(sample_warehouse), "-f", "json").stdout)
    assert as_json[0]["label"] == '=HYPERLINK("http://x","y")'  # JSON is for machines: values exactly as stored
    # a PIVOT makes values into column names, which head the CSV
    pivot = f"pivot ({sql}) on label using sum(amount)"
    header = next(csv.reader(io.StringIO(run_cli("query", pivot, "-w", str(sample_warehouse), "-f", "csv").stdout)))
    assert sorted(header) == sorted(['\'=HYPERLINK("http://x","y")', "'+1", "'-2", "'@SUM(A1)", "'＝1+1", "plain"])
