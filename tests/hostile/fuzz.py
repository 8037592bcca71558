"""`make fuzz`: mutate the sample's raw files and bureau files into hundreds of variants, run the real CLI
on each, and check the invariants a district finance office relies on. Prints the tally.

For every variant:
- exit_code: `subsidy load` / `subsidy build` exit 0 (done) or 2 (refused), never anything else;
- one_sentence: a refusal is exactly one line on stderr, `error: …`;
- no_traceback: no Python traceback on stdout or stderr, whatever happened;
- nothing_written: a refused build leaves no warehouse and no build folder; a refused load leaves the raw
  folder byte for byte as it was;
- lines_accounted: after a build, for every raw file, the physical lines counted from its bytes =
  header + blank + the lines of the staged, rejected and collapsed records (audit.raw_reconciliation);
- no_personal_id: no resident ID number in any table outside `raw`, in anything printed, and (for every
  fifth build) in any file of an audit run.

    python tests/hostile/fuzz.py [--variants 200] [--seed 1] [--workers 2] [--subsidy PATH] [--out DIR]

`--subsidy` points at the CLI under test (another checkout's .venv/bin/subsidy, to compare). The result of
every variant goes to DIR/fuzz.json; the exit code is 1 when any invariant failed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python"))
from helpers import message_lines, personal_ids_outside_raw  # noqa: E402

from subsidy_warehouse.identifiers import find_personal_ids, resident_id_check_char  # noqa: E402

RAW_FILES = ("beneficiaries.csv", "applications.csv", "disbursements.csv")
INVARIANTS = ("exit_code", "one_sentence", "no_traceback", "nothing_written", "lines_accounted", "no_personal_id")


def _person(body: str) -> str:
    return body + resident_id_check_char(body)


HOSTILE_VALUES = [
    '"', '""', '"unclosed', 'mid"quote', "=HYPERLINK(\"http://x\",\"y\")", "+1", "-1", "@SUM(A1)", "\t=1", "'; drop table raw.files; --",
    "9999999999999999.99", "999999999999.99", "1e308", "-0", "NaN", "１２３", "2025-02-30", "0000-00-00", "99999999999",
    "{{ var('id_hash_salt') }}", "\x00", "\r", "\ufeff", "长" * 1500, _person("33010219850612001"), "330102850612001",
    _person("33010219900101002").lower(), " ".join([_person("33010219920202003")[:6], _person("33010219920202003")[6:]]),
    "\u3000", "null", "NULL", "\\N", "",
]  # fmt: skip


@dataclass
class Variant:
    number: int
    kind: str  # raw | bureau
    mutations: list[str] = field(default_factory=list)
    results: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    exit_codes: list[int] = field(default_factory=list)

    def check(self, invariant: str, holds: bool, note: str = "") -> None:
        self.results[invariant] = self.results.get(invariant, True) and holds
        if not holds and note:
            self.notes.append(f"{invariant}: {note}"[:500])


# --- mutations of CSV text ----------------------------------------------------------------------------


def mutate_csv_bytes(data: bytes, rng: random.Random, encoding: str = "utf-8") -> tuple[bytes, str]:
    """One mutation of a CSV file's bytes, and its name."""
    lines = data.split(b"\n")
    body = range(1, max(2, len(lines) - 1))
    choice = rng.randrange(16)
    if choice == 0:  # a stray quote at the start of a field
        n = rng.choice(body)
        fields = lines[n].split(b",")
        i = rng.randrange(len(fields))
        fields[i] = b'"' + fields[i]
        lines[n] = b",".join(fields)
        return b"\n".join(lines), "stray quote at a field's start"
    if choice == 1:  # a quote anywhere
        at = rng.randrange(len(data))
        return data[:at] + b'"' + data[at:], "quote anywhere"
    if choice == 2:  # a hostile value in a field
        n = rng.choice(body)
        fields = lines[n].split(b",")
        value = rng.choice(HOSTILE_VALUES)
        if "," in value or '"' in value or "\n" in value:
            value = '"' + value.replace('"', '""') + '"'
        fields[rng.randrange(len(fields))] = value.encode(encoding, "replace")
        lines[n] = b",".join(fields)
        return b"\n".join(lines), "hostile value"
    if choice == 3:  # a field dropped or added
        n = rng.choice(body)
        lines[n] = lines[n] + b",extra" if rng.random() < 0.5 else lines[n].rsplit(b",", 1)[0]
        return b"\n".join(lines), "ragged row"
    if choice == 4:
        return data.replace(b"\n", b"\r\n"), "CRLF line endings"
    if choice == 5:  # a carriage return or NUL inside a line
        at = rng.randrange(len(data))
        return data[:at] + rng.choice([b"\r", b"\x00"]) + data[at:], "CR or NUL inside a line"
    if choice == 6:  # blank and whitespace lines
        for _ in range(rng.randrange(1, 5)):
            lines.insert(rng.choice(body), rng.choice([b"", b"   ", b"\t"]))
        return b"\n".join(lines), "blank lines"
    if choice == 7:  # duplicated rows (exact copies)
        for _ in range(rng.randrange(1, 5)):
            n = rng.choice(body)
            lines.insert(n, lines[n])
        return b"\n".join(lines), "duplicated rows"
    if choice == 8:  # the file cut short, possibly inside a character
        return data[: rng.randrange(1, len(data))], "truncated"
    if choice == 9:  # a byte that is not UTF-8
        at = rng.randrange(len(data))
        return data[:at] + bytes([rng.choice([0xFF, 0xC3, 0x80, 0xFE])]) + data[at:], "invalid byte"
    if choice == 10:  # the header damaged
        header = lines[0].split(b",")
        if rng.random() < 0.5:
            header.pop(rng.randrange(len(header)))
        else:
            header.append(rng.choice(header))
        lines[0] = b",".join(header)
        return b"\n".join(lines), "header damaged"
    if choice == 11:
        return b"" if rng.random() < 0.5 else lines[0] + b"\n", "empty or header only"
    if choice == 12:  # a quoted value with line breaks, plausible or not
        n = rng.choice(body)
        fields = lines[n].split(b",")
        breaks = rng.choice([1, 2, 12])
        fields[rng.randrange(len(fields))] = b'"' + b"\n".join([b"x"] * (breaks + 1)) + b'"'
        lines[n] = b",".join(fields)
        return b"\n".join(lines), "quoted line breaks"
    if choice == 13:  # two rows swapped, one deleted
        a, b = rng.choice(body), rng.choice(body)
        lines[a], lines[b] = lines[b], lines[a]
        del lines[rng.choice(body)]
        return b"\n".join(lines), "rows shuffled"
    if choice == 14:  # a personal ID number typed into a random field
        n = rng.choice(body)
        fields = lines[n].split(b",")
        fields[rng.randrange(len(fields))] = _person(f"3301021{rng.randrange(985, 999)}0101{rng.randrange(100, 999)}").encode()
        lines[n] = b",".join(fields)
        return b"\n".join(lines), "personal ID in a field"
    return data + b"\n" + b"\n".join(lines[1:]), "file concatenated with itself (header inside)"


# --- mutations of bureau workbooks ----------------------------------------------------------------------


def mutate_xlsx(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One mutation of an .xlsx file: its XML edited, or its bytes damaged."""
    choice = rng.randrange(8)
    if choice == 0:
        at = rng.randrange(len(data))
        return data[:at] + bytes(rng.randrange(256) for _ in range(8)) + data[at + 8 :], "zip bytes damaged"
    if choice == 1:
        return data[: rng.randrange(len(data))], "workbook truncated"
    source = zipfile.ZipFile(io.BytesIO(data))
    parts = {name: source.read(name) for name in source.namelist()}
    sheets = [name for name in parts if name.startswith("xl/worksheets/sheet")]
    sheet = rng.choice(sheets)
    xml = parts[sheet].decode("utf-8")
    if choice == 2:  # a cell at the far corner of the sheet
        xml = re.sub(r"<dimension ref=\"[^\"]*\"/>", '<dimension ref="A1:XFD1048576"/>', xml)
        xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
        name = "cell at XFD1048576"
    elif choice == 3:  # a formula saved without its result
        xml = re.sub(r"<c r=\"([A-Z]+)(\d+)\"([^>]*)><v>([^<]*)</v></c>", r'<c r="\1\2"\3><f>SUM(A1:A3)</f></c>', xml, count=1)
        name = "formula without a cached value"
    elif choice == 4:  # a value replaced by a hostile inline string
        value = rng.choice(HOSTILE_VALUES).replace("&", "&amp;").replace("<", "&lt;").replace("\x00", "")
        xml = re.sub(r"<c r=\"([A-Z]+)(\d+)\"[^>]*><v>[^<]*</v></c>",
                     lambda m: f'<c r="{m[1]}{m[2]}" t="inlineStr"><is><t>{value}</t></is></c>', xml, count=rng.randrange(1, 4))  # fmt: skip
        name = "hostile cell"
    elif choice == 5:  # the workbook's sheets hidden
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b"<sheet ", b'<sheet state="hidden" ', 1)
        name = "sheet hidden"
    elif choice == 6:  # rows removed from the sheet
        xml = re.sub(r"<row r=\"[0-9]+\"[^>]*>.*?</row>", "", xml, count=rng.randrange(1, 6))
        name = "rows removed"
    else:  # a personal ID number typed into a cell
        xml = re.sub(r"<c r=\"([A-Z]+)(\d+)\"[^>]*><v>[^<]*</v></c>",
                     lambda m: f'<c r="{m[1]}{m[2]}" t="inlineStr"><is><t>{_person("33010219860101005")}</t></is></c>',
                     xml, count=1)  # fmt: skip
        name = "personal ID in a cell"
    parts[sheet] = xml.encode("utf-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for part, content in parts.items():
            target.writestr(part, content)
    return out.getvalue(), name


# --- running and checking -------------------------------------------------------------------------------


def run(cli: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cli), *args], capture_output=True, text=True, env=env, check=False, timeout=900)


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def check_output(variant: Variant, completed: subprocess.CompletedProcess[str]) -> None:
    variant.exit_codes.append(completed.returncode)
    printed = completed.stdout + completed.stderr
    variant.check("exit_code", completed.returncode in (0, 2), f"exit {completed.returncode}: {completed.stderr[-300:]}")
    variant.check("no_traceback", "Traceback" not in printed, completed.stderr[-300:])
    if completed.returncode == 2:
        lines = message_lines(completed.stderr)
        variant.check("one_sentence", len(lines) == 1 and lines[0].startswith("error: "), completed.stderr[:300])
    variant.check("no_personal_id", not find_personal_ids(printed), "a personal ID was printed")


def check_warehouse(variant: Variant, warehouse: Path, raw_dir: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = {c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_name = 'raw_reconciliation'"
        ).fetchall()}  # fmt: skip
        if "unaccounted_lines" not in columns:
            # a warehouse that counts records only (before line accounting): its records must at least
            # match the non-blank lines after the header, or a record swallowed others (or spans lines)
            for name, records in con.execute("select source_file, raw_rows from audit.raw_reconciliation").fetchall():
                lines = (raw_dir / name).read_bytes().split(b"\n")[1:]
                data_lines = sum(1 for line in lines if line.strip())
                variant.check("lines_accounted", records == data_lines,
                              f"{name}: {data_lines} data lines, {records} records; no line accounting")  # fmt: skip
        else:
            for name, physical, rows, lines in con.execute(
                "select source_file, physical_lines, unaccounted_rows, unaccounted_lines from audit.raw_reconciliation"
            ).fetchall():
                data = (raw_dir / name).read_bytes()
                counted = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
                variant.check("lines_accounted", physical == counted and rows == 0 and lines == 0,
                              f"{name}: {counted} lines, warehouse says {physical}, unaccounted {rows}/{lines}")  # fmt: skip
        leaks = personal_ids_outside_raw(con)
        variant.check("no_personal_id", not leaks, f"outside raw: {sorted(leaks)[:5]}")


def check_audit(variant: Variant, cli: Path, warehouse: Path, env: dict[str, str]) -> None:
    completed = run(cli, "audit", "--warehouse", str(warehouse), "--out", str(warehouse.parent / "audits"), env=env)
    variant.check("exit_code", completed.returncode in (0, 1, 2), f"audit exit {completed.returncode}")
    variant.check("no_traceback", "Traceback" not in completed.stdout + completed.stderr, completed.stderr[-300:])
    for path in (warehouse.parent / "audits").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(io.BytesIO(content)) as book:
                    content = b"".join(book.read(n) for n in book.namelist())
            text = content.decode("utf-8", "replace")
            variant.check("no_personal_id", not find_personal_ids(text), f"a personal ID in {path.name}")


def build_and_check(variant: Variant, cli: Path, raw_dir: Path, work: Path, env: dict[str, str], audit: bool) -> None:
    warehouse = work / "out" / "warehouse.duckdb"
    completed = run(cli, "build", "--raw-dir", str(raw_dir), "--warehouse", str(warehouse), env=env)
    check_output(variant, completed)
    leftovers = [p.name for p in warehouse.parent.glob(".*build-*")] if warehouse.parent.exists() else []
    variant.check("nothing_written", not leftovers, f"left behind: {leftovers}")
    if completed.returncode == 2:
        variant.check("nothing_written", not warehouse.exists(), "a refused build wrote a warehouse")
    elif completed.returncode == 0:
        check_warehouse(variant, warehouse, raw_dir)
        if audit:
            check_audit(variant, cli, warehouse, env)


def run_raw_variant(variant: Variant, cli: Path, base: Path, work: Path, rng: random.Random, env: dict[str, str]) -> None:
    raw = work / "raw"
    shutil.copytree(base / "raw", raw)
    for _ in range(rng.choice([1, 1, 2, 3])):
        name = rng.choice(RAW_FILES)
        mutated, mutation = mutate_csv_bytes((raw / name).read_bytes(), rng)
        (raw / name).write_bytes(mutated)
        variant.mutations.append(f"{name}: {mutation}")
    build_and_check(variant, cli, raw, work, env, audit=variant.number % 5 == 0)


def run_bureau_variant(variant: Variant, cli: Path, base: Path, work: Path, rng: random.Random, env: dict[str, str]) -> None:
    files = work / "bureau"
    shutil.copytree(base / "bureau", files)
    chosen = rng.sample(sorted(files.iterdir()), rng.choice([1, 2]))
    for path in chosen:
        if path.suffix == ".xlsx":
            mutated, mutation = mutate_xlsx(path.read_bytes(), rng)
        else:
            mutated, mutation = mutate_csv_bytes(path.read_bytes(), rng, encoding="gb18030")
        path.write_bytes(mutated)
        variant.mutations.append(f"{path.name}: {mutation}")
    raw = work / "loaded"
    shutil.copytree(base / "loaded", raw)  # the other bureaus' files, loaded before
    before = folder_digest(raw)
    completed = run(cli, "load", *[str(p) for p in chosen], "--raw-dir", str(raw), env=env)
    check_output(variant, completed)
    if completed.returncode == 2:
        variant.check("nothing_written", folder_digest(raw) == before, "a refused load changed the raw folder")
        return
    if completed.returncode == 0:
        build_and_check(variant, cli, raw, work, env, audit=variant.number % 5 == 0)


def prepare_base(cli: Path, base: Path, seed: int, env: dict[str, str]) -> None:
    for args in (("--out", str(base / "raw")), ("--out", str(base / "bureau"), "--messy")):
        completed = run(cli, "generate", *args, "--scale", "0.1", "--seed", str(seed), env=env)
        if completed.returncode != 0:
            raise SystemExit(f"cannot generate the base sample: {completed.stderr}")
    # every bureau file loaded once: a variant re-loads the mutated ones on top, as a re-issue
    loaded = run(cli, "load", *[str(p) for p in sorted((base / "bureau").iterdir())], "--raw-dir",
                 str(base / "loaded"), env=env)  # fmt: skip
    if loaded.returncode != 0:
        raise SystemExit(f"cannot load the base bureau files: {loaded.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--subsidy", type=Path, default=Path(sys.executable).parent / "subsidy")
    parser.add_argument("--out", type=Path, default=Path("test-artifacts"))
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="subsidy-fuzz-") as scratch:
        root = Path(scratch)
        env = {**os.environ, "SUBSIDY_DBT_CACHE": str(root / "dbt-cache-base")}
        prepare_base(args.subsidy, root / "base", args.seed, env)
        variants = [Variant(n, "bureau" if n % 4 == 3 else "raw") for n in range(args.variants)]
        caches: queue.Queue[Path] = queue.Queue()
        for worker in range(args.workers):  # one dbt parse cache per worker, so that each keeps its parse
            caches.put(root / f"dbt-cache-{worker}")

        def run_one(variant: Variant) -> Variant:
            rng = random.Random(args.seed * 100_003 + variant.number)
            work = root / f"v{variant.number}"
            work.mkdir()
            cache = caches.get()
            runner = run_bureau_variant if variant.kind == "bureau" else run_raw_variant
            try:
                runner(variant, args.subsidy, root / "base", work, rng, {**env, "SUBSIDY_DBT_CACHE": str(cache)})
            finally:
                caches.put(cache)
                shutil.rmtree(work, ignore_errors=True)
            print(f"  #{variant.number:<4} {variant.kind:<6} exit {variant.exit_codes} "
                  f"{'ok' if all(variant.results.values()) else 'FAILED ' + '; '.join(variant.notes)[:200]}", flush=True)  # fmt: skip
            return variant

        with ThreadPoolExecutor(max_workers=args.workers) as pool:
            done = list(pool.map(run_one, variants))
    tally = {inv: Counter("held" if v.results.get(inv, True) else "failed" for v in done) for inv in INVARIANTS}
    mutations = Counter(m.split(": ", 1)[1] for v in done for m in v.mutations)
    outcomes = Counter(tuple(v.exit_codes) for v in done)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "cli": str(args.subsidy), "variants": len(done), "seed": args.seed,
        "seconds": round(time.monotonic() - started), "tally": {k: dict(v) for k, v in tally.items()},
        "mutations": dict(mutations), "exit_codes": {str(k): v for k, v in outcomes.items()},
        "failures": [{"variant": v.number, "kind": v.kind, "mutations": v.mutations, "notes": v.notes}
                     for v in done if not all(v.results.values())],
    }  # fmt: skip
    (args.out / "fuzz.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nfuzz: {len(done)} variants ({sum(v.kind == 'raw' for v in done)} raw, "
          f"{sum(v.kind == 'bureau' for v in done)} bureau) in {report['seconds']} s against {args.subsidy}")  # fmt: skip
    print(f"{'invariant':<18}{'held':>8}{'failed':>8}")
    for invariant in INVARIANTS:
        print(f"{invariant:<18}{tally[invariant]['held']:>8}{tally[invariant]['failed']:>8}")
    print("exit codes:", ", ".join(f"{list(k)}: {n}" for k, n in outcomes.most_common()))
    print(f"details: {args.out / 'fuzz.json'}")
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
