"""Response schemas that read model instances quickly.

``RecordSchema`` is a ninja ``Schema`` (resolvers, aliases, the OpenAPI document all work as
usual) that, handed a model instance, first turns it into a dict — each field read once, by its
resolver or by attribute — and lets pydantic validate the dict. Ninja's own path wraps every
object in a getter that pydantic queries attribute by attribute; for a page of 50 talents of
sixty fields that cost more than the query. ``Ref`` is the base of nested references
(``{id, code, label}``), read by pydantic directly from the related record's attributes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Manager, Model, QuerySet
from ninja import Schema
from pydantic import BaseModel, ConfigDict, model_validator


class Ref(BaseModel):
    """A nested reference read straight from the related record's attributes."""

    model_config = ConfigDict(from_attributes=True)


def _plan(cls) -> list[tuple[str, str, Any]]:
    """(field name, attribute or alias, resolver) per field of ``cls``, worked out once."""
    plan = cls.__dict__.get("_record_plan")
    if plan is None:
        resolvers = cls._ninja_resolvers
        plan = [(name, field.alias or name, resolvers.get(name)) for name, field in cls.model_fields.items()]
        cls._record_plan = plan
    return plan


class RecordSchema(Schema):
    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(cls, values: Any, handler, info) -> Any:
        if not isinstance(values, Model):
            return super()._run_root_validator(values, handler, info)
        context = info.context
        data = {}
        for _name, attribute, resolver in _plan(cls):
            if resolver is not None:
                value = resolver._func(values, context=context) if resolver._takes_context else resolver._func(values)
            else:
                value = getattr(values, attribute, None)
                if isinstance(value, Manager):
                    value = list(value.all())
                elif isinstance(value, QuerySet):
                    value = list(value)
                elif callable(value):
                    value = value()
            data[attribute] = value
        return handler(data)
