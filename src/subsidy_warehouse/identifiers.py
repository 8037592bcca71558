"""Chinese identifiers: USCCs (GB 32100) and resident ID numbers (GB 11643), made and checked.

python-stdnum (`stdnum.cn.uscc`, `stdnum.cn.ric`) is the reference: the warehouse checks identifiers in SQL
(macros/identifiers) and the tests hold those checks to the functions here, which call stdnum. This module
also makes valid identifiers for sample data, and finds personal ID numbers in any text so that outputs can
mask them.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)
# First two digits of every province-level division (GB/T 2260): a 15-digit first-generation number carries
# no check digit, so its province and birth date are what tell it from any other 15-digit number.
PROVINCE_CODES = frozenset(
    ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"]
)
# A number as people write one in a text: 15 or more digits, ASCII or full-width, single blanks, dashes or dots
# between them (330102 19870101 0035, 110105-19491231-002X), maybe closed by X: the only places a resident ID
# number can hide in a text. The same pattern as macros/identifiers (written_number_pattern), which every engine
# and polars read.
WRITTEN_NUMBER = re.compile("[0-9０-９](?:[ .．\u00a0\u3000－-]?[0-9０-９]){14,}[XxＸｘ]?")
_ASCII_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
FULL_WIDTH = str.maketrans({chr(ord(c) + 0xFEE0): c for c in _ASCII_ALNUM})
WHITESPACE = re.compile("[ \t\n\r\f\v\u00a0\u3000]+")  # the class macros/identifiers writes for SQL


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def resident_id_check_char(first17: str) -> str:
    return RESIDENT_ID_CHECK[sum(int(c) * w for c, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True)) % 11]


def fold_identifier(text: str) -> str:
    """Full-width digits and letters folded to ASCII, whitespace of any kind removed (macro fold_identifier)."""
    return WHITESPACE.sub("", text.translate(FULL_WIDTH))


def normalise_beneficiary_id(text: str) -> str:
    """A beneficiary identifier as the warehouse compares it: folded, upper case, and a 15-digit
    first-generation resident ID upgraded to its 18-digit form, so one person is one person."""
    folded = fold_identifier(text).upper()
    return upgrade_first_generation_id(folded) if is_first_generation_id(folded) else folded


def _birth_date(digits: str) -> date | None:
    try:
        return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def is_valid_uscc(code: str) -> bool:
    """GB 32100-2015: 18 characters of the 31-character alphabet with a check character (stdnum)."""
    return len(code) == 18 and code == code.strip().upper() and uscc.is_valid(code)


def is_valid_resident_id(number: str, today: date | None = None) -> bool:
    """GB 11643-1999, as python-stdnum checks it (check digit, real birth date, a division that existed in
    the birth year), and a birth date between 1900-01-01 and today."""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number) or not _stdnum_accepts(number):
        return False
    born = _birth_date(number[6:14])
    return born is not None and EARLIEST_BIRTH <= born <= (today or date.today())


def _stdnum_accepts(number: str) -> bool:
    try:
        return bool(ric.validate(number))
    except (ValidationError, KeyError):  # stdnum 2.2 raises KeyError for an unknown county of a known province
        return False


def is_first_generation_id(number: str) -> bool:
    """A 15-digit resident ID of the first generation (before 1999): province, 19YYMMDD birth date."""
    if not re.fullmatch(r"[0-9]{15}", number) or number[:2] not in PROVINCE_CODES:
        return False
    return _birth_date("19" + number[6:12]) is not None


def upgrade_first_generation_id(number: str) -> str:
    """The 18-digit form of a 15-digit first-generation ID: century 19 inserted, check digit appended."""
    body = number[:6] + "19" + number[6:]
    return body + resident_id_check_char(body)


def is_valid_passport(number: str) -> bool:
    return re.fullmatch(r"[A-Z0-9]{5,17}", number) is not None


def looks_like_resident_id(token: str) -> bool:
    """True for a number that is personal data: an 18-digit ID whose check digit and birth date hold, or a
    first-generation 15-digit ID. Wider than validity on purpose: a mistyped birthplace is still a person."""
    if len(token) == 15:
        return is_first_generation_id(token)
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", token):
        return False
    born = _birth_date(token[6:14])
    return (
        born is not None
        and EARLIEST_BIRTH <= born <= date.today()
        and token[17].upper() == resident_id_check_char(token[:17])
    )


def mask_resident_id(token: str) -> str:
    """3301************1X: the first four and last two characters of a personal number."""
    return token[:4] + "*" * (len(token) - 6) + token[-2:]


def resident_id_in(written: str) -> str | None:
    """The resident ID (normalised: 18 characters, upper case) a written number (WRITTEN_NUMBER) holds, or None:
    18 consecutive digits that looks_like_resident_id accepts anywhere in its digits (glued to other digits or
    not), else a 15-digit first-generation ID between its separators (macro resident_id_in)."""
    spelled = written.translate(FULL_WIDTH).upper()
    digits = re.sub("[^0-9X]", "", spelled)
    for start in range(len(digits) - 17):
        if looks_like_resident_id(digits[start : start + 18]):
            return digits[start : start + 18]
    for piece in re.split("[^0-9X]+", spelled):
        if is_first_generation_id(piece):
            return upgrade_first_generation_id(piece)
    return None


def mask_personal_ids(text: str) -> str:
    """`text` with every written number that holds a resident ID masked whole (the last line of defence for
    files and messages people see)."""
    return WRITTEN_NUMBER.sub(lambda m: mask_resident_id(m[0]) if resident_id_in(m[0]) else m[0], text)


def find_personal_ids(text: str) -> list[str]:
    """Every resident ID number written in `text`, normalised."""
    return [found for m in WRITTEN_NUMBER.finditer(text) if (found := resident_id_in(m[0]))]
