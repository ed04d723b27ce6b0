"""Merging two records of one person, and undoing a merge.

Everything that points at a talent follows the survivor: histories (学习经历, 工作经历), talent
databases and tags, and the records of any app added later (contact records, applications …).
They are found through ``Talent._meta.related_objects`` and ``many_to_many``, not listed by hand,
so a new app's foreign key to ``Talent`` is carried along without touching this module.

A merge runs in one transaction: either both records end as one, audited, or nothing changed.
It refuses (``StaleTalent``) when either record changed since the reviewer saw it. The ``Merge``
row keeps the merged record, its links and the survivor's replaced values, so ``undo_merge``
restores both records with their relations — while the survivor is unchanged since the merge.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.core import audit
from rencai.core.models.audit import AuditAction
from rencai.core.scope import check_in_scope
from rencai.imports.models import DuplicatePair, DuplicateStatus, Merge
from rencai.talents import search, services
from rencai.talents.models import Talent, TalentSearchTerm
from rencai.talents.signals import derived_models, send_changed

SURVIVOR, MERGED = "survivor", "merged"
# Bookkeeping, not the person's data: never merged field by field.
NOT_MERGED = {"id", "created_at", "updated_at", "created_by", "updated_by", "version"}
# Rows that point at a talent but are rebuilt or dropped rather than moved.
NOT_MOVED = {TalentSearchTerm, DuplicatePair}


def merge_fields() -> list[models.Field]:
    """The fields of a talent a reviewer chooses between (derived hashes follow their number)."""
    return [
        field for field in Talent._meta.concrete_fields
        if field.editable and not field.primary_key and field.name not in NOT_MERGED
    ]


def _empty(value) -> bool:
    return value in (None, "")


def default_choices(survivor: Talent, merged: Talent) -> dict[str, str]:
    """Per field, which record's value to keep: the filled one over an empty one; when both are
    filled and differ, the newer record's (the last one edited)."""
    newer = MERGED if merged.updated_at and survivor.updated_at and merged.updated_at > survivor.updated_at \
        else SURVIVOR
    choices = {}
    for field in merge_fields():
        mine, theirs = getattr(survivor, field.attname), getattr(merged, field.attname)
        if _empty(mine) and not _empty(theirs):
            choices[field.name] = MERGED
        elif not _empty(mine) and _empty(theirs) or mine == theirs:
            choices[field.name] = SURVIVOR
        else:
            choices[field.name] = newer
    return choices


# --- the relations of a talent --------------------------------------------------------------------------
def relations() -> list[tuple[str, type[models.Model], str, str | None, str]]:
    """(label, model, fk to Talent, fk to the other side or None, name for people) for every
    relation to ``Talent``: foreign keys of other models, and the link tables of many-to-many
    fields either way.

    Hidden relations count too: a foreign key declared with ``related_name="+"`` still points at
    the person. An auto-created link table is handled as the many-to-many it serves; an explicit
    one as the model with a foreign key it is.
    """
    found = []
    for field in Talent._meta.many_to_many:
        through = field.remote_field.through
        if through._meta.auto_created:
            found.append((through._meta.label, through, field.m2m_field_name(), field.m2m_reverse_field_name(),
                          str(field.verbose_name)))
    for rel in Talent._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete:
            continue
        if rel.many_to_many:
            through = rel.through
            if through._meta.auto_created:
                found.append((through._meta.label, through, rel.field.m2m_reverse_field_name(),
                              rel.field.m2m_field_name(), str(rel.field.model._meta.verbose_name)))
        elif rel.one_to_many or rel.one_to_one:
            model = rel.related_model
            if model._meta.auto_created or model in NOT_MOVED or model in derived_models():
                continue
            found.append((model._meta.label, model, rel.field.name, None, str(model._meta.verbose_name)))
    return found


def _move_relations(merged: Talent, survivor: Talent) -> dict:
    """Re-point every row that refers to ``merged`` to ``survivor``; a link the survivor already
    has (the same tag on both) is dropped and remembered. Returns what moved, for the undo."""
    moved: dict = {}
    for label, model, fk, other, _name in relations():
        manager = model._base_manager
        rows = manager.filter(**{fk: merged.pk})
        entry: dict = {"fk": fk, "pks": [], "dropped": []}
        if other is not None:
            other_attname = model._meta.get_field(other).attname
            kept = set(manager.filter(**{fk: survivor.pk}).values_list(other_attname, flat=True))
            duplicate = rows.filter(**{f"{other_attname}__in": kept})
            entry["other"] = other
            entry["dropped"] = list(duplicate.values_list(other_attname, flat=True))
            duplicate.delete()
        entry["pks"] = list(rows.values_list("pk", flat=True))
        if entry["pks"]:
            try:
                with transaction.atomic():
                    manager.filter(pk__in=entry["pks"]).update(**{fk: survivor.pk})
            except IntegrityError as exc:
                raise ValidationError(
                    _("不能合并：“%(model)s”中的记录不能同时属于两个人，请先处理后再合并。")
                    % {"model": model._meta.verbose_name}
                ) from exc
        if entry["pks"] or entry["dropped"]:
            moved[label] = entry
    return moved


def _model(label: str):
    from django.apps import apps

    return apps.get_model(label)


def _remember_distinct(a: int, b: int, user) -> None:
    left, right = min(a, b), max(a, b)
    decided = {"status": DuplicateStatus.DISTINCT, "decided_at": timezone.now(),
               "decided_by": user if getattr(user, "is_authenticated", False) else None}
    if not DuplicatePair.objects.filter(left_id=left, right_id=right).update(**decided):
        DuplicatePair.objects.create(left_id=left, right_id=right, score=0, **decided)


def _carry_decisions(merged: Talent, survivor: Talent) -> list[int]:
    """「不是同一人」 decided for the merged record holds for the survivor too (they are one person);
    returns the other records of those decisions, to put them back on an undo."""
    others = []
    for left, right in DuplicatePair.objects.filter(
        models.Q(left=merged) | models.Q(right=merged), status=DuplicateStatus.DISTINCT
    ).values_list("left_id", "right_id"):
        other = right if left == merged.pk else left
        others.append(other)
        if other != survivor.pk:
            _remember_distinct(survivor.pk, other, None)
    return others


# --- snapshots --------------------------------------------------------------------------------------------
def _values(talent: Talent, fields) -> dict:
    return {field.attname: field.value_from_object(talent) for field in fields}


def _restore_values(talent: Talent, values: dict) -> None:
    for attname, value in values.items():
        field = next(f for f in Talent._meta.concrete_fields if f.attname == attname)
        setattr(talent, attname, None if value is None else field.to_python(value))


def _dump(data: dict) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)


# --- merge and undo ----------------------------------------------------------------------------------------
def _lock_version(talent: Talent, expected: int, user, action: str) -> None:
    """The optimistic lock of a merge: the record is still at the version the reviewer saw."""
    queryset = Talent.objects.restrict(user, action).filter(pk=talent.pk)
    if not queryset.filter(version=expected).update(version=expected + 1):
        if not queryset.exists():
            raise Http404
        raise services.StaleTalent(talent)


def merge_talents(
    survivor: Talent,
    merged: Talent,
    *,
    user,
    choices: dict[str, str] | None = None,
    survivor_version: int | None = None,
    merged_version: int | None = None,
) -> Merge:
    """Fold ``merged`` into ``survivor``; ``choices`` names, per field, the record whose value
    stays (missing fields: ``default_choices``). The versions are those the reviewer saw (default:
    as loaded). Raises ``StaleTalent``, ``Http404`` (out of scope) or ``ValidationError``."""
    if survivor.pk == merged.pk:
        raise ValidationError(_("不能把一条记录与它自己合并。"))
    survivor_version = survivor.version if survivor_version is None else survivor_version
    merged_version = merged.version if merged_version is None else merged_version
    with transaction.atomic():
        _lock_version(merged, merged_version, user, "delete")
        survivor = Talent.objects.restrict(user, "change").select_for_update().filter(pk=survivor.pk).first()
        if survivor is None:
            raise Http404
        if survivor.version != survivor_version:
            raise services.StaleTalent(survivor)
        merged = Talent.objects.get(pk=merged.pk)
        chosen = {**default_choices(survivor, merged), **{k: v for k, v in (choices or {}).items()
                                                           if v in (SURVIVOR, MERGED)}}
        fields = [field for field in merge_fields() if chosen.get(field.name) == MERGED]
        snapshot = {
            "merged": _values(merged, Talent._meta.concrete_fields),
            "survivor_before": _values(survivor, fields),
        }
        moved = _move_relations(merged, survivor)
        snapshot["distinct"] = _carry_decisions(merged, survivor)
        check_in_scope(user, merged, "delete")
        merged_pk = merged.pk
        merged.delete()  # logs its deletion; its search terms and pairs go with it
        for field in fields:
            setattr(survivor, field.attname, getattr(merged, field.attname))
        services.save_talent(survivor, user=user, confirm_duplicates=True, expected_version=survivor_version)
        merge = Merge.objects.create(
            survivor=survivor, merged_id=merged_pk, merged_name=merged.name[:64], survivor_version=survivor.version,
            chosen=chosen, snapshot=_dump(snapshot), moved=moved,
        )
        audit.record(
            AuditAction.UPDATE, obj=survivor, actor=user, message=_("合并重复记录：%(name)s（编号 %(id)s）并入本记录") % {
                "name": merged.name, "id": merged_pk,
            },
            changes={
                "merged_id": merged_pk, "merge_id": merge.pk,
                "fields_from_merged": [field.name for field in fields],
                "moved": {label: len(entry["pks"]) for label, entry in moved.items()},
            },
        )
    return merge


class MergeNotUndoable(ValidationError):
    def __init__(self, message: str):
        super().__init__(message, code="not_undoable")


def undo_merge(merge: Merge, *, user) -> Talent:
    """Put both records back as they were before ``merge``; returns the restored record."""
    with transaction.atomic():
        merge = Merge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise MergeNotUndoable(_("这次合并已经撤销过了。"))
        survivor = Talent.objects.restrict(user, "change").filter(pk=merge.survivor_id).first()
        if survivor is None:
            raise Http404
        if survivor.version != merge.survivor_version:
            raise MergeNotUndoable(_("合并后“%(name)s”又被修改过，不能自动撤销。请核对后手工处理。") % {"name": survivor.name})
        if Talent._base_manager.filter(pk=merge.merged_id).exists():
            raise MergeNotUndoable(_("编号 %(id)s 的记录已存在，不能撤销。") % {"id": merge.merged_id})
        snapshot = json.loads(merge.snapshot)
        _restore_values(survivor, snapshot["survivor_before"])
        services.save_talent(survivor, user=user, confirm_duplicates=True, expected_version=merge.survivor_version)

        restored = Talent()
        _restore_values(restored, snapshot["merged"])
        check_in_scope(user, restored, "add")
        created_at = restored.created_at
        restored.save(force_insert=True)
        Talent._base_manager.filter(pk=restored.pk).update(created_at=created_at)
        for label, entry in merge.moved.items():
            model = _model(label)
            fk = entry["fk"]
            if entry["pks"]:
                model._base_manager.filter(pk__in=entry["pks"]).update(**{fk: restored.pk})
            other = entry.get("other")
            if other and entry["dropped"]:
                other_attname = model._meta.get_field(other).attname
                fk_attname = model._meta.get_field(fk).attname
                model._base_manager.bulk_create(
                    [model(**{fk_attname: restored.pk, other_attname: value}) for value in entry["dropped"]]
                )
        for other in snapshot.get("distinct", []):
            if Talent._base_manager.filter(pk=other).exists():
                _remember_distinct(restored.pk, other, user)
        search.index_talent(restored)
        search.index_talent(survivor)
        send_changed([restored.pk, survivor.pk])
        merge.undone_at = timezone.now()
        merge.undone_by = user if getattr(user, "is_authenticated", False) else None
        merge.save(update_fields=["undone_at", "undone_by", "updated_at", "updated_by"])
        audit.record(
            AuditAction.UPDATE, obj=survivor, actor=user,
            message=_("撤销合并：恢复 %(name)s（编号 %(id)s）") % {"name": restored.name, "id": restored.pk},
            changes={"merge_id": merge.pk, "restored_id": restored.pk},
        )
    return restored


def pair_sides(pair: DuplicatePair) -> tuple[Talent, Talent]:
    return pair.left, pair.right


def decide_distinct(pair: DuplicatePair, *, user) -> DuplicatePair:
    """Record 「不是同一人」 for a pair: it is never proposed again."""
    with transaction.atomic():
        changed = DuplicatePair.objects.filter(pk=pair.pk).exclude(status=DuplicateStatus.DISTINCT).update(
            status=DuplicateStatus.DISTINCT, decided_at=timezone.now(),
            decided_by=user if getattr(user, "is_authenticated", False) else None,
        )
        pair.refresh_from_db()
        if changed:
            audit.record(AuditAction.UPDATE, obj=pair, actor=user, changes={"status": [DuplicateStatus.PENDING, pair.status]},
                         message=_("判定不是同一人：%(left)s / %(right)s") % {
                             "left": pair.left.name, "right": pair.right.name})
    return pair
