"""The Python reference checks for Chinese identifiers (the SQL macros are compared to these end to end)."""

import re
from datetime import date
from pathlib import Path

from subsidy_warehouse.identifiers import (
    find_personal_ids,
    is_first_generation_id,
    is_valid_passport,
    is_valid_resident_id,
    is_valid_uscc,
    looks_like_resident_id,
    mask_personal_ids,
    normalise_beneficiary_id,
    resident_id_check_char,
    upgrade_first_generation_id,
    uscc_check_char,
)


def test_published_resident_id_example_is_valid():
    # The worked example of GB 11643-1999 (Beijing, born 1949-12-31): check digit X.
    assert resident_id_check_char("11010519491231002") == "X"
    assert is_valid_resident_id("11010519491231002X")


def test_resident_id_rejects_wrong_check_digit_and_impossible_birth_dates():
    assert not is_valid_resident_id("110105194912310021")
    body = "33010220250230001"  # 30 February
    assert not is_valid_resident_id(body + resident_id_check_char(body))
    future = "33010221000101001"
    assert not is_valid_resident_id(future + resident_id_check_char(future), today=date(2026, 1, 1))


def test_uscc_check_character_round_trip_and_alphabet():
    body = "91330102MA2AXXXX0"
    code = body + uscc_check_char(body)
    assert is_valid_uscc(code)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert not is_valid_uscc(wrong)
    assert not is_valid_uscc(code.replace("M", "I"))  # I, O, S, V, Z are not in the alphabet
    assert not is_valid_uscc(code[:-1])


def test_passport_format():
    assert is_valid_passport("E12345678")
    assert not is_valid_passport("e1234")
    assert not is_valid_passport("E12")


def test_division_seed_is_the_installed_stdnum_table(tmp_path):
    from subsidy_warehouse.reference_data import DIVISIONS_SEED, write_divisions_seed

    rows = write_divisions_seed(tmp_path / "cn_divisions.csv")
    assert rows > 6000
    committed = (Path(__file__).resolve().parents[2] / DIVISIONS_SEED).read_text(encoding="utf-8")
    assert committed == (tmp_path / "cn_divisions.csv").read_text(encoding="utf-8")


def test_unknown_county_of_a_known_province_is_invalid_not_a_crash():
    body = "33999919850101123"  # province 33 exists, county 9999 does not (stdnum 2.2 raises KeyError)
    assert not is_valid_resident_id(body + resident_id_check_char(body))


def test_personal_numbers_in_free_text_are_masked_and_others_kept():
    body = "33010219850612001"
    number = body + resident_id_check_char(body)
    text = f"张三{number}，旧证 330102850612001，账号 6222021234567890123，金额 123456789012345.00"
    masked = mask_personal_ids(text)
    assert number not in masked and "330102850612001" not in masked
    assert "6222021234567890123" in masked  # 19 digits: not a resident ID
    assert "123456789012345.00" in masked  # 15 digits, province 12, but 1978-90-12 is no date
    assert find_personal_ids(masked) == []
    assert looks_like_resident_id(number.lower()) and is_first_generation_id("330102850612001")
    assert normalise_beneficiary_id(" ３３０１０２850612001 ") == upgrade_first_generation_id("330102850612001")


def test_personal_numbers_written_in_blocks_full_width_or_glued_are_found_and_others_kept():
    dashed = "110105-19491231-002X"  # the GB 11643 example, in blocks
    texts = {
        "杭州１１０１０５１９４９１２３１００２Ｘ工作室": "11010519491231002X",
        "王 330102 19870101 0035": "330102198701010035",
        "赵３３０１０２\u3000１９８７０１０１\u3000００３５": "330102198701010035",
        f"项目 {dashed}": "11010519491231002X",
        "凭证 2025 330102198802020048": "330102198802020048",
        "凭证 2025330102198802020048": "330102198802020048",  # glued: found inside a longer run
        "2025 330102850612001": upgrade_first_generation_id("330102850612001"),  # first generation, in its block
    }
    for text, number in texts.items():
        assert find_personal_ids(text) == [number], text
        assert find_personal_ids(mask_personal_ids(text)) == [], text
    kept = [
        "账号 6222 0212 3456 7890 123",  # a bank account in blocks: no valid ID in it
        "91330102MA2HQWT1A9",  # a USCC
        "电话 0571-8888 8888，138 0013 8000",
        "2025-01-02 2025-03-01",
        "金额 123456789012.00",
    ]
    for text in kept:
        assert mask_personal_ids(text) == text and find_personal_ids(text) == [], text


def test_the_sql_macros_look_for_the_same_written_numbers():
    # two copies of one pattern (identifiers.WRITTEN_NUMBER for Python and polars, written_number_pattern for the
    # engines): a change to one alone would let the other miss what it finds
    from subsidy_warehouse.identifiers import WRITTEN_NUMBER
    from subsidy_warehouse.paths import project_dir

    macros = (project_dir() / "macros" / "identifiers" / "personal_ids.sql").read_text(encoding="utf-8")
    (pattern,) = re.findall(r"macro written_number_pattern\(\) -%\}\s*\{\{ return\('(.*?)'\) \}\}", macros)
    assert pattern == WRITTEN_NUMBER.pattern
