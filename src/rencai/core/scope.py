"""Data scope (数据范围): the one place that decides which records a user may see or change.

``restrict_queryset`` backs ``RestrictedQuerySet.restrict(user, action)``. A user needs the
model permission for the action; region-scoped models are further narrowed to the regions the
user covers (assigned regions and every region under them) unless a role covers all regions.
``get_object_or_404_in_scope`` answers 404 — not 403 — for what is out of scope, so another
county's records cannot even be guessed at by URL.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

ACTIONS = ("view", "add", "change", "delete")


def permission_name(model, action: str) -> str:
    opts = model._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


def user_can(user, model, action: str) -> bool:
    """The model permission for ``action``; a city-wide record (``city_wide = True``: shared
    reference with no region, such as a partner university) is written only by a user who covers
    every region, so no county edits what all counties rely on."""
    if not (user and user.is_authenticated and user.is_active and user.has_perm(permission_name(model, action))):
        return False
    return action == "view" or not getattr(model, "city_wide", False) or user.sees_all_regions


def restrict_queryset(queryset, user, action: str = "view"):
    model = queryset.model
    if not user_can(user, model, action):
        return queryset.none()
    scope_field = getattr(model, "region_scope_field", None)
    if scope_field is None or user.sees_all_regions:
        return queryset
    return queryset.filter(**{f"{scope_field}__in": scope_region_ids(user)})


def scope_region_ids(user) -> list[int]:
    """The ids of the regions ``user`` covers, read once per user object (request).

    A literal list, not a subquery: with ``region_id IN (715, 727)`` PostgreSQL walks an index
    that starts with the region in its order and stops after a page; with ``IN (SELECT …)`` it
    reads and sorts every row of the county first (a second at a few hundred thousand rows).
    """
    ids = getattr(user, "_scope_region_ids", None)
    if ids is None:
        ids = list(user.scope_regions().values_list("pk", flat=True))
        user._scope_region_ids = ids
    return ids


def region_in_scope(user, region) -> bool:
    """Whether ``region`` lies within the regions ``user`` covers."""
    if region is None:
        return user.sees_all_regions
    if user.sees_all_regions:
        return True
    return any(region.path.startswith(path) for path in user.region_paths)


def check_in_scope(user, obj, action: str) -> None:
    """Re-check, inside the save transaction, that ``user`` may ``action`` this object as it is
    now (including a region it is being moved to). Raises Http404 otherwise."""
    model = type(obj)
    if not user_can(user, model, action):
        raise Http404
    scope_field = getattr(model, "region_scope_field", None)
    if scope_field is None:
        return
    region = obj
    for part in scope_field.split("__"):
        region = getattr(region, part, None)
    if not region_in_scope(user, region):
        raise Http404


def get_object_or_404_in_scope(queryset_or_model, user, action: str = "view", **lookup):
    queryset = getattr(queryset_or_model, "objects", queryset_or_model)
    try:
        return queryset.restrict(user, action).get(**lookup)
    except queryset.model.DoesNotExist as exc:
        raise Http404 from exc


def require_perm(user, perm: str) -> None:
    if not (user.is_authenticated and user.has_perm(perm)):
        raise PermissionDenied
