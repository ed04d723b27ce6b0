"""Writes to the registry: one talent, many talents at once, and the rules every write obeys.

Views and the API parse and authorise, then call these functions; each runs in one transaction,
re-checks data scope inside it, leaves the audit trail (the automatic change log of every row,
plus a summary entry where histories change) and brings the search index up to date.

The rules that the model alone cannot state live here so the edit form and the API share them:
the ID-card number must agree with birth date and gender, 在外人才 come from a county of the city,
a category belongs to its kind's dictionary, a person is registered once (same ID-card number is
refused; same name with the same birth date or phone is asked about first), and an edit made on
a stale copy is refused instead of overwriting someone else's newer change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from rencai.core import audit
from rencai.core.fields import protected_match
from rencai.core.forms import region_choices
from rencai.core.models import Dictionary, Region
from rencai.core.models.audit import AuditAction
from rencai.core.models.regions import RegionLevel
from rencai.core.scope import check_in_scope
from rencai.core.validators import id_birth_date, id_gender, validate_id_card
from rencai.talents import search
from rencai.talents.choices import CATEGORY_DICTIONARY, Gender, TalentKind
from rencai.talents.models import Tag, Talent, TalentEducation, TalentWork
from rencai.talents.signals import send_changed

CHINA = "中国"
# Spellings of the work country that mean China (its provinces and cities then apply).
CHINA_NAMES = {"", "中国", "中华人民共和国", "中国大陆", "China", "CN"}


# --- refusals ------------------------------------------------------------------------------------
class DuplicateIdCard(ValidationError):
    """Another record already has this ID-card number: the person is registered; refuse."""

    def __init__(self, existing: Talent, *, visible: bool):
        self.existing = existing
        self.visible = visible
        if visible:
            message = _("已有相同身份证号的人才记录：%(name)s（%(region)s），不能重复录入。") % {
                "name": existing.name, "region": existing.region,
            }
        else:
            message = _("其他地区已登记相同身份证号的人才，不能重复录入。如需转入本地区管理，请与市人才办联系。")
        super().__init__(message, code="duplicate_id_card")


class PossibleDuplicates(ValidationError):
    """Records that may be the same person (same name and birth date or phone): ask first."""

    def __init__(self, similar: list[Talent]):
        self.similar = similar
        super().__init__(
            _("发现 %(count)d 条可能是同一人的记录（姓名相同或同音、相近，且出生日期或手机号码等相符）。请核对；"
              "确认不是同一人后，点击「仍然保存」。") % {"count": len(similar)},
            code="possible_duplicates",
        )


class StaleTalent(ValidationError):
    """The record changed since the editor read it: saving would overwrite that change."""

    def __init__(self, talent: Talent):
        self.talent = talent
        super().__init__(
            _("保存失败：在您编辑期间，“%(name)s”已被他人修改。请重新打开这条记录，核对后再修改。")
            % {"name": talent.name},
            code="stale",
        )


# --- the rules -----------------------------------------------------------------------------------
def _city_path() -> str:
    return Region.objects.filter(code=settings.CITY_CODE).values_list("path", flat=True).first() or ""


def is_china(country: str) -> bool:
    return (country or "").strip() in CHINA_NAMES


def fill_from_id_card(talent: Talent) -> None:
    """Birth date and gender left empty are taken from a valid ID-card number."""
    number = talent.id_card
    if not number:
        return
    try:
        number = validate_id_card(number)
    except ValidationError:
        return  # the field's own validation reports it
    if talent.birth_date is None:
        talent.birth_date = id_birth_date(number)
    if not talent.gender:
        talent.gender = id_gender(number)


def identity_errors(id_card: str, birth_date, gender: str) -> dict[str, str]:
    """Which of birth date and gender disagrees with the ID-card number, and how."""
    if not id_card:
        return {}
    try:
        number = validate_id_card(id_card)
    except ValidationError:
        return {}
    errors = {}
    expected_birth = id_birth_date(number)
    if birth_date is not None and birth_date != expected_birth:
        errors["birth_date"] = _(
            "出生日期 %(given)s 与身份证号码中的 %(expected)s 不一致，请核对出生日期或身份证号码。"
        ) % {"given": birth_date.isoformat(), "expected": expected_birth.isoformat()}
    expected_gender = id_gender(number)
    if gender and gender != expected_gender:
        errors["gender"] = _("性别“%(given)s”与身份证号码不一致（按身份证号码应为“%(expected)s”），请核对性别或身份证号码。") % {
            "given": Gender(gender).label, "expected": Gender(expected_gender).label,
        }
    return errors


def talent_errors(talent: Talent, *, user, databases=None) -> dict[str, list[str]]:
    """Every rule a talent breaks that its fields cannot check alone, by field name."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, message in identity_errors(talent.id_card, talent.birth_date, talent.gender).items():
        add(name, message)

    if talent.region_id is not None and not region_choices(user).filter(pk=talent.region_id).exists():
        add("region", _("所属地区不在您的数据范围内，或不是本市的地区。"))

    native = talent.native_place
    if native is not None:
        if native.level != RegionLevel.COUNTY:
            add("native_place", _("籍贯应选择到县（市、区）。"))
        elif talent.kind == TalentKind.NATIVE:
            city = _city_path()
            if city and not native.path.startswith(city):
                add("native_place", _("在外人才的籍贯应为本市的县（市、区）。"))

    message = category_error(talent, category_dictionaries())
    if message:
        add("category", message)
    for message in database_errors(talent, databases or ()):
        add("databases", message)

    province, city = talent.work_province, talent.work_city
    if not is_china(talent.work_country):
        if province is not None or city is not None:
            add("work_province", _("工作所在国家（地区）不是中国时，不填写省份和城市。"))
    elif city is not None:
        if province is None:
            talent.work_province = province = city.parent if city.parent and city.parent.level == RegionLevel.PROVINCE else None
        if province is not None and city.parent_id != province.pk:
            add("work_city", _("%(city)s不在%(province)s。") % {"city": city.name, "province": province.name})
    return errors


def category_dictionaries() -> dict[str, int]:
    """The id of each kind's category dictionary."""
    codes = {code: kind for kind, code in CATEGORY_DICTIONARY.items()}
    return {codes[code]: pk for code, pk in Dictionary.objects.filter(code__in=codes).values_list("code", "pk")}


def category_error(talent: Talent, dictionaries: dict[str, int]) -> str | None:
    """A category from the other kind's dictionary (在外人才 have 七类, 本土人才 专业系统)."""
    if talent.category_id is None or not talent.kind:
        return None
    if talent.category.dictionary_id != dictionaries.get(talent.kind):
        return _("“%(category)s”不是%(kind)s的分类，请按人才类别选择。") % {
            "category": talent.category, "kind": TalentKind(talent.kind).label,
        }
    return None


def database_errors(talent: Talent, databases) -> list[str]:
    """Talent databases that take only the other kind of talent."""
    return [
        _("%(database)s只收录%(kind)s。") % {"database": database.name, "kind": TalentKind(database.kind).label}
        for database in databases
        if talent.kind and database.kind and database.kind != talent.kind
    ]


def identity_changed(talent: Talent) -> bool:
    """Whether a save would register a new person or change who the record is about (name,
    birth date, mobile): only then is it checked for look-alike records."""
    loaded = getattr(talent, "_loaded_values", None)
    if talent.pk is None or loaded is None:
        return True
    return any(loaded.get(name) != getattr(talent, name) for name in ("name", "birth_date", "mobile"))


# --- duplicates ----------------------------------------------------------------------------------
@dataclass
class DuplicateCheck:
    """What a save would duplicate: the record with the same ID-card number (whether the user
    may see it or not), and the records the user may see that look like the same person."""

    id_match: Talent | None = None
    id_match_visible: bool = False
    similar: list[Talent] = field(default_factory=list)

    def id_error(self) -> DuplicateIdCard | None:
        return DuplicateIdCard(self.id_match, visible=self.id_match_visible) if self.id_match else None


def find_duplicates(talent: Talent, *, user, limit: int = 10) -> DuplicateCheck:
    check = DuplicateCheck()
    others = Talent.objects.exclude(pk=talent.pk) if talent.pk else Talent.objects.all()
    if talent.id_card:
        match = others.filter(protected_match(Talent, "id_card", talent.id_card)).select_related("region").first()
        if match is not None:
            check.id_match = match
            check.id_match_visible = Talent.objects.restrict(user, "view").filter(pk=match.pk).exists()
    if talent.name:
        same = Q()
        if talent.birth_date is not None:
            same |= Q(birth_date=talent.birth_date)
        if talent.mobile:
            same |= protected_match(Talent, "mobile", talent.mobile)
        if same:
            # Only records the user may see: another county's people are not even hinted at.
            visible = others.restrict(user, "view").filter(Q(name=talent.name) & same)
            if check.id_match is not None:
                visible = visible.exclude(pk=check.id_match.pk)
            check.similar = list(visible.select_related("region", "category")[:limit])
        _add_scored_look_alikes(talent, check, user=user, limit=limit)
    return check


def _add_scored_look_alikes(talent: Talent, check: DuplicateCheck, *, user, limit: int) -> None:
    """Beside the exact rule above, the records the registry's dedupe scorer takes for the same
    person (同音字 章伟/张伟, a character more or less, a birth date with swapped digits …), so the
    warning at entry and the duplicate review queue judge alike. Only records ``user`` may see."""
    from rencai.imports.dedupe import find_candidates_for

    known = {t.pk for t in check.similar} | ({check.id_match.pk} if check.id_match is not None else set())
    found = [pk for pk, _score in find_candidates_for(talent, user=user, exclude_pk=talent.pk, limit=limit)
             if pk not in known]
    if found and len(check.similar) < limit:
        by_pk = Talent.objects.select_related("region", "category").in_bulk(found[: limit - len(check.similar)])
        check.similar += [by_pk[pk] for pk in found if pk in by_pk]


# --- one talent ----------------------------------------------------------------------------------
def _advance_version(talent: Talent, expected: int, user) -> None:
    """Optimistic locking: move ``version`` on by one only if it is still ``expected`` and the
    record, as stored, is the user's to change.

    One conditional UPDATE, so two saves made from the same copy cannot both pass, on SQLite and
    PostgreSQL alike, whatever locks the caller took; and a record of another county cannot be
    taken over by moving it into one's own (the stored region is what is checked here, the new
    one by ``check_in_scope``).
    """
    if not Talent.objects.restrict(user, "change").filter(pk=talent.pk, version=expected).update(version=expected + 1):
        if not Talent.objects.restrict(user, "change").filter(pk=talent.pk).exists():
            raise Http404
        raise StaleTalent(talent)
    talent.version = expected + 1


HISTORY_FIELDS = {
    TalentEducation: ("start", "end", "school", "major", "education", "degree"),
    TalentWork: ("start", "end", "unit", "position"),
}


def _sync_history(talent: Talent, model, rows: list[dict]) -> dict[str, list[str]]:
    """Make the talent's rows of ``model`` what ``rows`` says (a row with an ``id`` is that row;
    rows not named are removed). Returns what was added, changed and removed, for the summary."""
    names = HISTORY_FIELDS[model]
    existing = {row.pk: row for row in model.objects.filter(talent=talent)}
    summary: dict[str, list[str]] = {}
    kept = set()
    for values in rows:
        row = existing.get(values.get("id")) if values.get("id") else None
        if row is None:
            row = model(talent=talent, **{name: values.get(name) or _blank(model, name) for name in names})
            row.save()
            summary.setdefault("added", []).append(str(row))
            kept.add(row.pk)
            continue
        kept.add(row.pk)
        changed = [name for name in names if _raw(model, name, getattr(row, model._meta.get_field(name).attname))
                   != _raw(model, name, values.get(name))]
        if changed:
            for name in changed:
                setattr(row, name, values.get(name) or _blank(model, name))
            row.save()
            summary.setdefault("changed", []).append(str(row))
    for pk, row in existing.items():
        if pk not in kept:
            summary.setdefault("removed", []).append(str(row))
            row.delete()
    return summary


def _blank(model, name: str):
    return None if model._meta.get_field(name).null else ""


def _raw(model, name: str, value):
    """A history value as stored: a related record by its id, empty as the column keeps it."""
    if hasattr(value, "pk"):
        value = value.pk
    return value if value not in (None, "") else _blank(model, name)


def save_talent(
    talent: Talent,
    *,
    user,
    databases=None,
    tags=None,
    education: list[dict] | None = None,
    work: list[dict] | None = None,
    confirm_duplicates: bool = False,
    expected_version: int | None = None,
) -> Talent:
    """Create (no pk) or update one talent with its talent databases, tags and histories.

    ``None`` leaves a relation as it is. Raises ``ValidationError`` (by field) for a broken rule,
    ``DuplicateIdCard`` if the number is registered, ``PossibleDuplicates`` unless
    ``confirm_duplicates``, ``StaleTalent`` if ``version`` is no longer ``expected_version``
    (default: the version the object was read with), ``Http404`` if the record as stored or as
    it would be saved is out of the user's scope.
    """
    created = talent.pk is None
    with transaction.atomic():
        fill_from_id_card(talent)
        errors = talent_errors(talent, user=user, databases=databases)
        if errors:
            raise ValidationError(errors)
        check = find_duplicates(talent, user=user)
        if check.id_match is not None:
            raise check.id_error()
        if check.similar and not confirm_duplicates and identity_changed(talent):
            raise PossibleDuplicates(check.similar)
        check_in_scope(user, talent, "add" if created else "change")
        if not created:
            _advance_version(talent, talent.version if expected_version is None else expected_version, user)
        talent.save()
        if databases is not None:
            talent.databases.set(databases)
        if tags is not None:
            talent.tags.set(tags)
        histories = {}
        for label, model, rows in ((_("学习经历"), TalentEducation, education), (_("工作经历"), TalentWork, work)):
            if rows is not None:
                summary = _sync_history(talent, model, rows)
                if summary:
                    histories[label] = summary
        if histories and not created:
            # The rows log themselves; this entry puts the change on the talent's own history.
            audit.record(AuditAction.UPDATE, obj=talent, changes=histories, message=_("修改履历"))
        search.index_talent(talent)
        send_changed([talent.pk])
    return talent


def delete_talent(talent: Talent, *, user) -> None:
    """Delete one talent with its histories and search terms (each row logs its deletion)."""
    with transaction.atomic():
        check_in_scope(user, talent, "delete")
        talent.delete()


def tags_from_names(names: list[str]) -> list[Tag]:
    """The tags of these names, creating the missing ones (a tag is a free label)."""
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        tag, _created = Tag.objects.get_or_create(name=name[:32])
        tags.append(tag)
    return tags


# --- many talents ---------------------------------------------------------------------------------
BULK_FIELDS = ("category", "tier", "status", "liaison_officer")


def bulk_update_talents(
    queryset,
    *,
    user,
    changes: dict,
    add_databases=(),
    remove_databases=(),
    add_tags=(),
    remove_tags=(),
) -> int:
    """Apply one edit to every talent of ``queryset`` (already restricted), or to none.

    ``changes`` sets fields (``BULK_FIELDS``); the others add or remove talent databases and tags.
    Each record is re-checked in scope and against the rules; an error names the records it is
    about and nothing is saved. Returns the number of talents changed.
    """
    unknown = set(changes) - set(BULK_FIELDS)
    if unknown:
        raise ValueError(f"not bulk-editable: {sorted(unknown)}")
    with transaction.atomic():
        talents = list(
            queryset.order_by("pk").select_for_update(of=("self",)).select_related("category")
            .prefetch_related("databases", "tags")
        )
        errors = []
        dictionaries = category_dictionaries()
        for talent in talents:
            for name, value in changes.items():
                setattr(talent, name, value)
            check_in_scope(user, talent, "change")
            messages = [m for m in [category_error(talent, dictionaries), *database_errors(talent, add_databases)] if m]
            if messages:
                errors.append(ValidationError(_("%(name)s：%(messages)s") % {"name": talent.name, "messages": "；".join(messages)}))
        if errors:
            raise ValidationError(errors)
        for talent in talents:
            _advance_version(talent, talent.version, user)
            if changes:
                talent.save(update_fields=[*changes, "version", "updated_at", "updated_by"])
            else:
                talent.save(update_fields=["version", "updated_at", "updated_by"])
            _bulk_m2m(talent.databases, add_databases, remove_databases)
            _bulk_m2m(talent.tags, add_tags, remove_tags)
            search.index_talent(talent)
        send_changed([talent.pk for talent in talents])
        return len(talents)


def _bulk_m2m(manager, add, remove) -> None:
    """Add and remove only what changes, so the change log names real changes."""
    present = {obj.pk for obj in manager.all()}
    to_add = [obj for obj in add if obj.pk not in present]
    to_remove = [obj for obj in remove if obj.pk in present and obj not in add]
    if to_add:
        manager.add(*to_add)
    if to_remove:
        manager.remove(*to_remove)


# --- saved views of the list (per user) -----------------------------------------------------------
SAVED_VIEWS_KEY = "saved_views"
MAX_SAVED_VIEWS = 30


def saved_views(user, list_key: str) -> list[dict]:
    """The user's saved views of the list ``list_key``: ``[{"id", "name", "query", "columns"}]``."""
    views = ((getattr(user, "preferences", None) or {}).get(SAVED_VIEWS_KEY) or {}).get(list_key) or []
    return [v for v in views if isinstance(v, dict) and v.get("id") and v.get("name")]


def _update_views(user, list_key: str, change) -> list[dict]:
    from rencai.core.models import User

    with transaction.atomic():
        # Locked and read afresh: two tabs saving views keep both.
        fresh = User.objects.select_for_update().only("id", "preferences").get(pk=user.pk)
        preferences = dict(fresh.preferences or {})
        all_views = dict(preferences.get(SAVED_VIEWS_KEY) or {})
        views = change(list(all_views.get(list_key) or []))
        all_views[list_key] = views
        preferences[SAVED_VIEWS_KEY] = all_views
        fresh.preferences = preferences
        fresh.save(update_fields=["preferences"])
    user.preferences = preferences
    return views


def save_view(user, list_key: str, *, name: str, query: str, columns: list[str]) -> dict:
    """Save (or, under the same name, replace) a filter and column combination for ``user``."""
    name = name.strip()[:40]
    if not name:
        raise ValidationError(_("请填写视图名称。"))
    saved = {"id": secrets.token_hex(4), "name": name, "query": query, "columns": list(columns)}

    def change(views):
        for view in views:
            if view.get("name") == name:
                saved["id"] = view.get("id") or saved["id"]
                view.update(saved)
                return views
        if len(views) >= MAX_SAVED_VIEWS:
            raise ValidationError(_("最多保存 %(n)d 个视图，请先删除不用的视图。") % {"n": MAX_SAVED_VIEWS})
        return [*views, saved]

    _update_views(user, list_key, change)
    return saved


def delete_view(user, list_key: str, view_id: str) -> bool:
    """Remove one saved view; False if the user has no such view."""
    found = []

    def change(views):
        kept = [v for v in views if v.get("id") != view_id]
        found.append(len(kept) != len(views))
        return kept

    _update_views(user, list_key, change)
    return found[0]
