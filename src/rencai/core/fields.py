"""Model fields for protected personal data.

``EncryptedTextField`` keeps any text encrypted at rest (AES-GCM). ``ProtectedField`` adds what
ID-card and phone numbers need: validation and normalisation, masking, and exact lookup through
a companion ``LookupHashField`` (a keyed hash; the ciphertext itself cannot be searched)::

    id_card = ProtectedField(_("身份证号"), kind="id_card", blank=True)
    id_card_hash = LookupHashField(source="id_card")

    Talent.objects.filter(protected_match(Talent, "id_card", "140802199001011234"))
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from rencai.core import crypto
from rencai.core.validators import PROTECTED_KINDS


class EncryptedTextField(models.TextField):
    """Text encrypted at rest; the empty string is stored as is (nothing to protect)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(value)


class ProtectedField(EncryptedTextField):
    """An ID-card number or a phone number: validated, encrypted, masked, found by keyed hash."""

    def __init__(self, *args, kind: str, **kwargs):
        if kind not in PROTECTED_KINDS:
            raise ValueError(f"unknown protected kind {kind!r}")
        self.kind = kind
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def normalize(self, value: str) -> str:
        validate, _mask = PROTECTED_KINDS[self.kind]
        return validate(value)

    def mask(self, value: str) -> str:
        _validate, mask = PROTECTED_KINDS[self.kind]
        return mask(value) if value else ""

    def to_python(self, value):
        value = super().to_python(value)
        if value in (None, ""):
            return value
        try:
            return self.normalize(value)
        except ValidationError:
            return value  # left for validate() to report with its message

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if value not in (None, ""):
            self.normalize(value)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value:
            value = self.normalize(value)
            setattr(model_instance, self.attname, value)
        return value

    def lookup_hash(self, value: str) -> str:
        return crypto.lookup_hash(self.kind, self.normalize(value))

    def formfield(self, **kwargs):
        from django import forms

        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off"}))
        return super().formfield(**kwargs)


class LookupHashField(models.CharField):
    """The keyed hash of a ``ProtectedField`` of the same model, kept up to date on save."""

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key in ("max_length", "blank", "default", "db_index", "editable"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        source_field = model_instance._meta.get_field(self.source)
        raw = getattr(model_instance, source_field.attname)
        digest = source_field.lookup_hash(raw) if raw else ""
        setattr(model_instance, self.attname, digest)
        return digest


def protected_match(model, field_name: str, value: str) -> Q:
    """A filter that finds rows whose protected field equals ``value`` (after normalisation).

    A value that cannot be valid matches nothing rather than raising.
    """
    field = model._meta.get_field(field_name)
    try:
        digest = field.lookup_hash(value)
    except ValidationError:
        return Q(pk__in=[])
    return Q(**{f"{field_name}_hash": digest})
