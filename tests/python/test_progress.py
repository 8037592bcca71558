"""Progress on stderr: plain timestamped lines when piped (as here), nothing with --quiet, stdout unchanged."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import run_cli

from subsidy_warehouse import progress

LINE = re.compile(r"^\[\d{2}:\d{2}\] 构建 ")


def built_output(shared_build: Path) -> SimpleNamespace:
    """The stdout and stderr of a build made once per run (conftest)."""
    return SimpleNamespace(
        **{name: (shared_build / f"build.{name}").read_text(encoding="utf-8") for name in ("stdout", "stderr")}
    )


@pytest.mark.slow
def test_piped_build_shows_steps_rows_per_file_and_dbt_nodes(sample_build: Path) -> None:
    # the sample's build (conftest.sample_build): run_cli pipes stderr, as a log would
    built = built_output(sample_build)
    lines = built.stderr.splitlines()
    assert lines and all(LINE.match(line) for line in lines), built.stderr
    text = built.stderr
    assert "读取原始文件 read the raw files" in text
    assert "dbt 构建模型与测试 dbt build" in text
    for name in ("beneficiaries.csv", "applications.csv", "disbursements.csv"):
        match = re.search(rf"{name}: ([\d,]+) 行 rows \(([\d,]+) 行/秒 rows/s\)", text)
        assert match, f"no row count for {name}:\n{text}"
        assert int(match[1].replace(",", "")) > 0
    # dbt's own stat line; its order of kinds differs between a full and a partial parse
    parsed = re.search(r"dbt 已解析 parsed: (.*)", text)
    assert parsed, text
    assert all(re.search(rf"(^|, )\d+ {kind}(,|$)", parsed[1]) for kind in ("models", "data tests", "seeds")), text
    nodes = [(int(d), int(t), running) for d, t, running in re.findall(r"dbt (\d+)/(\d+) (→ )?\w+", text)]
    assert len(nodes) >= 3, text
    totals = {t for _, t, _ in nodes}
    assert len(totals) == 1 and totals.pop() > 100  # seeds, models and tests of the whole project
    assert [d for d, _, _ in nodes] == sorted(d for d, _, _ in nodes)
    assert nodes[0][0] == 0 and nodes[0][2]  # the first node, as it starts
    assert any(d == 1 and not running for d, _, running in nodes)  # ... and as it finishes
    assert nodes[-1][0] == nodes[-1][1] and not nodes[-1][2]  # the last node always shown
    assert "写入仓库 write the warehouse" in text and "结束 finished after" in lines[-1]
    # stdout is the result, as before: the summary scripts and tests read
    assert built.stdout.startswith("Warehouse built in ") and "获批项目 awards:" in built.stdout
    assert "dbt " not in built.stdout and "行/秒" not in built.stdout


@pytest.mark.slow
def test_quiet_prints_no_progress(tmp_path: Path, golden_build: Path) -> None:
    generated = run_cli("generate", "--out", str(tmp_path / "raw"), "--scale", "0.2", "--quiet", check=True)
    assert generated.stderr == ""
    assert "applications.csv: " in generated.stdout
    built = built_output(golden_build)  # the golden fixtures' build, run with --quiet (conftest.golden_build)
    assert built.stderr == ""
    assert built.stdout.startswith("Warehouse built in ")


def test_generate_reports_each_shard_and_file(tmp_path: Path) -> None:
    generated = run_cli("generate", "--out", str(tmp_path / "raw"), "--scale", "0.2", check=True)
    assert "生成 生成分片 shard 1/1" in generated.stderr
    assert re.search(r"生成 applications\.csv: [\d,]+ 行 rows", generated.stderr), generated.stderr


def test_silent_outside_a_command_and_plain_lines_when_piped() -> None:
    assert type(progress.current()) is progress.Reporter  # library calls and tests print nothing
    stream = io.StringIO()
    with progress.reporting(progress.make_reporter("审计", quiet=False, stream=stream)) as reporter:
        assert progress.current() is reporter
        reporter.step("dbt 测试")
        reporter.nodes(0, 3, "stg_applications", running=True)
        reporter.nodes(1, 3, "stg_applications")
        reporter.nodes(1, 3, "skipped_within_a_second", running=True)
        reporter.nodes(2, 3, "skipped_within_a_second")
        reporter.nodes(3, 3, "fct_awards")
    assert type(progress.current()) is progress.Reporter
    lines = stream.getvalue().splitlines()
    assert [line.split("] ", 1)[1] for line in lines[:-1]] == [
        "审计 dbt 测试",
        "审计 dbt 0/3 → stg_applications",
        "审计 dbt 1/3 stg_applications",
        "审计 dbt 3/3 fct_awards",
    ]
    quiet = io.StringIO()
    with progress.reporting(progress.make_reporter("审计", quiet=True, stream=quiet)) as reporter:
        reporter.step("x")
    assert quiet.getvalue() == ""


@pytest.mark.slow
def test_piped_audit_shows_its_steps_and_dbt_tests(sample_warehouse: Path, tmp_path: Path) -> None:
    audited = run_cli("audit", "--warehouse", str(sample_warehouse), "--out", str(tmp_path))
    assert audited.returncode == 1, audited.stderr  # the sample has fatal findings on purpose
    steps = [line for line in audited.stderr.splitlines() if re.match(r"^\[\d{2}:\d{2}\] 审计 ", line)]
    text = "\n".join(steps)
    for step in ("dbt 测试 dbt tests (read-only)", "仓库指纹 warehouse fingerprint", "Great Expectations 检查 checks"):
        assert step in text, text
    assert re.search(r"dbt (\d+)/\1 \w+", text), text  # every test run, counted
    assert audited.stdout.startswith("Report: ")
