"""A refusal that quotes a file's content (a header cell, a first row) shows no resident ID number, no terminal
escape code, and a bounded number of values, whatever the file holds."""

from __future__ import annotations

from pathlib import Path

from corpus import COMPANY, PERSON, beneficiary
from helpers import message_lines, run_cli

from subsidy_warehouse.contract import APPLICATIONS, BENEFICIARIES, DISBURSEMENTS
from subsidy_warehouse.identifiers import find_personal_ids

ESCAPE_CODE = "\x1b]0;pwned\x07"  # sets a terminal's title; ESC and BEL must never reach it


def raw_folder(folder: Path, **files: bytes) -> Path:
    """A valid minimal raw folder, with the files named in `files` (applications=…) replaced."""
    folder.mkdir()
    valid = {
        "beneficiaries": [",".join(BENEFICIARIES.columns), beneficiary(COMPANY)],
        "applications": [",".join(APPLICATIONS.columns),
                         f"A1,{COMPANY},M04-5,2025,2025-01-02,approved,100000.00,100000.00,2025-02-01,区科技局,,,,,,"],
        "disbursements": [",".join(DISBURSEMENTS.columns), "D1,A1,2025-03-01,1000.00,payment,区科技局,V1"],
    }  # fmt: skip
    for raw_file in (BENEFICIARIES, APPLICATIONS, DISBURSEMENTS):
        name = raw_file.file_name.removesuffix(".csv")
        data = files.get(name, ("\n".join(valid[name]) + "\n").encode())
        (folder / raw_file.file_name).write_bytes(data)
    return folder


def refusal(*args: str) -> str:
    completed = run_cli(*args)
    assert completed.returncode == 2, completed.stderr
    lines = message_lines(completed.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), completed.stderr
    return lines[0]


def assert_quoted_with_care(message: str) -> None:
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in message), repr(message)
    assert find_personal_ids(message) == [], message
    assert PERSON not in message and PERSON.lower() not in message


def test_a_headerless_file_whose_first_record_repeats_an_id_is_refused_without_it(tmp_path: Path):
    # the first record read as a header: its beneficiary id and application id are one resident ID number
    record = f"{PERSON},{PERSON},M10-2,2025,2025-01-02,approved,100.00,100.00,2025-02-01,区科技局,,,,,,"
    raw = raw_folder(tmp_path / "raw", applications=(record + "\n").encode())
    message = refusal("build", "--raw-dir", str(raw), "--warehouse", str(tmp_path / "w.duckdb"))
    assert "is missing required column(s): application_id" in message  # repeated values are not columns it reads
    assert_quoted_with_care(message)


def test_a_file_with_lone_cr_line_ends_is_refused_for_what_it_is(tmp_path: Path):
    # one physical line holding the header and every record: refused as such, at once (counting its repeated
    # values as repeated columns took minutes on 2 MB), and without quoting any of it
    rows = [",".join(BENEFICIARIES.columns)] + [
        beneficiary(f"{PERSON[:-4]}{n:04d}", f"名称{n % 40}", registered_on=f"2020-01-{n % 28 + 1:02d}")
        for n in range(400)
    ] + [beneficiary(PERSON, "张三", "person", "resident_id", "")] * 2  # fmt: skip
    raw = raw_folder(tmp_path / "raw", beneficiaries="\r".join(rows).encode())
    message = refusal("build", "--raw-dir", str(raw), "--warehouse", str(tmp_path / "w.duckdb"))
    assert "ends its lines with a lone CR" in message
    assert_quoted_with_care(message)


def test_extra_header_cells_are_ignored_whatever_they_hold(tmp_path: Path):
    # two extra columns of one name (an escape code and an ID in it): not columns the build reads, so the file is
    # read, and nothing of those cells reaches the terminal
    header = ",".join(BENEFICIARIES.columns) + f",{ESCAPE_CODE}{PERSON},{ESCAPE_CODE}{PERSON}"
    raw = raw_folder(tmp_path / "raw", beneficiaries=(header + "\n" + beneficiary(COMPANY) + ",,\n").encode())
    completed = run_cli("build", "--raw-dir", str(raw), "--warehouse", str(tmp_path / "w.duckdb"))
    assert completed.returncode == 0, completed.stderr
    for printed in (completed.stdout, completed.stderr):
        assert "\x1b" not in printed and "\x07" not in printed
        assert find_personal_ids(printed) == [] and PERSON not in printed


def test_a_headerless_bureau_file_is_refused_without_quoting_an_id(tmp_path: Path):
    bureau_file = tmp_path / "申报.csv"
    bureau_file.write_text(f"{PERSON},张三{ESCAPE_CODE},M10-2,2025,100.00\n{PERSON},张三,M10-2,2025,100.00\n",
                           encoding="utf-8")  # fmt: skip
    message = refusal("load", str(bureau_file), "--raw-dir", str(tmp_path / "raw"))
    assert "no header row" in message and "张三" in message
    assert_quoted_with_care(message)
