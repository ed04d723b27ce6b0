"""The API side of "one FilterSet per model": query parameters documented from the FilterSet,
and filtering done by the very FilterSet the web list uses.

::

    OrgUnitQuery = filter_query_schema(OrgUnitFilterSet)

    def list_orgunits(request, filters: Query[OrgUnitQuery]):
        return apply_filters(OrgUnitFilterSet, filters, scoped(request, OrgUnit), request.auth_user)

A value the FilterSet refuses (a region outside the caller's scope, an unknown kind) is a 422
naming the parameter, as the web form would name the field.

A request is filtered by the filters of the parameters it sent, and only those: the same
definitions, but a call with ``q`` alone does not build (deep-copy, scope and read the choices
of) the dozen other filters a list page shows as its form. A filter that is not sent filters
nothing, so the result is the same.
"""

from __future__ import annotations

import inspect
from functools import lru_cache

import django_filters
from ninja import Field, Schema
from pydantic import create_model

from rencai.api.errors import ApiValidationError

_MULTIPLE = (django_filters.MultipleChoiceFilter, django_filters.ModelMultipleChoiceFilter)


def filter_query_schema(filterset_class, *, descriptions: dict[str, str] | None = None) -> type[Schema]:
    """A query-parameter schema with one optional parameter per filter of ``filterset_class``."""
    descriptions = descriptions or {}
    fields = {}
    for name, declared in filterset_class.base_filters.items():
        annotation = list[str] | None if isinstance(declared, _MULTIPLE) else str | None
        description = descriptions.get(name) or str(declared.label or name)
        fields[name] = (annotation, Field(None, description=description))
    model_name = filterset_class.__name__.removesuffix("FilterSet") + "Filters"
    return create_model(model_name, __base__=Schema, **fields)


@lru_cache(maxsize=256)
def sent_filters_only(filterset_class, names: frozenset[str]):
    """``filterset_class`` with only the filters ``names`` (its own definitions, memoised per set
    of names). Its ``__init__`` and ``form`` must allow for filters that are absent."""
    narrowed = type(filterset_class.__name__, (filterset_class,), {"__module__": filterset_class.__module__})
    narrowed.base_filters = {name: f for name, f in filterset_class.base_filters.items() if name in names}
    return narrowed


def apply_filters(filterset_class, filters: Schema, queryset, user):
    """``queryset`` narrowed by ``filterset_class`` with the parsed query parameters."""
    data = {name: value for name, value in filters.model_dump().items() if value not in (None, "", [])}
    kwargs = {"user": user} if "user" in inspect.signature(filterset_class.__init__).parameters else {}
    filterset = sent_filters_only(filterset_class, frozenset(data))(data=data, queryset=queryset, **kwargs)
    if not filterset.is_valid():
        raise ApiValidationError({name: list(messages) for name, messages in filterset.errors.items()})
    return filterset.qs
