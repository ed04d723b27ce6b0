"""Forms: the base model form every edit page uses, bulk edit, and core's own forms.

``BaseModelForm`` does three things no per-model form should repeat:

* choices are scoped: a region field offers only the regions the user covers
  (``user.scope_regions()``), and a reference to another restricted model offers only the records
  the user may see — another county's record is not even a choice;
* protected personal fields are never sent to the browser in full: the input starts empty with
  the masked value as a hint, and leaving it empty keeps the stored value;
* it carries a concurrency token (``version``, else ``updated_at``, else a keyed digest of the
  row) so an edit made on a stale copy is refused instead of silently overwriting another save.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from rencai.core.fields import LookupHashField, ProtectedField
from rencai.core.models import Dictionary, DictionaryItem, OrgUnit, Region
from rencai.core.pagination import DEFAULT_PAGE_SIZE, PAGE_SIZES

CONCURRENCY_INPUT = "concurrency_token"


def widget_css_class(widget) -> str:
    """The Tabler class for a widget: selects, checkboxes and text inputs look different."""
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        return ""
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


class TablerFormMixin:
    """Gives every widget its Tabler class (and ``is-invalid`` once the form has errors)."""

    def style_widgets(self) -> None:
        for field in self.fields.values():
            css = widget_css_class(field.widget)
            if css:
                existing = field.widget.attrs.get("class", "")
                if css not in existing.split():
                    field.widget.attrs["class"] = f"{existing} {css}".strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                classes = widget.attrs.get("class", "")
                if "is-invalid" not in classes.split():
                    widget.attrs["class"] = f"{classes} is-invalid".strip()


# --- scoped choices -----------------------------------------------------------------------------
def region_choices(user):
    """The regions a user may file a record under: those the user covers, active, and — for a
    user who covers every region — those of this city, so the choice is 运城市's counties rather
    than the whole country."""
    regions = user.scope_regions().filter(is_active=True)
    if user.sees_all_regions:
        city = Region.objects.filter(code=settings.CITY_CODE).values_list("path", flat=True).first()
        if city:
            regions = regions.filter(path__startswith=city)
    return regions.order_by("path")


def scope_choice_fields(form, user, model) -> None:
    """Narrow every model-choice field of ``form`` to what ``user`` may see.

    A record's current reference stays a choice even when the user cannot see it (a county's
    project under a city-level agreement): the form keeps it rather than silently clearing it.
    """
    scope_field = getattr(model, "region_scope_field", None)
    instance = getattr(form, "instance", None)
    for name, field in form.fields.items():
        if not isinstance(field, forms.ModelChoiceField):
            continue
        related = field.queryset.model
        if related is Region and name == scope_field:
            field.queryset = region_choices(user)
        elif hasattr(field.queryset, "restrict"):
            current = None
            if instance is not None and instance.pk is not None and not isinstance(field, forms.ModelMultipleChoiceField):
                current = getattr(instance, f"{name}_id", None)
            visible = field.queryset.restrict(user, "view")
            field.queryset = visible | field.queryset.filter(pk=current) if current is not None else visible


# --- optimistic locking ---------------------------------------------------------------------------
def concurrency_field(model) -> str | None:
    """The field that changes on every save: an integer ``version``, else ``updated_at``; None
    for a model with neither (its token is then a keyed digest of the whole row)."""
    names = {f.name: f for f in model._meta.concrete_fields}
    if isinstance(names.get("version"), models.IntegerField):
        return "version"
    if "updated_at" in names:
        return "updated_at"
    return None


def concurrency_token(obj) -> str:
    """What the edit form carries to prove it was made from the row as it is now."""
    if obj.pk is None:
        return ""
    name = concurrency_field(type(obj))
    if name is not None:
        value = getattr(obj, name)
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    # No stamp: digest every column. Keyed, because the row may hold personal data and the
    # token goes to the browser.
    row = [(f.attname, getattr(obj, f.attname)) for f in obj._meta.concrete_fields]
    return salted_hmac("rencai.forms.concurrency", repr(row), algorithm="sha256").hexdigest()[:32]


# --- the base model form -----------------------------------------------------------------------------
class BaseModelForm(TablerFormMixin, forms.ModelForm):
    """Base of every edit form; takes the acting ``user``."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        scope_choice_fields(self, user, self._meta.model)
        self._prepare_protected_fields()
        if self.instance.pk is not None:
            self.fields[CONCURRENCY_INPUT] = forms.CharField(
                widget=forms.HiddenInput, required=False, initial=concurrency_token(self.instance)
            )
        self.style_widgets()

    @property
    def protected_fields(self) -> list[str]:
        return [
            f.name for f in self._meta.model._meta.concrete_fields
            if isinstance(f, ProtectedField) and f.name in self.fields
        ]

    def _prepare_protected_fields(self) -> None:
        for field in self._meta.model._meta.concrete_fields:
            if isinstance(field, LookupHashField) and field.name in self.fields:
                del self.fields[field.name]
            if not isinstance(field, ProtectedField) or field.name not in self.fields:
                continue
            if not self.user.can_view_personal:
                # A role that may not read the value may not overwrite it blind either.
                del self.fields[field.name]
                continue
            current = getattr(self.instance, field.attname, "") if self.instance.pk else ""
            if current:
                form_field = self.fields[field.name]
                self.initial[field.name] = ""
                form_field.widget.attrs["placeholder"] = field.mask(current)
                form_field.help_text = _("留空则保持原值不变。")
                self.fields[f"{field.name}__clear"] = forms.BooleanField(
                    label=_("清空%(field)s") % {"field": field.verbose_name}, required=False
                )

    def clean(self):
        cleaned = super().clean()
        for name in self.protected_fields:
            current = getattr(self.instance, name, "") if self.instance.pk else ""
            if current and not cleaned.get(name) and not cleaned.get(f"{name}__clear"):
                cleaned[name] = current
        return cleaned


class BulkEditForm(TablerFormMixin, forms.Form):
    """Base of bulk edit forms: every field optional; a field left empty is not changed."""

    def __init__(self, *args, user, model, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            field.required = False
        scope_choice_fields(self, user, model)
        self.style_widgets()

    def changed_values(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "", [])}


UNCHANGED = _("—— 不修改 ——")


def bulk_edit_form_for(model, field_names) -> type[BulkEditForm]:
    """A bulk edit form with the model's own form fields (labels, choices, validators) for
    ``field_names``; protected fields are never bulk-edited."""
    fields = {}
    for name in field_names:
        model_field = model._meta.get_field(name)
        if isinstance(model_field, ProtectedField):
            raise ValueError(f"{model.__name__}.{name} is protected and cannot be bulk-edited")
        form_field = model_field.formfield()
        # A model default is no choice of the user's: it would set every selected row to it.
        form_field.initial = None
        if isinstance(form_field, forms.TypedChoiceField):
            form_field.choices = [("", UNCHANGED), *[c for c in form_field.choices if c[0] != ""]]
        if isinstance(form_field, forms.ModelChoiceField):
            form_field.empty_label = UNCHANGED
        if isinstance(form_field, forms.BooleanField):
            form_field = forms.NullBooleanField(
                label=model_field.verbose_name,
                widget=forms.Select(choices=[("unknown", UNCHANGED), ("true", _("是")), ("false", _("否"))]),
            )
        fields[name] = form_field
    return type(f"{model.__name__}BulkEditForm", (BulkEditForm,), fields)


class TableConfigForm(TablerFormMixin, forms.Form):
    """The column chooser: which columns to show, in which order, and how many rows a page."""

    columns = forms.MultipleChoiceField(label=_("显示的列"), required=False)
    per_page = forms.TypedChoiceField(
        label=_("每页条数"), coerce=int, choices=[(n, str(n)) for n in PAGE_SIZES], initial=DEFAULT_PAGE_SIZE
    )

    def __init__(self, *args, table, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["columns"].choices = table.choosable_columns
        self.style_widgets()


# --- core's own forms ---------------------------------------------------------------------------------
class OrgUnitForm(BaseModelForm):
    class Meta:
        model = OrgUnit
        fields = ["name", "kind", "region", "parent", "contact_name", "contact_mobile", "address", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A unit cannot report to itself.
            self.fields["parent"].queryset = self.fields["parent"].queryset.exclude(pk=self.instance.pk)


class RegionForm(BaseModelForm):
    class Meta:
        model = Region
        fields = ["name", "level", "parent", "is_active", "sort_order"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        node = parent
        while node is not None and self.instance.pk:
            if node.pk == self.instance.pk:
                raise forms.ValidationError(_("上级不能是本区划或其下级区划。"))
            node = node.parent
        return parent


class DictionaryForm(BaseModelForm):
    class Meta:
        model = Dictionary
        fields = ["code", "name", "standard", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class SynonymsField(forms.CharField):
    """Synonyms typed one per line (or separated by 、，,) and stored as a list."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        for separator in ("、", "，", ","):
            text = text.replace(separator, "\n")
        return [part.strip() for part in text.splitlines() if part.strip()]


class DictionaryItemForm(BaseModelForm):
    synonyms = SynonymsField(
        label=_("同义词"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("导入时也按这些写法识别本项；每行一个，或用顿号分隔。"),
    )

    class Meta:
        model = DictionaryItem
        fields = ["dictionary", "code", "label", "synonyms", "parent", "sort_order", "is_active", "description"]
        widgets = {"dictionary": forms.HiddenInput, "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["dictionary"].disabled = True  # an item stays in its dictionary
        dictionary_id = self.instance.dictionary_id or self.initial.get("dictionary") or self.data.get("dictionary")
        parent = self.fields["parent"]
        parent.queryset = parent.queryset.filter(dictionary_id=int(dictionary_id) if str(dictionary_id).isdigit() else 0)
        if self.instance.pk:
            parent.queryset = parent.queryset.exclude(pk=self.instance.pk)


def add_refusal(form, exc) -> None:
    """A service's refusal (a ``ValidationError``) put on ``form``: each message on its field
    where the form has that field, else above the form (never an error for a field it lacks)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for message in errors:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
