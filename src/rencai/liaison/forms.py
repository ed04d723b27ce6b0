"""Forms of the liaison area: the contact record (full and quick entry) with its requests, the
lead, the cadence rule, and the worklist's assignment of liaison officers.

Forms only validate; the writes go through ``liaison.services``. Talents are picked by searching
(the registry's search, within the user's scope) rather than from a list of every talent: only
the ones chosen are sent to the browser.
"""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rencai.core.forms import BaseModelForm, TablerFormMixin
from rencai.core.models import DictionaryItem
from rencai.liaison.models import CadenceRule, ContactRecord, ContactRequest, Lead
from rencai.liaison.services import common_region
from rencai.talents.forms import LiaisonOfficerField, category_choices, formset_rows, liaison_officer_queryset
from rencai.talents.models import Talent

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class TalentPicker(forms.Select):
    """Talents chosen by searching: the chosen ones as ticked boxes, and a search box whose
    results (``contact_talent_search``) are added to them. ``multiple`` picks one or more."""

    template_name = "liaison/widgets/talent_picker.html"

    def __init__(self, *, multiple: bool = True, attrs=None):
        super().__init__(attrs)
        self.allow_multiple_selected = multiple

    def get_context(self, name, value, attrs):
        context = forms.Widget.get_context(self, name, value, attrs)
        ids = [int(v) for v in context["widget"]["value"] if str(v).isdecimal()]
        queryset = getattr(self.choices, "queryset", Talent.objects.none())
        context["widget"].update({
            "chosen": list(queryset.filter(pk__in=ids).select_related("region").order_by("name", "pk")) if ids else [],
            "multiple": self.allow_multiple_selected,
            "search_url": reverse("contact_talent_search"),
        })
        return context


def _talent_ids(form, name: str) -> list[int]:
    """The talent ids a bound or initial form names in ``name`` (a list, or one)."""
    if form.is_bound:
        values = form.data.getlist(form.add_prefix(name)) if hasattr(form.data, "getlist") else form.data.get(name, [])
    else:
        values = form.initial.get(name) or []
    if not isinstance(values, list | tuple):
        values = [values]
    return [int(getattr(v, "pk", v)) for v in values if str(getattr(v, "pk", v)).isdecimal()]


# --- contact records -------------------------------------------------------------------------------------
class RequestRowForm(TablerFormMixin, forms.ModelForm):
    """One request (诉求) of a contact, as a row of the contact's form."""

    class Meta:
        model = ContactRequest
        fields = ["content", "talent", "status", "handler", "result"]
        widgets = {"content": forms.Textarea(attrs={"rows": 2}), "result": forms.Textarea(attrs={"rows": 2})}
        field_classes = {"handler": LiaisonOfficerField}

    def __init__(self, *args, talents=(), user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The one who asked is one of the contact's talents; left blank with one talent, it is theirs.
        # Only talents the user may see: the ids come from the submitted form.
        self.fields["talent"].queryset = Talent.objects.restrict(user, "view").filter(
            pk__in=list(talents)).order_by("name")
        self.fields["talent"].required = False
        self.fields["content"].required = False
        self.fields["handler"].queryset = liaison_officer_queryset(user)
        for field in self.fields.values():
            field.widget.attrs.setdefault("aria-label", str(field.label))
        self.style_widgets()

    def row(self) -> dict:
        values = {name: self.cleaned_data.get(name) for name in self._meta.fields}
        values["id"] = self.instance.pk
        return values


RequestFormSet = forms.inlineformset_factory(
    ContactRecord, ContactRequest, form=RequestRowForm, extra=1, can_delete=True, max_num=20, validate_max=True,
)


class ContactRecordForm(BaseModelForm):
    """A contact record: whom, how, when, who, what was said, what was asked, when next."""

    class Meta:
        model = ContactRecord
        fields = ["talents", "channel", "contacted_at", "staff", "reached", "topics", "summary", "next_contact_date"]
        widgets = {
            "talents": TalentPicker(),
            "contacted_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
            "next_contact_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "topics": forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            "summary": forms.Textarea(attrs={"rows": 4}),
        }
        field_classes = {"staff": LiaisonOfficerField}

    with_requests = True

    def __init__(self, data=None, files=None, *, user, instance=None, **kwargs):
        super().__init__(data, files, user=user, instance=instance, **kwargs)
        fields = self.fields
        fields["contacted_at"].input_formats = [DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        fields["topics"].queryset = DictionaryItem.objects.filter(
            dictionary__code="contact_topic", is_active=True).order_by("sort_order", "pk")
        if "staff" in fields:
            fields["staff"].queryset = liaison_officer_queryset(user)
            fields["staff"].help_text = _("留空则为本人。")
        if not self.instance.pk:
            # A new contact is one that just happened, by the one recording it (model_to_dict
            # has put None in both).
            self.initial["contacted_at"] = self.initial.get("contacted_at") or timezone.localtime().replace(
                second=0, microsecond=0)
            self.initial["staff"] = self.initial.get("staff") or user.pk
        self.request_formset = None
        if self.with_requests:
            talents = _talent_ids(self, "talents") or (
                list(self.instance.talents.values_list("pk", flat=True)) if self.instance.pk else [])
            self.request_formset = RequestFormSet(data, instance=self.instance, prefix="requests",
                                                  form_kwargs={"talents": talents, "user": user})

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return valid and (self.request_formset is None or self.request_formset.is_valid())

    def clean(self):
        cleaned = super().clean()
        talents = cleaned.get("talents")
        if talents:
            # Filed under the talents' county (the city when they come from several), so the
            # scope check before the save sees where it will be.
            self.instance.region = common_region([t.region for t in talents.select_related("region")])
        return cleaned

    def request_rows(self) -> list[dict] | None:
        return None if self.request_formset is None else formset_rows(self.request_formset)

    def service_arguments(self) -> dict:
        """The keyword arguments of ``services.save_contact`` for this valid form."""
        return {
            "talents": list(self.cleaned_data["talents"]),
            "topics": list(self.cleaned_data.get("topics") or []),
            "requests": self.request_rows(),
        }


class QuickContactForm(ContactRecordForm):
    """Quick entry (快速录入) from a talent's page or the contact list: one request at most."""

    request = forms.CharField(label=_("诉求"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("对方提出的诉求，可留空；详细办理在联络记录中跟进。"))

    class Meta(ContactRecordForm.Meta):
        fields = ["talents", "channel", "contacted_at", "reached", "topics", "summary", "next_contact_date"]

    with_requests = False

    def __init__(self, *args, fixed_talent: Talent | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields([*self._meta.fields[:-1], "request", "next_contact_date"])
        if fixed_talent is not None:
            self.fields["talents"].widget = forms.MultipleHiddenInput()
            self.initial["talents"] = [fixed_talent.pk]

    def request_rows(self) -> list[dict] | None:
        content = (self.cleaned_data.get("request") or "").strip()
        return [{"content": content}] if content else None


# --- leads ------------------------------------------------------------------------------------------------
class LeadForm(BaseModelForm):
    class Meta:
        model = Lead
        fields = ["kind", "title", "talent", "contact", "region", "description", "owner", "status", "due_date",
                  "outcome"]
        widgets = {
            "talent": TalentPicker(multiple=False),
            "contact": forms.HiddenInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
            "due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        field_classes = {"owner": LiaisonOfficerField}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["owner"].queryset = liaison_officer_queryset(user)
        self.fields["owner"].help_text = _("新线索留空则为本人。")
        self.fields["region"].required = False
        self.fields["region"].help_text = _("留空则为相关人才（或来源联络记录）的所属地区。")

    def clean(self):
        cleaned = super().clean()
        source = cleaned.get("talent") or cleaned.get("contact")
        if not cleaned.get("region") and source is not None:
            # Known before the save, so the scope check sees where the lead will be filed.
            self.instance.region = cleaned["region"] = source.region
        if not cleaned.get("region") and not self.user.sees_all_regions:
            self.add_error("region", _("请选择所属地区，或选择相关人才。"))
        return cleaned


# --- cadence rules ------------------------------------------------------------------------------------------
class CadenceRuleForm(BaseModelForm):
    class Meta:
        model = CadenceRule
        fields = ["name", "tier", "category", "database", "interval_days", "sort_order", "is_active"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["category"].choices = category_choices(self.fields["category"].queryset)
        for name in ("tier", "category", "database"):
            self.fields[name].help_text = _("留空表示不限。")

    def clean_interval_days(self):
        days = self.cleaned_data["interval_days"]
        if days < 1:
            raise forms.ValidationError(_("联络间隔至少为 1 天。"))
        return days


# --- worklists ----------------------------------------------------------------------------------------------
class AssignOfficerForm(TablerFormMixin, forms.Form):
    """分配联络员 to the talents ticked on a worklist."""

    liaison_officer = LiaisonOfficerField(label=_("联络员"), queryset=None, empty_label=_("—— 选择联络员 ——"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["liaison_officer"].queryset = liaison_officer_queryset(user)
        self.fields["liaison_officer"].widget.attrs["class"] = "form-select form-select-sm w-auto"
        self.style_widgets()
