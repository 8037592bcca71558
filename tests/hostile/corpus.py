"""A corpus of hostile raw files: every class of bad input a bureau file or a user can hold, several
variants each, with what the warehouse must make of every record.

`write_corpus(folder)` writes beneficiaries.csv, applications.csv and disbursements.csv and returns the
cases: for each, its file, first and last line and the expected outcome (staged, rejected with a reason,
collapsed, blank). The classes follow issue #9: quoting that swallows rows, values that used to stop the
build, personal ID numbers in the wrong places, formulas and SQL in text. Used by tests/hostile and by the
fuzzer (`make fuzz`), which mutates these files further.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from subsidy_warehouse.contract import APPLICATIONS, BENEFICIARIES, DISBURSEMENTS, RawFile
from subsidy_warehouse.identifiers import resident_id_check_char, uscc_check_char


def resident_id(body17: str) -> str:
    return body17 + resident_id_check_char(body17)


def uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


PERSON = resident_id("33010219850612001")  # a person with an 18-digit ID
LEGACY_PERSON_15 = "330102860305002"  # first-generation 15-digit ID of a person born 1986-03-05
LEGACY_PERSON_18 = resident_id("33010219860305002")  # the same person, second generation
SPACED_PERSON = resident_id("33010219870101003")  # written with a space inside
FULL_WIDTH_PERSON = resident_id("33010219880202004")  # written in full-width digits
DECLARED_AS_USCC = resident_id("33010219890303005")  # a person's number in a company's row
CONFLICTED_PERSON = resident_id("33010219900404006")  # two different rows for one person
STRAY_PERSON = resident_id("33010219910505007")  # typed into other columns only
# written into free text the ways people write them: full-width with Ｘ, in blocks, with dashes, glued to digits
FULL_WIDTH_IN_TEXT = resident_id("33010219920606003")  # check character X
SPACED_IN_TEXT = resident_id("33010219930707011")
DASHED_IN_TEXT = resident_id("33010219940808008")  # check character X
GLUED_IN_TEXT = resident_id("33010219950909012")
PASSPORT_MISSPELT = "E98765432"  # id_type Passport, PASSPORT, 护照: rejected, still a person's number
PASSPORT_AS_USCC = "E11223344"  # beneficiary_type person, id_type uscc
COMPANY = uscc("91330102MA2HQWT1A")
OTHER_COMPANY = uscc("91330102MA2HQWT2B")
PERSONAL_NUMBERS = [
    PERSON, LEGACY_PERSON_15, LEGACY_PERSON_18, SPACED_PERSON, FULL_WIDTH_PERSON, DECLARED_AS_USCC,
    CONFLICTED_PERSON, STRAY_PERSON, FULL_WIDTH_IN_TEXT, SPACED_IN_TEXT, DASHED_IN_TEXT, GLUED_IN_TEXT,
]  # fmt: skip
PASSPORT_NUMBERS = [PASSPORT_MISSPELT, PASSPORT_AS_USCC, "G55667788", "EA9988776"]
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def in_blocks(number: str, separator: str = " ") -> str:
    """330102 19870101 0035: a resident ID in its three blocks (division, birth date, sequence and check)."""
    return separator.join([number[:6], number[6:14], number[14:]])


@dataclass
class Case:
    """One record (or blank line) of the corpus and what must become of it."""

    kind: str  # the class of hostile input
    file: str
    first_line: int
    last_line: int
    expected: str  # staged | rejected | collapsed | blank
    reason: str = ""  # a fragment of the rejection reason


@dataclass
class FileBuilder:
    raw_file: RawFile
    lines: list[str] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lines.append(",".join(self.raw_file.columns))

    def add(self, kind: str, text: str, expected: str, reason: str = "") -> None:
        """Add one record (its text may hold line breaks) or blank line, and what must become of it."""
        first = len(self.lines) + 1
        self.lines.extend(text.split("\n"))
        self.cases.append(Case(kind, self.raw_file.file_name, first, len(self.lines), expected, reason))

    def data(self, line_ending: str = "\n") -> bytes:
        return (line_ending.join(self.lines) + line_ending).encode("utf-8")


def beneficiary(id_: str, name: str = "杭州样例科技有限公司", kind: str = "enterprise", id_type: str = "uscc",
                registered_on: str = "2020-01-01", district: str = "上城区") -> str:  # fmt: skip
    return ",".join([id_, name, kind, id_type, registered_on, district])


def application(id_: str, beneficiary_id: str = COMPANY, *, approved: str = "100000.00", clause: str = "M04-5",
                year: str = "2025", applied_on: str = "2025-01-02", approved_on: str = "2025-02-01",
                bureau: str = "区科技局", project: str = "", tier: str = "", status: str = "approved") -> str:  # fmt: skip
    return ",".join([
        id_, beneficiary_id, clause, year, applied_on, status, approved, approved, approved_on, bureau, "", tier,
        project, "", "", "",
    ])  # fmt: skip


def disbursement(id_: str, application_id: str = "H-A1", *, amount: str = "1000.00", paid_on: str = "2025-03-01",
                 kind: str = "payment", bureau: str = "区科技局", voucher: str = "V1") -> str:  # fmt: skip
    return ",".join([id_, application_id, paid_on, amount, kind, bureau, voucher])


def beneficiaries_file() -> FileBuilder:
    f = FileBuilder(BENEFICIARIES)
    f.add("plain", beneficiary(COMPANY), "staged")
    f.add("plain", beneficiary(OTHER_COMPANY, "杭州另一家科技有限公司"), "staged")
    f.add("quoted comma", beneficiary(uscc("91330102MA2HQWT3C"), '"杭州逗号,科技有限公司"'), "staged")
    f.add("quoted line breaks", beneficiary(uscc("91330102MA2HQWT4D"), '"杭州\n换行\n科技有限公司"'), "staged")
    f.add("doubled quote", beneficiary(uscc("91330102MA2HQWT5E"), '"杭州""引号""科技"'), "staged")
    # one stray quote at the start of a field: it used to swallow the next 26 rows into one field
    f.add("stray quote swallows rows", beneficiary("H-B-STRAY", '"杭州吞行科技有限公司'), "rejected", "引号未配对")
    for n in range(26):
        f.add("rows after a stray quote", beneficiary(uscc(f"91330102MA2T{n:05d}"), f"杭州被吞{n}号公司"), "staged")
    f.add("quote inside a value", beneficiary("H-B-MIDQ", '杭州"中间引号公司'), "rejected", "引号未配对")
    f.add("text after closing quote", beneficiary("H-B-AFTER", '"杭州"科技'), "rejected", "引号位置不规范")
    f.add("blank line", "", "blank")
    f.add("whitespace line", " \t  ", "blank")
    f.add("too few fields", "H-B-SHORT,杭州", "rejected", "字段数为 2")
    f.add("too many fields", beneficiary("H-B-LONG") + ",多余", "rejected", "字段数为 7")
    f.add("overlong value", beneficiary("H-B-HUGE", "长" * 1001), "rejected", "字段过长")
    f.add("header again", ",".join(BENEFICIARIES.columns), "rejected", "取值无效")
    f.add("lone carriage return", beneficiary(uscc("91330102MA2HQWT6F"), "杭州\r回车科技"), "staged")
    f.add("NUL byte (read as U+FFFD)", beneficiary(uscc("91330102MA2HQWT7G"), "杭州\x00空字符科技"), "staged")
    f.add("SQL in a name", beneficiary(uscc("91330102MA2HQWT8H"), "'); drop table marts.fct_awards; --"), "staged")
    f.add("formula in a name", beneficiary(uscc("91330102MA2HQWT9J"), '"=HYPERLINK(""http://x"",""y"")"'), "staged")
    f.add("template in a name", beneficiary(uscc("91330102MA2HQWTAK"), "{{ var('id_hash_salt') }}"), "staged")
    f.add("person", beneficiary(PERSON, "张样例", "person", "resident_id", ""), "staged")
    f.add("first-generation ID", beneficiary(LEGACY_PERSON_15, "李旧证", "person", "resident_id", ""), "staged")
    f.add("ID with a space", beneficiary(SPACED_PERSON[:6] + " " + SPACED_PERSON[6:], "王空格", "person",
                                         "resident_id", ""), "staged")  # fmt: skip
    f.add("full-width ID", beneficiary(FULL_WIDTH_PERSON.translate(FULL_WIDTH), "赵全角", "person", "resident_id",
                                       ""), "staged")  # fmt: skip
    f.add("letter O in an ID", beneficiary("3301O2198501011234", "钱字母", "person", "resident_id", ""), "staged")
    f.add("lower-case x", beneficiary(resident_id("11010519491231002").lower(), "孙小写", "person",
                                      "resident_id", ""), "staged")  # fmt: skip
    f.add("person declared as a company", beneficiary(DECLARED_AS_USCC, "周冒充", "enterprise", "uscc"), "staged")
    f.add("person's versions conflict", beneficiary(CONFLICTED_PERSON, "吴冲突", "person", "resident_id", ""),
          "rejected", "内容不一致")  # fmt: skip
    f.add("person's versions conflict", beneficiary(CONFLICTED_PERSON, "吴冲突", "person", "resident_id", "",
                                                    "西湖区"), "rejected", "内容不一致")  # fmt: skip
    f.add("ID in the name", beneficiary(uscc("91330102MA2HQWTBL"), f"杭州{STRAY_PERSON}工作室"), "staged")
    f.add("full-width ID in the name", beneficiary(uscc("91330102MA2HQWTCM"),
                                                   f"杭州{FULL_WIDTH_IN_TEXT.translate(FULL_WIDTH)}工作室"), "staged")  # fmt: skip
    f.add("ID in blocks in the name", beneficiary(uscc("91330102MA2HQWTDN"), f"王 {in_blocks(SPACED_IN_TEXT)}"),
          "staged")  # fmt: skip
    f.add("full-width ID in blocks in the name", beneficiary(uscc("91330102MA2HQWTEP"),
          f"赵{in_blocks(SPACED_IN_TEXT.translate(FULL_WIDTH), chr(0x3000))}"), "staged")  # fmt: skip
    for n, spelling in enumerate(["Passport", "PASSPORT", "护照"]):
        passport = PASSPORT_MISSPELT if n == 0 else PASSPORT_NUMBERS[n + 1]
        f.add("passport, id type misspelt", beneficiary(passport, f"张护照{n}", "person", spelling, ""), "rejected",
              "证件类型")  # fmt: skip
    f.add("person's passport declared as a USCC", beneficiary(PASSPORT_AS_USCC, "孙护照", "person", "uscc", ""),
          "staged")  # fmt: skip
    f.add("exact copy", beneficiary(COMPANY), "collapsed")
    f.add("bad date", beneficiary("H-B-DATE", registered_on="2025-02-29"), "rejected", "登记日期")
    return f


def applications_file() -> FileBuilder:
    f = FileBuilder(APPLICATIONS)
    f.add("plain", application("H-A1"), "staged")
    f.add("largest amount in range", application("H-A-MAX", approved="999999999999.99", clause="M12-1"), "staged")
    for amount, reason in [
        ("9999999999999999.99", "超出合同范围"), ("1000000000000", "超出合同范围"), ("-5.00", "为负数"),
        ("1e3", "不是金额"), ("+5", "不是金额"), ("5.", "不是金额"), (".5", "不是金额"), ("5.123", "不是金额"),
        ("１００", "不是金额"), ("1,000.00", "不是金额"), ("NaN", "不是金额"), ("Infinity", "不是金额"),
        ("0x10", "不是金额"), ("=1+1", "不是金额"),
    ]:  # fmt: skip
        f.add("amount out of contract", application(f"H-A-AMT-{len(f.lines)}", approved=f'"{amount}"'), "rejected",
              reason)  # fmt: skip
    for year in ["99999999999", "2025.0", "二〇二五", "-2025"]:
        f.add("unreadable year", application(f"H-A-YEAR-{year}", year=year), "rejected", "申报年度")
    for day in ["2025-02-29", "2025-1-1", "20250101", "2025/01/02", "0000-00-00"]:
        f.add("unreadable date", application(f"H-A-DAY-{day}", applied_on=day), "rejected", "申报日期")
    f.add("tier beyond integer", application("H-A-TIER", clause="M07-4", tier="2147483648"), "rejected", "档次")
    f.add("first-generation ID joins its person", application("H-A-LEGACY", LEGACY_PERSON_18, clause="M10-4",
                                                                bureau="区委人才办"), "staged")  # fmt: skip
    f.add("ID as application id", application(STRAY_PERSON, clause="M12-1"), "staged")
    f.add("ID in project id", application("H-A-PRJ", project=STRAY_PERSON, clause="M12-1"), "staged")
    f.add("ID in the bureau", application("H-A-BUR", bureau=f"区科技局{STRAY_PERSON}"), "staged")
    f.add("ID as an amount", application("H-A-IDAMT", approved=STRAY_PERSON), "rejected", "核定金额")
    f.add("ID with dashes in project id", application("H-A-DASH", project=in_blocks(DASHED_IN_TEXT, "-")), "staged")
    f.add("full-width ID in blocks as an amount", application(
        "H-A-FWAMT", approved=in_blocks(FULL_WIDTH_IN_TEXT.translate(FULL_WIDTH))), "rejected", "核定金额")  # fmt: skip
    f.add("ID in blocks in the bureau", application("H-A-BURBLK", bureau=f"区科技局 {in_blocks(SPACED_IN_TEXT)}"),
          "staged")  # fmt: skip
    f.add("ID glued to a clause code", application("H-A-CLAUSE", clause=f"M04-5{GLUED_IN_TEXT}"), "staged")
    f.add("passport declared as a USCC applies", application("H-A-PASS", PASSPORT_AS_USCC, clause="M10-2",
                                                              bureau="区委人才办"), "staged")  # fmt: skip
    f.add("SQL as a clause", application("H-A-SQL", clause="M04-5'; drop table raw.files; --"), "staged")
    f.add("ragged", "H-A-RAGGED,x,y", "rejected", "字段数为 3")
    f.add("exact copy", application("H-A1"), "collapsed")
    # equal once folded: versions are compared after staging cleans the id, in one build as across loads
    f.add("exact copy, id spelled otherwise", application("Ｈ-Ａ 1"), "collapsed")
    f.add("versions of an id spelled two ways", application("H-A-TWICE"), "rejected", "申报编号出现多次且内容不一致")
    f.add("versions of an id spelled two ways", application("Ｈ-Ａ-ＴＷＩＣＥ", approved="200000.00"), "rejected",
          "申报编号出现多次且内容不一致")  # fmt: skip
    return f


def disbursements_file() -> FileBuilder:
    f = FileBuilder(DISBURSEMENTS)
    f.add("plain", disbursement("H-D1"), "staged")
    # 10,001 payments of the largest amount in range to one award: the totals exceed DECIMAL(18,2)
    for n in range(10_001):
        f.add("totals beyond DECIMAL(18,2)", disbursement(f"H-D-MAX{n}", "H-A-MAX", amount="999999999999.99",
                                                          voucher=f"VM{n}"), "staged")  # fmt: skip
    f.add("ID as voucher", disbursement("H-D-VOUCHER", voucher=STRAY_PERSON), "staged")
    f.add("ID as application id", disbursement("H-D-APP", STRAY_PERSON), "staged")
    f.add("ID glued to other digits as voucher", disbursement("H-D-GLUED", voucher=f"2025 {GLUED_IN_TEXT}"), "staged")
    f.add("ID with dashes as a date", disbursement("H-D-DASHDATE", paid_on=in_blocks(DASHED_IN_TEXT, "-")),
          "rejected", "拨付日期")  # fmt: skip
    f.add("exact copy, id spelled otherwise", disbursement("Ｈ-Ｄ１"), "collapsed")
    f.add("zero amount", disbursement("H-D-ZERO", amount="0"), "rejected", "必须大于零")
    f.add("quoted line breaks over too many lines", 'H-D-TALL,H-A1,2025-03-01,"1', "rejected", "引号未配对")
    for n in range(10):
        f.add("lines after a stray quote", f"{n}", "rejected", "字段数为 1")
    f.add("unterminated quote at the end", disbursement("H-D-END", voucher='"V-END'), "rejected", "引号未配对")
    return f


def write_corpus(folder: Path) -> list[Case]:
    """Write the three hostile raw files into `folder`; return every case with its expected outcome."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    for builder, line_ending in ((beneficiaries_file(), "\r\n"), (applications_file(), "\n"), (disbursements_file(), "\n")):
        (folder / builder.raw_file.file_name).write_bytes(builder.data(line_ending))
        cases.extend(builder.cases)
    return cases
