"""Bulk edit and bulk delete: all-or-nothing writes over many records of one model.

The views hand over a queryset already restricted to what the user may change or delete; these
functions lock those rows, re-check each one's scope inside the transaction (a bulk edit may try
to move records into a county the user does not cover) and either change every row or none.
Each row is saved one by one so the automatic change log records every record's own change.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from rencai.core.scope import check_in_scope


def bump_version(obj) -> None:
    """Advance an integer ``version`` (optimistic locking) on a save that changes the row."""
    from rencai.core.forms import concurrency_field

    if concurrency_field(type(obj)) == "version" and obj.pk is not None:
        obj.version = (obj.version or 0) + 1


def _locked(queryset):
    return queryset.order_by("pk").select_for_update(of=("self",))


def bulk_edit_objects(queryset, changes: dict, *, user) -> int:
    """Set ``changes`` (field name → value) on every row of ``queryset``; return the row count.

    Raises ``ValidationError`` naming each record that would become invalid, and ``Http404``
    if a change would put a record outside the user's scope; nothing is saved in either case.
    """
    with transaction.atomic():
        objects = list(_locked(queryset))
        errors = []
        for obj in objects:
            for name, value in changes.items():
                setattr(obj, name, value)
            check_in_scope(user, obj, "change")
            try:
                obj.full_clean()
            except ValidationError as exc:
                messages = "；".join(m for m in exc.messages)
                errors.append(ValidationError(_("%(object)s：%(messages)s") % {"object": obj, "messages": messages}))
        if errors:
            raise ValidationError(errors)
        for obj in objects:
            bump_version(obj)
            obj.save()
        return len(objects)


def bulk_delete_objects(queryset, *, user) -> int:
    """Delete every row of ``queryset`` or none; a row still referenced stops the whole delete
    with a ``ValidationError`` naming it."""
    with transaction.atomic():
        objects = list(_locked(queryset))
        for obj in objects:
            check_in_scope(user, obj, "delete")
            try:
                with transaction.atomic():
                    obj.delete()
            except ProtectedError as exc:
                raise ValidationError(
                    _("“%(object)s”仍被 %(count)d 条记录引用，不能删除；本次没有删除任何记录。")
                    % {"object": obj, "count": len(exc.protected_objects)}
                ) from exc
        return len(objects)

