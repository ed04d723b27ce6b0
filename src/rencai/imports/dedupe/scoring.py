"""How alike two talents are: comparisons tuned for Chinese names, weighed Fellegi–Sunter style.

Each field is compared into a *level* (name: 完全相同, 同音, 近音, 一字之差 …), and each level
carries a weight ``log2(m / u)``: ``m`` is how often two records of the same person show that
level, ``u`` how often two records of different people do. The weights of the fields add up (the
fields are taken as independent given match or non-match), and the sum, with the prior odds that
two records picked at random are the same person, gives the match probability shown as the score.

The m/u values below were set from what an office's data looks like (name typos by homophone,
ID numbers missing from sheets collected by phone, changed mobiles) and checked against the
seeded registry of ``dedupe.synthetic`` (see bench/dedupe.py and docs/dedupe.md).

Work on plain tuples: a registry of 100,000 talents is read with ``values_list(*FIELDS)`` and each
row prepared once (``prepare``); ``score_prepared`` then compares two prepared rows without
touching a model.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import NamedTuple

# The columns read from the registry, in this order (``values_list(*FIELDS)``).
FIELDS = (
    "pk", "name", "gender", "birth_date", "id_card_hash", "mobile_hash", "email", "native_place_id",
    "work_unit", "region_id", "version",
)

# Prior odds that two records are the same person, before any field is looked at: about one
# duplicate per twenty records in a registry of 100,000 (5,000 matches in 5·10⁹ pairs).
PRIOR_LOG2_ODDS = -20.0
DEFAULT_THRESHOLD = 0.5


class Record(NamedTuple):
    pk: int | None
    name: str
    gender: str
    birth_date: dt.date | None
    id_card_hash: str
    mobile_hash: str
    email: str
    native_place_id: int | None
    work_unit: str
    region_id: int | None
    version: int


class Prepared(NamedTuple):
    """A record with what its comparisons need worked out once."""

    record: Record
    name: str            # normalised hanzi
    pinyin: tuple        # a toneless syllable per character
    sound: tuple         # the syllables with the sounds southern and northern speakers confuse folded
    birth: str           # YYYYMMDD or ""
    email: str
    unit: str
    unit_grams: frozenset


# --- levels and weights ---------------------------------------------------------------------------
# (level, label shown to the reviewer, m, u). A missing value on either side weighs nothing.
MISSING = "missing"
COMPARISONS: dict[str, dict[str, tuple[str, float, float]]] = {
    "id_card": {
        "same": ("身份证号相同", 0.99, 1e-7),
        # Two valid, different ID numbers (the checksum catches typos): two people, whatever else agrees.
        "different": ("身份证号不同", 1e-10, 0.99),
    },
    "name": {
        "exact": ("姓名相同", 0.80, 2e-4),
        "pinyin": ("同音（拼音相同）", 0.07, 1e-4),
        "sound": ("近音（平翘舌、前后鼻音、n/l）", 0.02, 2e-4),
        "one_char": ("一字之差（三字及以上姓名）", 0.05, 1e-3),
        "one_char_short": ("一字之差（两字姓名）", 0.02, 6e-3),
        "indel": ("多一字或少一字", 0.03, 5e-4),
        "swapped": ("名字颠倒", 0.005, 5e-5),
        "different": ("姓名不同", 0.005, 0.99),
    },
    "birth_date": {
        "exact": ("出生日期相同", 0.88, 1 / 15000),
        "typo": ("出生日期疑似笔误（数字颠倒、月日互换、错一位）", 0.08, 6e-4),
        "different": ("出生日期不同", 0.04, 0.999),
    },
    "gender": {
        "same": ("性别相同", 0.99, 0.5),
        "different": ("性别不同", 0.01, 0.5),
    },
    "mobile": {
        "same": ("手机号码相同", 0.55, 2e-6),
        "different": ("手机号码不同", 0.45, 0.999998),
    },
    "email": {
        "same": ("电子邮箱相同", 0.6, 1e-6),
        "different": ("电子邮箱不同", 0.4, 0.999999),
    },
    "native_place": {
        "same": ("籍贯相同", 0.95, 0.08),
        "different": ("籍贯不同", 0.05, 0.92),
    },
    "work_unit": {
        "same": ("工作单位相同", 0.55, 0.005),
        "similar": ("工作单位相近", 0.2, 0.02),
        "different": ("工作单位不同", 0.25, 0.975),
    },
}
FIELD_LABELS = {
    "id_card": "身份证号", "name": "姓名", "birth_date": "出生日期", "gender": "性别", "mobile": "手机号码",
    "email": "电子邮箱", "native_place": "籍贯", "work_unit": "工作单位",
}
WEIGHTS = {
    field: {level: math.log2(m / u) for level, (_label, m, u) in levels.items()}
    for field, levels in COMPARISONS.items()
}


def probability(weight: float) -> float:
    """The match probability of a summed weight (log2 Bayes factor) given the prior odds."""
    odds = weight + PRIOR_LOG2_ODDS
    if odds > 60:
        return 1.0
    if odds < -60:
        return 0.0
    return 1.0 / (1.0 + 2.0 ** -odds)


def weight_for(probability_: float) -> float:
    """The summed weight at which the match probability reaches ``probability_``."""
    probability_ = min(max(probability_, 1e-12), 1 - 1e-12)
    return math.log2(probability_ / (1 - probability_)) - PRIOR_LOG2_ODDS


# --- names ------------------------------------------------------------------------------------------
_NOT_NAME = re.compile(r"[\s·•．.・\-]")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_char_pinyin: dict[str, str] = {}
_name_cache: dict[str, tuple[str, tuple, tuple]] = {}
_SOUND_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))
_SOUND_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"), ("iang", "ian"), ("uang", "uan"))


def normalize_name(name: str) -> str:
    """Full-width folded, spaces and the middle dots of minority names dropped."""
    return _NOT_NAME.sub("", unicodedata.normalize("NFKC", name or "")).lower()


def _syllable(char: str, first: bool) -> str:
    key = char + ("1" if first else "")
    cached = _char_pinyin.get(key)
    if cached is not None:
        return cached
    reading = ""
    if first:
        from rencai.talents.search import SURNAME_READINGS

        reading = SURNAME_READINGS.get(char, "")
    if not reading and _HAN.match(char):
        from pypinyin import Style, lazy_pinyin

        reading = lazy_pinyin(char, style=Style.NORMAL)[0]
    _char_pinyin[key] = reading = reading or char
    return reading


def _fold(syllable: str) -> str:
    for long, short in _SOUND_INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    for long, short in _SOUND_FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


def name_readings(name: str) -> tuple[str, tuple, tuple]:
    """(normalised name, pinyin per character, folded sound per character), memoised: a registry
    repeats names a lot."""
    cached = _name_cache.get(name)
    if cached is not None:
        return cached
    text = normalize_name(name)
    pinyin = tuple(_syllable(char, index == 0) for index, char in enumerate(text))
    sound = tuple(_fold(s) for s in pinyin)
    if len(_name_cache) > 500_000:
        _name_cache.clear()
    _name_cache[name] = result = (text, pinyin, sound)
    return result


def _one_deleted(longer: tuple, shorter: tuple) -> bool:
    """Whether ``shorter`` is ``longer`` with one element left out."""
    for index in range(len(longer)):
        if longer[:index] + longer[index + 1:] == shorter:
            return True
    return False


def compare_names(a: Prepared, b: Prepared) -> str:
    if not a.name or not b.name:
        return MISSING
    if a.name == b.name:
        return "exact"
    if a.pinyin == b.pinyin:
        return "pinyin"
    if a.sound == b.sound:
        return "sound"
    length_a, length_b = len(a.sound), len(b.sound)
    if length_a == length_b:
        differing = sum(1 for x, y in zip(a.sound, b.sound, strict=True) if x != y)
        if differing == 1:
            return "one_char" if length_a >= 3 else "one_char_short"
        if length_a >= 3 and differing == 2 and a.sound[0] == b.sound[0] and sorted(a.sound) == sorted(b.sound):
            return "swapped"
        return "different"
    if abs(length_a - length_b) == 1 and min(length_a, length_b) >= 2:
        longer, shorter = (a.sound, b.sound) if length_a > length_b else (b.sound, a.sound)
        if _one_deleted(longer, shorter):
            return "indel"
    return "different"


# --- dates, units, the rest ---------------------------------------------------------------------------
def compare_births(a: str, b: str) -> str:
    if not a or not b:
        return MISSING
    if a == b:
        return "exact"
    differing = [index for index in range(8) if a[index] != b[index]]
    if len(differing) == 1:
        return "typo"
    if len(differing) == 2 and differing[1] == differing[0] + 1 and a[differing[0]] == b[differing[1]] \
            and a[differing[1]] == b[differing[0]]:
        return "typo"  # two neighbouring digits swapped: 1985-03-12 / 1985-03-21
    if a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
        return "typo"  # month and day transposed
    return "different"


_UNIT_NOISE = re.compile(r"[\s()（）·,，、.。\-—]|有限责任公司|股份有限公司|有限公司|集团|公司")


def normalize_unit(unit: str) -> str:
    return _UNIT_NOISE.sub("", unicodedata.normalize("NFKC", unit or "")).lower()


def _grams(text: str) -> frozenset:
    return frozenset(text[index:index + 2] for index in range(len(text) - 1)) if len(text) > 1 else frozenset(text)


def compare_units(a: Prepared, b: Prepared) -> str:
    if not a.unit or not b.unit:
        return MISSING
    if a.unit == b.unit:
        return "same"
    if a.unit in b.unit or b.unit in a.unit:
        return "similar"
    common = len(a.unit_grams & b.unit_grams)
    if common and common / len(a.unit_grams | b.unit_grams) >= 0.5:
        return "similar"
    return "different"


def _equal(a, b) -> str:
    if not a or not b:
        return MISSING
    return "same" if a == b else "different"


# --- records ---------------------------------------------------------------------------------------------
def as_record(values) -> Record:
    """A ``Record`` from a tuple in ``FIELDS`` order, a ``Talent`` or a dict of field values.

    A dict (an import row, a form being entered) may give plain ``id_card`` and ``mobile``; they
    are hashed with the registry's key so they compare with stored rows. An invalid number
    compares as missing.
    """
    if isinstance(values, Record):
        return values
    if isinstance(values, tuple):
        return Record(*values)
    if isinstance(values, dict):
        get = values.get
    else:
        def get(name, default=None):
            return getattr(values, name, default)
    return Record(
        pk=get("pk") or get("id"),
        name=get("name") or "",
        gender=get("gender") or "",
        birth_date=get("birth_date"),
        id_card_hash=get("id_card_hash") or _hash("id_card", get("id_card")),
        mobile_hash=get("mobile_hash") or _hash("mobile", get("mobile")),
        email=get("email") or "",
        native_place_id=get("native_place_id") if get("native_place_id") is not None else _pk(get("native_place")),
        work_unit=get("work_unit") or "",
        region_id=get("region_id") if get("region_id") is not None else _pk(get("region")),
        version=get("version") or 0,
    )


def _pk(value):
    return getattr(value, "pk", value)


def _hash(kind: str, value) -> str:
    if not value:
        return ""
    from django.core.exceptions import ValidationError

    from rencai.talents.models import Talent

    try:
        return Talent._meta.get_field(kind).lookup_hash(str(value))
    except ValidationError:
        return ""


def prepare(values) -> Prepared:
    record = as_record(values)
    name, pinyin, sound = name_readings(record.name)
    birth = record.birth_date
    if isinstance(birth, str):
        birth = dt.date.fromisoformat(birth) if birth else None
        record = record._replace(birth_date=birth)
    unit = normalize_unit(record.work_unit)
    return Prepared(
        record=record, name=name, pinyin=pinyin, sound=sound,
        birth=birth.strftime("%Y%m%d") if birth else "",
        email=(record.email or "").strip().lower(),
        unit=unit, unit_grams=_grams(unit),
    )


def levels_of(a: Prepared, b: Prepared) -> dict[str, str]:
    """The level of each field comparison."""
    ra, rb = a.record, b.record
    return {
        "id_card": _equal(ra.id_card_hash, rb.id_card_hash),
        "name": compare_names(a, b),
        "birth_date": compare_births(a.birth, b.birth),
        "gender": _equal(ra.gender, rb.gender),
        "mobile": _equal(ra.mobile_hash, rb.mobile_hash),
        "email": _equal(a.email, b.email),
        "native_place": _equal(ra.native_place_id, rb.native_place_id),
        "work_unit": compare_units(a, b),
    }


def weight_of(levels: dict[str, str]) -> float:
    return sum(WEIGHTS[field].get(level, 0.0) for field, level in levels.items())


def score_prepared(a: Prepared, b: Prepared) -> float:
    """The summed weight of two prepared records (the hot path of a registry-wide run)."""
    ra, rb = a.record, b.record
    total = 0.0
    if ra.id_card_hash and rb.id_card_hash:
        total += WEIGHTS["id_card"]["same" if ra.id_card_hash == rb.id_card_hash else "different"]
    level = compare_names(a, b)
    if level != MISSING:
        total += WEIGHTS["name"][level]
    level = compare_births(a.birth, b.birth)
    if level != MISSING:
        total += WEIGHTS["birth_date"][level]
    if ra.gender and rb.gender:
        total += WEIGHTS["gender"]["same" if ra.gender == rb.gender else "different"]
    if ra.mobile_hash and rb.mobile_hash:
        total += WEIGHTS["mobile"]["same" if ra.mobile_hash == rb.mobile_hash else "different"]
    if a.email and b.email:
        total += WEIGHTS["email"]["same" if a.email == b.email else "different"]
    if ra.native_place_id and rb.native_place_id:
        total += WEIGHTS["native_place"]["same" if ra.native_place_id == rb.native_place_id else "different"]
    level = compare_units(a, b)
    if level != MISSING:
        total += WEIGHTS["work_unit"][level]
    return total


def evidence(a: Prepared, b: Prepared) -> dict[str, dict]:
    """Per field: the level, its label and its weight, for the review page (no personal values)."""
    result = {}
    for field, level in levels_of(a, b).items():
        if level == MISSING:
            result[field] = {"level": level, "label": "一方或双方为空", "weight": 0.0}
        else:
            label, _m, _u = COMPARISONS[field][level]
            result[field] = {"level": level, "label": label, "weight": round(WEIGHTS[field][level], 2)}
    return result


class PairScore(NamedTuple):
    score: float          # match probability, 0–1
    weight: float         # summed log2 Bayes factor
    evidence: dict


def score_pair(a, b) -> PairScore:
    """How likely two talents are the same person, with the evidence per field.

    ``a`` and ``b`` may be ``Talent`` objects, dicts of field values (plain ID and mobile numbers
    are hashed) or tuples in ``FIELDS`` order.
    """
    pa, pb = prepare(a), prepare(b)
    weight = score_prepared(pa, pb)
    return PairScore(probability(weight), weight, evidence(pa, pb))
