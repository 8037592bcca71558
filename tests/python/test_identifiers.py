"""The Python reference checks for Chinese identifiers (the SQL macros are compared to these end to end)."""

from datetime import date

from subsidy_warehouse.identifiers import (
    is_valid_passport,
    is_valid_resident_id,
    is_valid_uscc,
    resident_id_check_char,
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
