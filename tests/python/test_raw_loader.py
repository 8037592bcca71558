"""Reading the raw contract: every physical line accounted for, hostile quoting contained, unusable files
refused with one sentence."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest
from helpers import run_cli

from subsidy_warehouse import raw_loader
from subsidy_warehouse.contract import APPLICATIONS, BENEFICIARIES, DISBURSEMENTS, RawFile
from subsidy_warehouse.errors import UserFacingError
from subsidy_warehouse.raw_loader import MAX_FIELD_CHARS, MAX_RECORD_LINES, check_raw_dir, write_raw_schema

HEADERS = {f.entity: ",".join(f.columns) for f in (BENEFICIARIES, APPLICATIONS, DISBURSEMENTS)}
GOOD = {
    "beneficiaries": "B{n},甲{n}公司,enterprise,uscc,2020-01-01,上城区",
    "applications": "A{n},B1,M04-5,2025,2025-01-02,submitted,100.00,,,,,,,,,",
    "disbursements": "D{n},A1,2025-03-01,100.00,payment,区科技局,V{n}",
}


def physical_lines(data: bytes) -> int:
    """Lines counted from the bytes alone, the way a text editor numbers them."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def read(tmp_path: Path, raw_file: RawFile, data: bytes):
    """Write `data` as raw_file's file (the other two files header-only) and read the folder."""
    for entity, header in HEADERS.items():
        (tmp_path / f"{entity}.csv").write_text(header + "\n", encoding="utf-8")
    (tmp_path / raw_file.file_name).write_bytes(data)
    con = duckdb.connect()
    reads = write_raw_schema(con, tmp_path)
    return con, next(r for r in reads if r.raw_file == raw_file)


def records(con, raw_file: RawFile, column: str) -> list[tuple[int, int, str]]:
    return con.execute(
        f"select _first_line, _last_line, {column} from raw.{raw_file.entity} order by _first_line"
    ).fetchall()


def unreadable(con) -> list[tuple[int, int, str]]:
    return con.execute("select first_line, last_line, reason from raw.unreadable_rows order by first_line").fetchall()


def assert_every_line_accounted_for(con, read_result, data: bytes) -> None:
    """physical lines = header + blank + lines of readable records + lines of unreadable records, each line
    in exactly one record."""
    assert read_result.physical_lines == physical_lines(data)
    spans = con.execute(
        f"select _first_line, _last_line from raw.{read_result.raw_file.entity} "
        "union all select first_line, last_line from raw.unreadable_rows"
    ).fetchall()
    covered = [line for first, last in spans for line in range(first, last + 1)]
    assert len(covered) == len(set(covered)), "a line belongs to two records"
    assert 1 + read_result.blank_lines + len(covered) == read_result.physical_lines
    assert read_result.records == len(spans)


def test_bom_column_order_extra_columns_blank_lines_and_empty_cells(tmp_path: Path):
    data = (
        "\ufeffremark,voucher_no,paying_bureau,kind,amount,paid_on,application_id,disbursement_id\n"
        "备注,PZ1,区科技局,payment,100.00,2025-01-02,SQ1,BF1\n"
        "\n"
        "   \t \n"
        ",,区科技局,clawback,5,2025-02-02,SQ1,BF2\n"
    ).encode()
    con, result = read(tmp_path, DISBURSEMENTS, data)
    assert records(con, DISBURSEMENTS, "disbursement_id") == [(2, 2, "BF1"), (5, 5, "BF2")]
    assert con.execute("select voucher_no from raw.disbursements order by _first_line").fetchall() == [("PZ1",), (None,)]
    assert "remark" not in [c[0] for c in con.execute("describe raw.disbursements").fetchall()]
    assert result.blank_lines == 2
    assert_every_line_accounted_for(con, result, data)


def test_quoted_values_with_commas_quotes_and_line_breaks(tmp_path: Path):
    data = (
        HEADERS["beneficiaries"] + "\r\n"
        'B1,"甲,公司",enterprise,uscc,2020-01-01,上城区\r\n'
        'B2,"多\r\n行\n名称",enterprise,uscc,2020-01-01,上城区\r\n'
        'B3, "说""明" ,enterprise,uscc,2020-01-01,上城区\r\n'
        "B4,丁\rx,enterprise,uscc,2020-01-01,上城区"  # a lone CR is text; no line break at the end
    ).encode()
    con, result = read(tmp_path, BENEFICIARIES, data)
    assert records(con, BENEFICIARIES, "beneficiary_name") == [
        (2, 2, "甲,公司"),
        (3, 5, "多\n行\n名称"),
        (6, 6, '说"明'),
        (7, 7, "丁\rx"),
    ]
    assert unreadable(con) == []
    assert_every_line_accounted_for(con, result, data)


def test_a_nul_character_is_read_as_the_replacement_character(tmp_path: Path):
    # PostgreSQL text cannot hold NUL (COPY refuses the whole table): every engine reads it as U+FFFD
    data = (
        HEADERS["beneficiaries"] + "\n"
        "B1,杭\x00州\x00,enterprise,uscc,2020-01-01,上城区\n"
        "B2,\"乙\x00\n公司\",enterprise,uscc,2020-01-01,上城区\n"
        "B3\x00,丙,extra\n"
    ).encode()
    con, result = read(tmp_path, BENEFICIARIES, data)
    assert records(con, BENEFICIARIES, "beneficiary_name") == [(2, 2, "杭\ufffd州\ufffd"), (3, 4, "乙\ufffd\n公司")]
    assert con.execute("select raw_line from raw.unreadable_rows").fetchall() == [("B3\ufffd,丙,extra",)]
    assert_every_line_accounted_for(con, result, data)


def test_an_unbalanced_quote_swallows_nothing(tmp_path: Path):
    # the hostile tester's case: one stray quote at the start of a field used to swallow the next 26 rows
    good = [GOOD["beneficiaries"].format(n=n) for n in range(2, 40)]
    data = (HEADERS["beneficiaries"] + '\nB1,"坏名称,enterprise,uscc,2020-01-01,上城区\n' + "\n".join(good) + "\n").encode()
    con, result = read(tmp_path, BENEFICIARIES, data)
    assert [r[0] for r in unreadable(con)] == [2]
    assert "引号未配对" in unreadable(con)[0][2]
    assert len(records(con, BENEFICIARIES, "beneficiary_id")) == len(good)
    assert con.execute("select max(length(beneficiary_name)), max(length(district)) from raw.beneficiaries").fetchone() == (5, 3)
    assert_every_line_accounted_for(con, result, data)


@pytest.mark.parametrize(
    "broken",
    [
        'B1,"坏名称,enterprise,uscc,2020-01-01,上城区',  # opens, never closes
        'B1,坏"名称,enterprise,uscc,2020-01-01,上城区',  # a quote inside an unquoted value
        'B1,"坏名称"x,enterprise,uscc,2020-01-01,上城区',  # text after the closing quote
        'B1,"a"b"c,enterprise,uscc,2020-01-01,上城区',  # three quotes
    ],
)
def test_stray_quotes_reject_their_own_line_only(tmp_path: Path, broken: str):
    # a later line with one quote pairs up with the stray one only if together they make one plausible record
    lines = [GOOD["beneficiaries"].format(n=n) for n in range(2, 6)]
    lines.insert(2, 'B9,"名称""引号",enterprise,uscc,2020-01-01,上城区')
    lines.insert(3, 'B8,名称,enterprise,uscc,2020-01-01,上"城区')  # another stray quote, three lines on
    data = "\n".join([HEADERS["beneficiaries"], broken, *lines]).encode()
    con, result = read(tmp_path, BENEFICIARIES, data)
    assert [(first, last) for first, last, _ in unreadable(con)] == [(2, 2), (6, 6)]  # each stray line alone
    assert [r[2] for r in records(con, BENEFICIARIES, "beneficiary_id")] == ["B2", "B3", "B9", "B4", "B5"]
    assert con.execute("select beneficiary_name from raw.beneficiaries where beneficiary_id = 'B9'").fetchone() == (
        '名称"引号',
    )
    assert_every_line_accounted_for(con, result, data)


def test_a_quoted_value_spanning_too_many_lines_is_not_a_record(tmp_path: Path):
    body = "\n".join(["x"] * (MAX_RECORD_LINES + 1))  # lines 2 … MAX + 2
    data = (HEADERS["beneficiaries"] + f'\nB1,"{body}",enterprise,uscc,2020-01-01,上城区\n').encode()
    con, result = read(tmp_path, BENEFICIARIES, data)
    assert records(con, BENEFICIARIES, "beneficiary_id") == []
    # the opening line alone, then every line read again on its own (and unreadable on its own)
    assert [(first, last) for first, last, _ in unreadable(con)] == [(n, n) for n in range(2, MAX_RECORD_LINES + 3)]
    assert_every_line_accounted_for(con, result, data)


def test_ragged_and_overlong_records_are_kept_as_unreadable_with_reason(tmp_path: Path):
    data = "\n".join(
        [
            HEADERS["beneficiaries"],
            GOOD["beneficiaries"].format(n=1),
            "B2,乙",
            "B3,丙,enterprise,uscc,2020-01-01,上城区,extra",
            f"B4,{'长' * (MAX_FIELD_CHARS + 1)},enterprise,uscc,2020-01-01,上城区",
        ]
    ).encode()
    con, result = read(tmp_path, BENEFICIARIES, data)
    reasons = {first: reason for first, _, reason in unreadable(con)}
    assert "字段数为 2，与表头的 6 列不一致" in reasons[3]
    assert "字段数为 7" in reasons[4]
    assert "字段过长" in reasons[5]
    assert con.execute("select raw_line from raw.unreadable_rows where first_line = 3").fetchone() == ("B2,乙",)
    assert_every_line_accounted_for(con, result, data)


def test_random_hostile_files_account_for_every_line(tmp_path: Path):
    """Files stitched from hostile pieces at random: whatever they hold, every line is in exactly one place."""
    pieces = [
        GOOD["disbursements"].format(n=0),
        '"D1","A1","2025-03-01","100.00","payment","区科技局","V1"',
        '"D2,A2,2025-03-01,100.00,payment,区科技局,V2',
        'D3,"A\n3",2025-03-01,100.00,payment,区科技局,V3',
        'D4,A4,2025-03-01,"1""00",payment,区科技局,"V\r\n4"',
        "D5,A5",
        "",
        " \t",
        '"',
        '""',
        "D6,A6,2025-03-01,100.00,payment,区科技局,V6,extra",
        "D7,A\x007,2025-03-01,100.00,payment,区科技局,V7",
        '=HYPERLINK("http://x"),A8,2025-03-01,100.00,payment,区科技局,V8',
        "\r",
    ]
    rng = random.Random(20251202)
    for attempt in range(40):
        lines = [rng.choice(pieces) for _ in range(rng.randrange(1, 30))]
        ending = rng.choice(["\n", "\r\n", ""])
        data = (HEADERS["disbursements"] + "\n" + "\n".join(lines) + ending).encode()
        folder = tmp_path / str(attempt)
        folder.mkdir()
        con, result = read(folder, DISBURSEMENTS, data)
        assert_every_line_accounted_for(con, result, data)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"application_id,beneficiary_id\nA,B\n", "missing required column(s): clause_code"),
        ((",".join(APPLICATIONS.columns) + ",status\n").encode(), "status more than once"),
        ((",".join(APPLICATIONS.columns) + "\n申报,主体\n").encode("gbk"), "is not UTF-8 text"),
        (('"' + ",".join(APPLICATIONS.columns) + "\n").encode(), "no readable header row"),
    ],
)
def test_unusable_files_are_refused_with_one_sentence(tmp_path: Path, content: bytes, expected: str):
    with pytest.raises(UserFacingError) as caught:
        read(tmp_path, APPLICATIONS, content)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("chunk_bytes", [7, 1000, 1 << 26])
def test_chunks_split_anywhere_and_a_bad_byte_is_named_by_line(tmp_path: Path, monkeypatch, chunk_bytes: int):
    monkeypatch.setattr(raw_loader, "CHUNK_BYTES", chunk_bytes)  # lines and characters cut across reads
    good = "\n".join(GOOD["applications"].format(n=n) for n in range(2_000))
    data = (HEADERS["applications"] + "\r\n" + good + '\nA-q,"B\n1",M04-5,2025,2025-01-02,submitted,,,,,,,,,,').encode()
    con, result = read(tmp_path, APPLICATIONS, data)
    assert result.records == 2_001
    assert records(con, APPLICATIONS, "beneficiary_id")[-1] == (2_002, 2_003, "B\n1")
    assert_every_line_accounted_for(con, result, data)
    with pytest.raises(UserFacingError, match="line 2003"):
        read(tmp_path, APPLICATIONS, data[:-40] + b"\xff\xfe" + data[-40:])


def test_raw_dir_checks(tmp_path: Path):
    with pytest.raises(UserFacingError, match="does not exist"):
        check_raw_dir(tmp_path / "nowhere")
    (tmp_path / "beneficiaries.csv").write_text("x\n", encoding="utf-8")
    with pytest.raises(UserFacingError, match="missing applications.csv, disbursements.csv"):
        check_raw_dir(tmp_path)


def test_cli_build_errors_are_one_sentence_without_traceback(tmp_path: Path):
    missing = run_cli("build", "--raw-dir", str(tmp_path / "nowhere"), "--warehouse", str(tmp_path / "w.duckdb"))
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("error: Raw directory")
    assert "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.parametrize(
    "appended",
    [
        "B9,新公司,enterprise,uscc,2020-01-01,上城区\n\nB10,\"跨\n行\",enterprise,uscc,2020-01-01,上城区\n",
        'B11,"坏,enterprise,uscc,2020-01-01,上城区\nB12,好,enterprise,uscc,2020-01-01,上城区\n',
        "",
    ],
)
def test_reading_only_the_appended_lines_equals_reading_the_whole_file(tmp_path: Path, appended: str):
    first = (HEADERS["beneficiaries"] + "\r\n" + "\n".join(GOOD["beneficiaries"].format(n=n) for n in range(3))
             + '\nB7,"坏"一行,enterprise,uscc,2020-01-01,上城区\nB8,x\n').encode()  # fmt: skip
    con, _ = read(tmp_path, BENEFICIARIES, first)
    path = tmp_path / BENEFICIARIES.file_name
    path.write_bytes(first + appended.encode())
    points = raw_loader.append_points(con, tmp_path)
    assert points is not None and points["beneficiaries"].physical_lines == 6
    raw_loader.append_raw_schema(con, tmp_path, points, batch=2)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    whole, _ = read(fresh, BENEFICIARIES, path.read_bytes())
    for table in ("beneficiaries", "unreadable_rows", "files"):
        query = f"select * exclude (_batch) from raw.{table} order by all" if table != "files" else "from raw.files order by all"
        assert con.execute(query).fetchall() == whole.execute(query).fetchall(), table
    assert con.execute("select max(_batch) from raw.beneficiaries").fetchone() == ((2,) if appended.strip() else (1,))


def test_a_file_changed_before_its_end_or_left_with_an_open_quote_is_read_whole(tmp_path: Path):
    data = (HEADERS["beneficiaries"] + "\n" + GOOD["beneficiaries"].format(n=1) + "\n").encode()
    con, _ = read(tmp_path, BENEFICIARIES, data)
    path = tmp_path / BENEFICIARIES.file_name
    path.write_bytes(data.replace(b"B1,", b"B2,") + b"B3,x\n")  # an earlier line changed
    assert raw_loader.append_points(con, tmp_path) is None
    path.write_bytes(data[:-1])  # shorter
    assert raw_loader.append_points(con, tmp_path) is None
    open_quote = data + b'B4,"open,enterprise,uscc,2020-01-01,x\n'
    con, _ = read(tmp_path, BENEFICIARIES, open_quote)
    path.write_bytes(open_quote + b'B5,closes",enterprise,uscc,2020-01-01,x\n')  # could pair with the open quote
    assert raw_loader.append_points(con, tmp_path) is None
