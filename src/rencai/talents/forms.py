"""Forms of the registry: the talent record with its histories, bulk edit, and the settings.

Forms only validate. The rules shared with the API (ID-card agreement, 籍贯 of 在外人才, category
of the kind, work place, duplicates) are in ``talents.services``; the form calls them so each
error lands on the field it is about, in Chinese.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rencai.core.forms import UNCHANGED, BaseModelForm, TablerFormMixin, bulk_edit_form_for
from rencai.core.models import DictionaryItem, Region, User
from rencai.core.models.regions import RegionLevel
from rencai.talents import services
from rencai.talents.choices import CATEGORY_DICTIONARY, TalentKind
from rencai.talents.models import Tag, Talent, TalentDatabase, TalentEducation, TalentWork

CONFIRM_DUPLICATES = "confirm_duplicates"


# --- choices shared by forms and filters -------------------------------------------------------------
def category_choices(queryset=None, *, empty_label="---------") -> list:
    """Talent categories grouped by the kind they belong to."""
    items = queryset if queryset is not None else DictionaryItem.objects.all()
    items = items.filter(dictionary__code__in=CATEGORY_DICTIONARY.values(), is_active=True).select_related("dictionary")
    groups = []
    for kind, code in CATEGORY_DICTIONARY.items():
        groups.append((str(TalentKind(kind).label), [(item.pk, item.label) for item in items if item.dictionary.code == code]))
    return [("", empty_label), *groups]


def _region_names() -> dict[int, Region]:
    return {r.pk: r for r in Region.objects.exclude(level=RegionLevel.COUNTY).only("id", "name", "parent_id", "level", "path")}


def county_choices(*, empty_label="---------") -> list:
    """Every county of China, the city's own first, grouped by province; labelled with their
    prefecture (运城市 盐湖区) so a county name shared by two provinces is told apart."""
    above = _region_names()
    city = Region.objects.filter(code=settings.CITY_CODE).first()
    own, by_province = [], {}
    for county in Region.objects.filter(level=RegionLevel.COUNTY, is_active=True).only("id", "name", "parent_id", "path").order_by("path"):
        parent = above.get(county.parent_id)
        label = f"{parent.name} {county.name}" if parent is not None and parent.level == RegionLevel.PREFECTURE else county.name
        if city is not None and county.path.startswith(city.path):
            own.append((county.pk, label))
            continue
        province = parent
        while province is not None and province.level != RegionLevel.PROVINCE:
            province = above.get(province.parent_id)
        by_province.setdefault(province.name if province else "", []).append((county.pk, label))
    groups = [(f"{city.name}（本市）", own)] if city is not None else []
    groups.extend((name, counties) for name, counties in by_province.items())
    return [("", empty_label), *groups]


def province_queryset():
    return Region.objects.filter(level=RegionLevel.PROVINCE, is_active=True).order_by("path")


def city_choices(*, empty_label="---------") -> list:
    """Prefecture-level cities grouped by province (municipalities have none: leave it empty)."""
    provinces = {p.pk: p.name for p in province_queryset()}
    groups: dict[str, list] = {}
    for city in Region.objects.filter(level=RegionLevel.PREFECTURE, is_active=True).order_by("path"):
        groups.setdefault(provinces.get(city.parent_id, ""), []).append((city.pk, city.name))
    return [("", empty_label), *groups.items()]


def liaison_officer_queryset(user):
    """Who may be a talent's liaison officer: active business users within the user's scope."""
    users = User.objects.filter(is_active=True, roles__isnull=False).exclude(roles__duty__gt="").distinct()
    if not user.sees_all_regions:
        users = users.filter(regions__in=user.scope_regions())
    return users.order_by("username")


class LiaisonOfficerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name}（{obj.username}）" if obj.full_name else obj.username


# --- histories ---------------------------------------------------------------------------------------
MONTH = RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", _("请按“2008-09”的格式填写年月。"))


class HistoryRowForm(TablerFormMixin, forms.ModelForm):
    """One row of a history: months as YYYY-MM, the end not before the start."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("start", "end"):
            self.fields[name].validators.append(MONTH)
            self.fields[name].widget.attrs.update({"placeholder": "2008-09", "inputmode": "numeric"})
        for field in self.fields.values():
            # The row is a table row: the column header is the visible label.
            field.widget.attrs.setdefault("aria-label", str(field.label))
        self.style_widgets()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("结束年月不能早于开始年月。"))
        return cleaned

    def row(self) -> dict:
        values = {name: self.cleaned_data.get(name) for name in self._meta.fields}
        values["id"] = self.instance.pk
        return values


class EducationRowForm(HistoryRowForm):
    class Meta:
        model = TalentEducation
        fields = ["start", "end", "school", "major", "education", "degree"]


class WorkRowForm(HistoryRowForm):
    class Meta:
        model = TalentWork
        fields = ["start", "end", "unit", "position"]


EducationFormSet = forms.inlineformset_factory(
    Talent, TalentEducation, form=EducationRowForm, extra=2, can_delete=True, max_num=30, validate_max=True
)
WorkFormSet = forms.inlineformset_factory(
    Talent, TalentWork, form=WorkRowForm, extra=2, can_delete=True, max_num=50, validate_max=True
)


def formset_rows(formset) -> list[dict]:
    """The rows a valid formset keeps: deleted and untouched blank rows left out."""
    rows = []
    for form in formset.forms:
        if not hasattr(form, "cleaned_data") or not form.cleaned_data:
            continue
        if formset.can_delete and formset._should_delete_form(form):
            continue
        if form.instance.pk is None and not form.has_changed():
            continue
        rows.append(form.row())
    return rows


# --- the record --------------------------------------------------------------------------------------
class TalentForm(BaseModelForm):
    """The whole record, in the sections of ``SECTIONS``, with its two histories as formsets."""

    SECTIONS = (
        (_("身份信息"), ("name", "gender", "ethnicity", "birth_date", "id_card", "id_card__clear", "mobile",
                       "mobile__clear", "other_phones", "other_phones__clear", "email", "wechat", "political_status")),
        (_("籍贯与所在地"), ("native_place", "region", "work_country", "work_province", "work_city")),
        (_("人才分类"), ("kind", "category", "databases", "tier", "tier_basis", "tags", "new_tags")),
        (_("工作与学术"), ("work_unit", "unit_type", "position", "admin_rank", "title", "title_level", "education",
                         "degree", "school", "major", "discipline", "research_fields", "skills", "honours")),
        (_("联络与来源"), ("liaison_officer", "status", "consent_date", "consent_scope", "consent_method", "source",
                         "source_ref", "notes")),
    )

    new_tags = forms.CharField(
        label=_("新标签"), required=False, max_length=200,
        help_text=_("列表中没有的标签写在这里，用顿号或逗号分隔，保存时自动创建。"),
    )

    class Meta:
        model = Talent
        fields = [
            "name", "gender", "ethnicity", "birth_date", "id_card", "mobile", "other_phones", "email", "wechat",
            "political_status", "native_place", "region", "work_country", "work_province", "work_city", "kind",
            "category", "databases", "tier", "tier_basis", "tags", "work_unit", "unit_type", "position",
            "admin_rank", "title", "title_level", "education", "degree", "school", "major", "discipline",
            "research_fields", "skills", "honours", "liaison_officer", "status", "consent_date", "consent_scope",
            "consent_method", "source", "source_ref", "notes",
        ]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "consent_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "other_phones": forms.TextInput(attrs={"autocomplete": "off"}),
            "databases": forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            "tags": forms.SelectMultiple(attrs={"size": 6}),
            "research_fields": forms.Textarea(attrs={"rows": 2}),
            "skills": forms.Textarea(attrs={"rows": 2}),
            "honours": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        field_classes = {"liaison_officer": LiaisonOfficerField}

    def __init__(self, data=None, files=None, *, user, instance=None, **kwargs):
        super().__init__(data, files, user=user, instance=instance, **kwargs)
        fields = self.fields
        fields["category"].choices = category_choices(fields["category"].queryset)
        fields["native_place"].queryset = Region.objects.filter(level=RegionLevel.COUNTY)
        fields["native_place"].choices = county_choices()
        fields["native_place"].help_text = _("在外人才须为本市的县（市、区）。")
        fields["work_province"].queryset = province_queryset()
        fields["work_city"].queryset = Region.objects.filter(level=RegionLevel.PREFECTURE)
        fields["work_city"].choices = city_choices()
        fields["work_city"].help_text = _("直辖市不填城市。")
        fields["liaison_officer"].queryset = liaison_officer_queryset(user)
        current = self.instance.databases.all() if self.instance.pk else TalentDatabase.objects.none()
        fields["databases"].queryset = TalentDatabase.objects.filter(Q(is_active=True) | Q(pk__in=current))
        fields["tags"].queryset = Tag.objects.all()
        fields["birth_date"].help_text = _("填写身份证号码后可留空，按身份证号码填入。")
        fields["gender"].help_text = _("填写身份证号码后可留空，按身份证号码填入。")
        self._protect_other_phones()
        self.education_formset = EducationFormSet(data, instance=self.instance, prefix="education")
        self.work_formset = WorkFormSet(data, instance=self.instance, prefix="work")
        self.duplicates: services.DuplicateCheck | None = None

    def _protect_other_phones(self) -> None:
        """Other phones are encrypted text: like the protected fields, never sent to the browser
        and not writable by a role that may not read them."""
        if "other_phones" not in self.fields:
            return
        if not self.user.can_view_personal:
            del self.fields["other_phones"]
            return
        if self.instance.pk and self.instance.other_phones:
            self.initial["other_phones"] = ""
            self.fields["other_phones"].widget.attrs["placeholder"] = _("已填写（不显示）")
            self.fields["other_phones"].help_text = _("留空则保持原值不变。")
            self.fields["other_phones__clear"] = forms.BooleanField(label=_("清空其他电话"), required=False)

    # --- layout -------------------------------------------------------------------------------------
    def sections(self) -> list[dict]:
        return [
            {"title": title, "fields": [self[name] for name in names if name in self.fields]}
            for title, names in self.SECTIONS
        ]

    @property
    def formsets(self):
        return (self.education_formset, self.work_formset)

    # --- validation -----------------------------------------------------------------------------------
    def is_valid(self) -> bool:
        valid = super().is_valid()
        return all([valid, self.education_formset.is_valid(), self.work_formset.is_valid()])

    def clean_new_tags(self) -> list[str]:
        text = self.cleaned_data.get("new_tags") or ""
        for separator in ("、", "，", ",", "；", ";"):
            text = text.replace(separator, " ")
        names = [name for name in text.split() if name]
        if any(len(name) > 32 for name in names):
            raise forms.ValidationError(_("每个标签最多 32 个字。"))
        return names

    def clean(self):
        cleaned = super().clean()
        if "other_phones" in self.fields and self.instance.pk:
            if not cleaned.get("other_phones") and not cleaned.get("other_phones__clear"):
                cleaned["other_phones"] = self.instance.other_phones
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        talent = self.instance
        services.fill_from_id_card(talent)
        databases = self.cleaned_data.get("databases")
        for name, messages in services.talent_errors(talent, user=self.user, databases=databases).items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        if self.errors:
            return
        self.duplicates = services.find_duplicates(talent, user=self.user)
        error = self.duplicates.id_error()
        if error is not None:
            self.add_error("id_card" if "id_card" in self.fields else None, error)
        elif self.duplicates.similar and services.identity_changed(talent) and not self.confirmed:
            self.add_error(None, services.PossibleDuplicates(self.duplicates.similar))

    @property
    def confirmed(self) -> bool:
        """The user saw the look-alike records and chose 「仍然保存」."""
        return bool(self.data.get(CONFIRM_DUPLICATES))

    @property
    def asks_to_confirm(self) -> bool:
        return bool(self.duplicates and self.duplicates.similar and not self.duplicates.id_match and not self.confirmed)

    # --- what to save -------------------------------------------------------------------------------
    def tags_to_save(self) -> list[Tag]:
        return [*self.cleaned_data.get("tags", []), *services.tags_from_names(self.cleaned_data.get("new_tags", []))]

    def save_arguments(self) -> dict:
        """The keyword arguments of ``services.save_talent`` for this valid form."""
        return {
            "databases": list(self.cleaned_data.get("databases", [])),
            "tags": self.tags_to_save(),
            "education": formset_rows(self.education_formset),
            "work": formset_rows(self.work_formset),
            "confirm_duplicates": True,  # asked (and confirmed) in _post_clean
        }


# --- bulk edit ---------------------------------------------------------------------------------------
class TalentBulkEditForm(bulk_edit_form_for(Talent, services.BULK_FIELDS)):
    """Bulk edit of the selected talents: four fields set, talent databases and tags added or removed."""

    add_databases = forms.ModelMultipleChoiceField(
        label=_("加入人才库"), queryset=TalentDatabase.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    remove_databases = forms.ModelMultipleChoiceField(
        label=_("移出人才库"), queryset=TalentDatabase.objects.all(),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    add_tags = forms.ModelMultipleChoiceField(label=_("添加标签"), queryset=Tag.objects.all(),
                                              widget=forms.SelectMultiple(attrs={"size": 5}))
    remove_tags = forms.ModelMultipleChoiceField(label=_("移除标签"), queryset=Tag.objects.all(),
                                                 widget=forms.SelectMultiple(attrs={"size": 5}))

    def __init__(self, *args, user, model, **kwargs):
        super().__init__(*args, user=user, model=model, **kwargs)
        self.fields["category"].choices = category_choices(self.fields["category"].queryset, empty_label=UNCHANGED)
        self.fields["liaison_officer"] = LiaisonOfficerField(
            label=Talent._meta.get_field("liaison_officer").verbose_name, queryset=liaison_officer_queryset(user),
            required=False, empty_label=UNCHANGED,
        )
        self.style_widgets()

    def clean(self):
        cleaned = super().clean()
        both = set(cleaned.get("add_databases") or []) & set(cleaned.get("remove_databases") or [])
        if both:
            self.add_error("remove_databases", _("同一个人才库不能同时加入和移出。"))
        if set(cleaned.get("add_tags") or []) & set(cleaned.get("remove_tags") or []):
            self.add_error("remove_tags", _("同一个标签不能同时添加和移除。"))
        return cleaned

    def changed_values(self) -> dict:
        return {name: value for name, value in super().changed_values().items() if not hasattr(value, "exists") or value}

    def service_arguments(self) -> dict:
        values = self.changed_values()
        return {
            "changes": {name: values[name] for name in services.BULK_FIELDS if name in values},
            "add_databases": list(values.get("add_databases", [])),
            "remove_databases": list(values.get("remove_databases", [])),
            "add_tags": list(values.get("add_tags", [])),
            "remove_tags": list(values.get("remove_tags", [])),
        }


# --- settings -------------------------------------------------------------------------------------------
class TalentDatabaseForm(BaseModelForm):
    class Meta:
        model = TalentDatabase
        fields = ["code", "name", "kind", "description", "is_active", "sort_order"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class TagForm(BaseModelForm):
    class Meta:
        model = Tag
        fields = ["name"]

