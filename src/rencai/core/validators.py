"""Validation of personal identifiers: ID-card numbers (GB 11643) and mainland mobile numbers."""

from __future__ import annotations

import datetime as dt
import operator
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# Province-level prefixes in use (GB/T 2260), incl. 71 台湾, 81 香港, 82 澳门.
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_CHECK = frozenset("0123456789X")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_FULLWIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"Ｘ": "X", "ｘ": "X", "　": " "})


_ID_WEIGHTED_ZEROS = 48 * sum(ID_WEIGHTS)  # what the weights make of the digits' code points alone


def id_check_char(first17: str) -> str:
    """The check character of 17 ASCII digits (an import computes a million of them: the
    digits' bytes are weighted directly, less what their code point offset adds)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("17 digits expected")
    total = sum(map(operator.mul, first17.encode("ascii"), ID_WEIGHTS)) - _ID_WEIGHTED_ZEROS
    return ID_CHECK_CHARS[total % 11]


_SPACE_RUNS = re.compile(r"\s+")


def normalize_id_card(value: str) -> str:
    return _SPACE_RUNS.sub("", str(value).translate(_FULLWIDTH)).upper()


def validate_id_card(value: str, today: dt.date | None = None) -> str:
    """Return the normalised 18-character number, or raise ValidationError saying what is wrong.
    ``today``: the local date, when the caller checks many numbers (an import) and knows it."""
    if value.__class__ is str and len(value) == 18 and value.isascii() and value[:17].isdigit() and value[17] in _CHECK:
        number = value  # already as stored: the usual case in an import of a million rows
    else:
        number = normalize_id_card(value)
    if len(number) == 15 and number.isdigit():
        raise ValidationError(
            _("这是 15 位旧身份证号码，已停止使用，请填写 18 位号码。"), code="legacy_id"
        )
    if not _ID_RE.match(number):
        raise ValidationError(
            _("身份证号码应为 18 位：前 17 位是数字，最后一位是数字或 X。"), code="id_format"
        )
    if number[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(_("身份证号码前 6 位的地址码无效。"), code="id_region")
    birth = id_birth_date(number)
    if birth is None:
        raise ValidationError(
            _("身份证号码中的出生日期 %(date)s 不是有效日期。") % {"date": number[6:14]}, code="id_birth"
        )
    if birth.year < 1900 or birth > (today or timezone.localdate()):
        raise ValidationError(
            _("身份证号码中的出生日期 %(date)s 不合理。") % {"date": birth.isoformat()}, code="id_birth"
        )
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("身份证号码校验位不符（按前 17 位计算应为 %(char)s），请核对是否有错字。") % {"char": expected},
            code="id_checksum",
        )
    return number


def id_birth_date(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_gender(number: str) -> str:
    """``male`` or ``female``, from the sequence code's parity (odd is male)."""
    return "male" if int(number[16]) % 2 else "female"


def normalize_mobile(value: str) -> str:
    number = re.sub(r"[\s\-()（）]", "", str(value).translate(_FULLWIDTH))
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    return number


def validate_mobile(value: str) -> str:
    number = normalize_mobile(value)
    if not _MOBILE_RE.match(number):
        raise ValidationError(_("手机号码应为 11 位数字，以 13–19 开头。"), code="mobile_format")
    return number


def mask_id_card(number: str) -> str:
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_mobile(number: str) -> str:
    if len(number) < 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


# kind -> (validate-and-normalise, mask)
PROTECTED_KINDS = {
    "id_card": (validate_id_card, mask_id_card),
    "mobile": (validate_mobile, mask_mobile),
}
