"""Turning what counties type into Excel into talent values, or into a message saying why not.

What sheets hold, and what is done with it:

- **Dates** as 1985-03-12, 1985/3/12, 1985.03, 1985年3月, 198503, 19850312, Excel serial numbers
  (31118) and real date cells. A month without a day is the 1st, unless the ID-card number says
  which day (then the ID's date is taken, as it agrees).
- **ID-card numbers** that Excel turned into numbers: 18 digits do not fit in Excel's 15
  significant digits, so the last ones are already zeros (1.40802E+17). That cannot be repaired;
  the message says the digits are lost and how to keep the column as text.
- **Full-width characters and stray spaces**: full-width digits and letters become half-width
  (NFKC for numbers, dates and e-mail), spaces at the ends go, runs of spaces become one, and a
  Chinese name loses the spaces typed to align two-character names (张  伟).
- **Dictionary values** by label, code or synonym (研究生, 10, 硕士研究生); regions by name, name
  with its city or province (运城市盐湖区), or GB/T 2260 code.
- **Cross-field**: birth date and gender are taken from a valid ID-card number when empty and
  checked against it otherwise (``talents.services.identity_errors``); the managing region must
  lie in the user's data scope (``core.forms.region_choices``).

Everything is looked up from tables read once per import, so a row costs dictionary look-ups,
not queries.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.core.forms import region_choices
from rencai.core.models import DictionaryItem, Region
from rencai.core.models.regions import RegionLevel
from rencai.core.validators import id_birth_date, id_gender, validate_id_card, validate_mobile
from rencai.imports.mapping import FIELDS, FieldSpec
from rencai.talents.choices import CATEGORY_DICTIONARY, Gender, TalentKind
from rencai.talents.models import Talent
from rencai.talents.services import identity_errors, is_china

EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap-year bug included)
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Chinese punctuation stays as typed in text (（）：，；！？ belong to Chinese prose).
for _cp in map(ord, "（）：，；！？"):
    _HALF_WIDTH.pop(_cp, None)
_SPACES = re.compile(r"\s+")
# What ``tidy`` changes: a full-width form, a space other than a single inner one.
_UNTIDY = re.compile(r"[\uff01-\uff5e\u3000]|^\s|\s$|\s\s|[^\S ]")
# A date as ISO writes it, read by the standard library at once.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A mobile number as it is usually typed: 11 plain digits.
_PLAIN_MOBILE = re.compile(r"1[3-9]\d{9}")
_CJK_ONLY = re.compile(r"^[\u3400-\u9fff\u00b7·\s]+$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?e\+?\d+$", re.I)
_DATE_PARTS = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*(?:[-./月]\s*(?:(\d{1,2})\s*日?)?)?$")
_DIGITS = re.compile(r"^\d+$")
_REGION_SUFFIX = re.compile(r"(省|市|特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区)$")


def half_width(text: str) -> str:
    return text.translate(_HALF_WIDTH)


def tidy(value) -> str:
    """Text of a cell: half-width letters and digits, no spaces at the ends, single spaces inside."""
    if value is None:
        return ""
    if value.__class__ is str and not _UNTIDY.search(value):
        return value  # most cells: nothing to change, found by one scan
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACES.sub(" ", half_width(str(value))).strip()


def key(value) -> str:
    """A value as looked up in a table: NFKC, no spaces at all, lower case."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(value))).lower()


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


MEMOISED = {"dictionary", "choice", "region", "gender", "category"}
MEMO_LIMIT = 50_000
_MISSING = object()


class CellError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- single values ----------------------------------------------------------------------------------
def parse_date(value) -> tuple[dt.date, bool]:
    """``(date, has_day)``; raises ``CellError``."""
    if isinstance(value, dt.datetime):
        return value.date(), True
    if isinstance(value, dt.date):
        return value, True
    if value.__class__ is str and len(value) == 10 and _ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value), True
        except ValueError:
            pass  # an impossible day: said below, in the sheet's own words
    if isinstance(value, bool):
        raise CellError(_("不是日期"))
    if isinstance(value, (int, float)):
        number = value
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if isinstance(number, int):
            text = str(number)
            if len(text) in (6, 8) and 1900 <= int(text[:4]) <= 2100:
                return _from_parts(text[:4], text[4:6], text[6:8] or None)
            if 1900 <= number <= 2100:
                raise CellError(_("只有年份 %(y)s，请写到月，如 %(y)s.03") % {"y": number})
        if 1 <= number < 80000:  # an Excel serial number shown without date format
            return EXCEL_EPOCH + dt.timedelta(days=int(number)), True
        raise CellError(_("“%(value)s”不是日期") % {"value": value})
    text = _SPACES.sub("", unicodedata.normalize("NFKC", str(value)))
    match = _DATE_PARTS.match(text)
    if match:
        return _from_parts(*match.groups())
    if _DIGITS.match(text):
        return parse_date(int(text))
    if re.fullmatch(r"\d{4}年?", text):
        raise CellError(_("只有年份 %(y)s，请写到月，如 %(y)s.03") % {"y": text[:4]})
    raise CellError(_("“%(value)s”不是日期，可写作 1985-03-12、1985.03 或 1985年3月") % {"value": value})


def _from_parts(year, month, day) -> tuple[dt.date, bool]:
    try:
        return dt.date(int(year), int(month), int(day or 1)), day is not None
    except ValueError as exc:
        raise CellError(_("%(y)s年%(m)s月%(d)s日不是有效日期") % {"y": year, "m": month, "d": day or 1}) from exc


def parse_id_card(value, today: dt.date | None = None) -> str:
    if isinstance(value, float) or (isinstance(value, int) and len(str(value)) > 15):
        raise CellError(_("身份证号码被 Excel 存成了数字，后几位已丢失（Excel 只保留 15 位有效数字），无法恢复。"
                          "请把该列设为“文本”格式，重新填写号码后再导入"))
    text = str(value)
    if not (len(text) == 18 and text.isascii() and text.isalnum()):
        text = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    if _SCIENTIFIC.match(text):
        raise CellError(_("身份证号码显示为科学计数法“%(value)s”，后几位已丢失，无法恢复。请把该列设为“文本”格式，"
                          "重新填写号码后再导入") % {"value": text})
    try:
        return validate_id_card(text, today)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from exc


def parse_mobile(value) -> str:
    if value.__class__ is str and _PLAIN_MOBILE.fullmatch(value):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    try:
        return validate_mobile(text)
    except ValidationError as exc:
        raise CellError(exc.messages[0]) from exc


GENDERS = {"男": Gender.MALE, "男性": Gender.MALE, "m": Gender.MALE, "male": Gender.MALE, "1": Gender.MALE,
           "女": Gender.FEMALE, "女性": Gender.FEMALE, "f": Gender.FEMALE, "female": Gender.FEMALE, "2": Gender.FEMALE}


def region_short(name: str) -> str:
    short = _REGION_SUFFIX.sub("", name)
    return short if len(short) >= 2 else name


# --- the cleaner of one import ----------------------------------------------------------------------
class Cleaner:
    """Cleans rows for one user's import: the tables it looks values up in are read once."""

    def __init__(self, user, fields: list[str]):
        self.user = user
        self._memo: dict = {}
        self._cleaners: dict = {}  # field name -> its cell cleaner (see _cleaner_of)
        self.fields = [FIELDS[name] for name in fields]
        self.today = timezone.localdate()
        self._load_dictionaries()
        self._load_regions()
        self.max_lengths = {
            f.name: f.max_length for f in Talent._meta.concrete_fields if getattr(f, "max_length", None)
        }

    # --- tables ---------------------------------------------------------------------------------
    def _load_dictionaries(self) -> None:
        wanted = {spec.dictionary for spec in FIELDS.values() if spec.dictionary} | set(CATEGORY_DICTIONARY.values())
        tables: dict[str, dict[str, int]] = {code: {} for code in wanted}
        labels: dict[int, str] = {}
        rows = DictionaryItem.objects.filter(dictionary__code__in=wanted, is_active=True).order_by(
            "dictionary__code", "sort_order", "code").values_list("dictionary__code", "id", "code", "label", "synonyms")
        # Labels and codes first, synonyms after: a synonym never hides another item's own name.
        later: list[tuple[str, str, int]] = []
        for dictionary, pk, code, label, synonyms in rows:
            table = tables[dictionary]
            labels[pk] = label
            table.setdefault(key(label), pk)
            table.setdefault(key(code), pk)
            later += [(dictionary, key(s), pk) for s in (synonyms or []) if s]
        for dictionary, spelling, pk in later:
            tables[dictionary].setdefault(spelling, pk)
        self.dictionaries = tables
        self.item_labels = labels
        self.category_kind = {pk: kind for kind, code in CATEGORY_DICTIONARY.items() for pk in tables[code].values()}

    def _load_regions(self) -> None:
        city = Region.objects.filter(code=settings.CITY_CODE).first()
        self.city_path = city.path if city else ""
        allowed = list(region_choices(self.user).values_list("id", flat=True))
        self.scope_ids = set(allowed)
        self.default_region = allowed[0] if len(allowed) == 1 else None
        rows = list(Region.objects.filter(is_active=True).values_list("id", "code", "name", "level", "parent_id", "path"))
        by_id = {r[0]: r for r in rows}
        self.region_names = {r[0]: r[2] for r in rows}
        self.region_parent = {r[0]: r[4] for r in rows}
        self.region_level = {r[0]: r[3] for r in rows}
        self.region_path = {r[0]: r[5] for r in rows}
        counties: dict[str, list[int]] = {}
        provinces: dict[str, int] = {}
        prefectures: dict[str, list[int]] = {}
        managed: dict[str, list[int]] = {}
        for pk, code, name, level, parent_id, path in rows:
            parent = by_id.get(parent_id)
            grand = by_id.get(parent[4]) if parent else None
            spellings = {name, region_short(name), code}
            if parent:
                spellings |= {parent[2] + name, region_short(parent[2]) + name}
                if grand:
                    spellings |= {grand[2] + parent[2] + name, region_short(grand[2]) + region_short(parent[2]) + name}
            keys = {key(s) for s in spellings}
            if level in (RegionLevel.COUNTY, RegionLevel.ZONE):
                for k in keys:
                    counties.setdefault(k, []).append(pk)
            if level == RegionLevel.PROVINCE:
                for k in keys:
                    provinces.setdefault(k, pk)
            if level == RegionLevel.PREFECTURE:
                for k in keys:
                    prefectures.setdefault(k, []).append(pk)
            if self.city_path and path.startswith(self.city_path):
                for k in keys:
                    managed.setdefault(k, []).append(pk)
        self.counties, self.provinces, self.prefectures, self.managed = counties, provinces, prefectures, managed
        province_of_city = city.parent.path if city and city.parent_id else ""
        self.province_path = province_of_city

    # --- one value ------------------------------------------------------------------------------
    def value(self, spec: FieldSpec, raw, row: dict):
        """The clean value of one cell (ids for references); raises ``CellError``.

        Values looked up in a table (dictionaries, choices, regions, gender) repeat down a
        sheet: each distinct cell of such a column is worked out once per import."""
        kind = spec.kind
        if kind in MEMOISED and not (kind == "category" and not row.get("kind")):
            memo_key = (spec.name, row["kind"]) if kind == "category" else spec.name
            memo = self._memo.get(memo_key)
            if memo is None:
                memo = self._memo[memo_key] = {}
            try:
                found = memo.get(raw, _MISSING)
            except TypeError:  # an unhashable cell: not memoised
                found = _MISSING
            if found is _MISSING:
                try:
                    found = self._value(spec, raw, row)
                except CellError as exc:
                    found = exc
                if len(memo) < MEMO_LIMIT:
                    memo[raw] = found
            if isinstance(found, CellError):
                raise found
            return found
        return self._value(spec, raw, row)

    def _value(self, spec: FieldSpec, raw, row: dict):
        return self._by_kind[spec.kind](spec, raw, row)

    def _cleaner_of(self, name: str):
        """``value`` for the field ``name``, worked out once: a row cleans fifteen cells, a
        million times over in a large import."""
        spec = FIELDS[name]
        method = self._by_kind[spec.kind]
        if spec.kind == "category":  # memoised per kind of talent, which the row gives
            def clean_cell(raw, row):
                return self.value(spec, raw, row)
        elif spec.kind in MEMOISED:
            memo = self._memo.setdefault(spec.name, {})

            def clean_cell(raw, row):
                try:
                    found = memo.get(raw, _MISSING)
                except TypeError:  # an unhashable cell: not memoised
                    return method(spec, raw, row)
                if found is _MISSING:
                    try:
                        found = method(spec, raw, row)
                    except CellError as exc:
                        found = exc
                    if len(memo) < MEMO_LIMIT:
                        memo[raw] = found
                if found.__class__ is CellError:
                    raise found
                return found
        else:
            def clean_cell(raw, row):
                return method(spec, raw, row)
        self._cleaners[name] = clean_cell
        return clean_cell

    @cached_property
    def _by_kind(self) -> dict:
        return {
            "text": self._text, "name": self._name, "date": self._date, "id_card": self._id_card,
            "mobile": self._mobile, "email": self._email, "gender": self._gender, "choice": self._choice,
            "dictionary": self._dictionary, "category": self._category, "region": self._region,
        }

    def _text(self, spec: FieldSpec, raw, row: dict):
        text = tidy(raw)
        limit = self.max_lengths.get(spec.name)
        if limit and len(text) > limit:
            raise CellError(_("超过 %(n)d 个字") % {"n": limit})
        return text

    def _name(self, spec: FieldSpec, raw, row: dict):
        text = tidy(raw)
        if _CJK_ONLY.match(text):
            text = text.replace(" ", "")
        if len(text) > 64:
            raise CellError(_("超过 %(n)d 个字") % {"n": 64})
        return text

    def _date(self, spec: FieldSpec, raw, row: dict):
        date, has_day = parse_date(raw)
        if spec.name == "birth_date":
            if not dt.date(1900, 1, 1) <= date <= self.today:
                raise CellError(_("出生日期 %(date)s 不合理") % {"date": date.isoformat()})
            if not has_day:
                row["_birth_month_only"] = True
        elif date > self.today:
            raise CellError(_("日期 %(date)s 晚于今天") % {"date": date.isoformat()})
        return date

    def _id_card(self, spec: FieldSpec, raw, row: dict):
        return parse_id_card(raw, self.today)

    def _mobile(self, spec: FieldSpec, raw, row: dict):
        return parse_mobile(raw)

    def _email(self, spec: FieldSpec, raw, row: dict):
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        try:
            validate_email(text)
        except ValidationError as exc:
            raise CellError(_("“%(value)s”不是有效的电子邮箱") % {"value": text}) from exc
        return text

    def _gender(self, spec: FieldSpec, raw, row: dict):
        found = GENDERS.get(key(raw))
        if found is None:
            raise CellError(_("“%(value)s”不是性别，应为“男”或“女”") % {"value": tidy(raw)})
        return found

    def _choice(self, spec: FieldSpec, raw, row: dict):
        return self.choice(spec, raw)

    def _dictionary(self, spec: FieldSpec, raw, row: dict):
        found = self.dictionaries[spec.dictionary].get(key(raw))
        if found is None:
            raise CellError(_("“%(value)s”不在%(label)s的可选值中") % {"value": tidy(raw), "label": spec.label})
        return found

    def _category(self, spec: FieldSpec, raw, row: dict):
        return self.category(raw, row)

    def _region(self, spec: FieldSpec, raw, row: dict):
        return self.region(spec, raw)

    def choice(self, spec: FieldSpec, raw):
        text = key(raw)
        for value, label in spec.choices.choices:
            if text in (key(value), key(label)):
                return value
        for spelling, value in spec.choice_synonyms.items():
            if text == key(spelling):
                return value
        raise CellError(_("“%(value)s”不是可选值（%(hint)s）") % {"value": tidy(raw), "hint": spec.choices_hint})

    def category(self, raw, row: dict):
        text = key(raw)
        kind = row.get("kind")
        if kind:
            found = self.dictionaries[CATEGORY_DICTIONARY[kind]].get(text)
            if found is None:
                raise CellError(_("“%(value)s”不是%(kind)s的分类") % {"value": tidy(raw), "kind": TalentKind(kind).label})
            return found
        matches = [(k, table[text]) for k, code in CATEGORY_DICTIONARY.items()
                   if text in (table := self.dictionaries[code])]
        if not matches:
            raise CellError(_("“%(value)s”不是人才分类") % {"value": tidy(raw)})
        if len(matches) > 1:
            raise CellError(_("“%(value)s”在在外人才和本土人才中都有，请同时填写人才类别") % {"value": tidy(raw)})
        row["kind"] = matches[0][0]
        return matches[0][1]

    def region(self, spec: FieldSpec, raw):
        text = key(raw if not isinstance(raw, float) else int(raw))
        level = spec.region_level
        if level == "managed":
            found = self.managed.get(text, [])
            if not found:
                raise CellError(_("找不到本市的地区“%(value)s”，请填写县（市、区）名称或 6 位代码") % {"value": tidy(raw)})
            in_scope = [pk for pk in found if pk in self.scope_ids]
            if not in_scope:
                raise CellError(_("“%(value)s”不在您的数据范围内，您只能导入本人负责地区的人才") % {"value": tidy(raw)})
            return in_scope[0]
        if level == "province":
            found = self.provinces.get(text)
            if found is None:
                raise CellError(_("找不到省份“%(value)s”") % {"value": tidy(raw)})
            return found
        if level == "prefecture":
            found = self.prefectures.get(text, [])
            if len(found) != 1:
                # 北京, 上海 … are provinces with no city level: kept as the province.
                province = self.provinces.get(text)
                if province is not None:
                    return ("province", province)
                raise CellError(_("找不到城市“%(value)s”") % {"value": tidy(raw)})
            return found[0]
        found = self.counties.get(text, [])
        if len(found) > 1:
            # Many counties share a name (城区, 新华区 …): the city's own first, then its province's.
            for prefix in (self.city_path, self.province_path):
                near = [pk for pk in found if prefix and self.region_path[pk].startswith(prefix)]
                if len(near) == 1:
                    return near[0]
            raise CellError(_("有多个地区叫“%(value)s”，请写上所在市，如“运城市盐湖区”，或填 6 位代码") % {"value": tidy(raw)})
        if not found:
            if text in self.prefectures or text in self.provinces:
                raise CellError(_("籍贯请写到县（市、区），如“运城市盐湖区”"))
            raise CellError(_("找不到地区“%(value)s”") % {"value": tidy(raw)})
        return found[0]

    def defaults_for_new(self, row: dict, errors: dict[str, str]) -> None:
        """What a new record needs that a row may leave out: its region (the user's only county,
        else it must be given) and its kind (在外人才 unless given). Not applied to updates,
        which would otherwise move people or change their kind."""
        if "region" not in row:
            if self.default_region is not None:
                row["region"] = self.default_region
            else:
                errors["region"] = _("请填写所属地区（县、市、区），或在导入时为整个文件指定")
        if "kind" not in row:
            row["kind"] = TalentKind.NATIVE
            native = row.get("native_place")
            if native is not None and self.city_path and not self.region_path[native].startswith(self.city_path):
                errors.setdefault("native_place", _("在外人才的籍贯应为本市的县（市、区）。"))

    # --- one row --------------------------------------------------------------------------------
    def clean(self, raw: dict[str, object], fixed: dict[str, object] | None = None) -> tuple[dict, dict[str, str]]:
        """``raw`` maps field names to cell values (blank cells may be left out).

        Returns ``(values, errors)``: values by field name (references as ids, ``None``/"" not
        included: a blank cell says nothing), errors by field name. ``fixed`` holds values for
        the whole file, used where a row's cell is blank.
        """
        row: dict = {}
        errors: dict[str, str] = {}
        if fixed:
            raw = {**{k: v for k, v in fixed.items() if not is_blank(v)},
                   **{k: v for k, v in raw.items() if not is_blank(v)}}
        # The kind first: the category is looked up in the kind's dictionary.
        order = ["kind", *(name for name in raw if name != "kind")] if "kind" in raw else raw
        cleaners = self._cleaners
        for name in order:
            value = raw[name]
            if value is None or (value.__class__ is str and not value.strip()):
                continue
            try:
                cleaned = (cleaners.get(name) or self._cleaner_of(name))(value, row)
            except CellError as exc:
                errors[name] = exc.message
                continue
            if cleaned is None or (cleaned.__class__ is str and not cleaned):
                continue
            if isinstance(cleaned, tuple):  # a province given as the city (北京)
                row.setdefault("work_province", cleaned[1])
                continue
            row[name] = cleaned
        month_only = row.pop("_birth_month_only", False)
        if not row.get("name") and "name" not in errors:
            errors["name"] = _("姓名不能为空")
        self.check(row, errors, month_only)
        return row, errors

    def check(self, row: dict, errors: dict[str, str], month_only: bool) -> None:
        """Rules across fields (on a row whose own cells are clean)."""
        number = row.get("id_card")
        if number:
            expected = id_birth_date(number)
            birth = row.get("birth_date")
            if birth is None and "birth_date" not in errors:
                row["birth_date"] = expected
            elif month_only and birth is not None and (birth.year, birth.month) == (expected.year, expected.month):
                row["birth_date"] = expected
            if not row.get("gender") and "gender" not in errors:
                row["gender"] = id_gender(number)
            # The registry's own rule and messages, asked only when something disagrees.
            if row.get("birth_date") != expected or row.get("gender") != id_gender(number):
                for name, message in identity_errors(number, row.get("birth_date"), row.get("gender", "")).items():
                    errors.setdefault(name, message)
        native = row.get("native_place")  # the kind is known here only if the row or the file gives it
        if native is not None and row.get("kind") == TalentKind.NATIVE and self.city_path:
            if not self.region_path[native].startswith(self.city_path):
                errors.setdefault("native_place", _("在外人才的籍贯应为本市的县（市、区）。"))
        category = row.get("category")
        if category is not None and row.get("kind") and self.category_kind.get(category) != row["kind"]:
            errors.setdefault("category", _("“%(category)s”不是%(kind)s的分类，请按人才类别选择。") % {
                "category": self.item_labels.get(category, ""), "kind": TalentKind(row["kind"]).label})
        country = row.get("work_country", "")
        if country and not is_china(country):
            if row.get("work_province") or row.get("work_city"):
                errors.setdefault("work_province", _("工作所在国家（地区）不是中国时，不填写省份和城市。"))
        city = row.get("work_city")
        if city is not None:
            parent = self.region_parent.get(city)
            province = row.get("work_province")
            if province is None:
                row["work_province"] = parent
            elif parent != province:
                errors.setdefault("work_city", _("%(city)s不在%(province)s。") % {
                    "city": self.region_names[city], "province": self.region_names[province]})
