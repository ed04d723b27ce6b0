"""Forms of self-registration and of the personal update link (信息采集), and of the review queue.

The public forms only validate: each value with the registry's own validators (the ID-card
number's checksum and birth date, the mobile format, through the cloned ``ProtectedField``), then
with the registry's rules (``intake.person_errors``: gender against the ID-card number, 籍贯 of
在外人才, the work place), so every error lands on the field it is about, in Chinese. Consent
must be ticked. ``website`` is a honeypot: hidden from people, filled in by robots.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.conf import settings
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from rencai.core.forms import TablerFormMixin, region_choices
from rencai.core.models import DictionaryItem, Region
from rencai.core.models.regions import RegionLevel
from rencai.liaison import intake
from rencai.liaison.models_intake import IntakeSubmission, SubmissionKind, SubmissionStatus
from rencai.talents.choices import CATEGORY_DICTIONARY, Gender, TalentKind
from rencai.talents.forms import city_choices, county_choices, province_queryset
from rencai.talents.models import Talent

HONEYPOT = "website"
CHOOSE = _("请选择")
ALL = "all"


def city_counties():
    """The counties (县、市、区) of this city: where a native of the city comes from."""
    city = Region.objects.filter(code=settings.CITY_CODE).values_list("path", flat=True).first() or "/none/"
    return Region.objects.filter(level=RegionLevel.COUNTY, is_active=True, path__startswith=city).order_by("path")


def _items(code: str):
    return DictionaryItem.objects.filter(dictionary__code=code, is_active=True).order_by("sort_order", "code")


def _item_choices(code: str) -> list:
    return [("", CHOOSE), *((item.pk, item.label) for item in _items(code))]


class IntakeForm(TablerFormMixin, forms.ModelForm):
    """Self-registration of a native of the city working elsewhere (在外人才自主登记)."""

    kind = SubmissionKind.REGISTRATION
    talent_kind = TalentKind.NATIVE
    required_fields = ("name", "id_card", "mobile", "native_place")
    short_labels = {"consent": _("同意处理个人信息")}

    consent = forms.BooleanField(
        label=_("我已阅读并同意《个人信息处理告知》，同意按告知的目的和范围处理我的个人信息，"
                "包括身份证号码、手机号码等敏感个人信息。"),
        error_messages={"required": _("请阅读《个人信息处理告知》并勾选同意后再提交。")},
    )
    website = forms.CharField(label=_("网址（请勿填写）"), required=False, max_length=200,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    class Meta:
        model = IntakeSubmission
        fields = list(intake.person_fields(SubmissionKind.REGISTRATION))
        labels = {
            "native_place": _("籍贯（县、市、区）"),
            "category": _("工作领域"),
            "work_unit": _("现工作单位"),
            "research_fields": _("研究方向与专长"),
        }
        help_texts = {
            "gender": _("可不选，按身份证号码识别。"),
            "id_card": _("18 位，用于核实身份、避免重复建档；加密保存。"),
            "mobile": _("用于联络；加密保存。"),
            "native_place": _("请选择您籍贯所在的县（市、区），由该地人才工作部门负责联络服务。"),
            "work_country": _("在国（境）外工作请填写所在国家或地区。"),
            "work_city": _("直辖市不选城市。"),
            "category": _("党政机关、军队、企业、高校、科研院所、医疗卫生或其他。"),
        }
        widgets = {
            "gender": forms.RadioSelect(attrs={"class": "form-check-input"}),
            "mobile": forms.TextInput(attrs={"type": "tel", "inputmode": "numeric", "autocomplete": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "research_fields": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.fields
        for name in self.required_fields:
            if name in fields:
                fields[name].required = True
        fields["gender"].choices = Gender.choices
        self.set_native_place_choices()
        fields["work_province"].queryset = province_queryset()
        fields["work_province"].empty_label = CHOOSE
        fields["work_city"].queryset = Region.objects.filter(level=RegionLevel.PREFECTURE)
        fields["work_city"].choices = city_choices(empty_label=CHOOSE)
        category_code = CATEGORY_DICTIONARY[self.talent_kind]
        fields["category"].queryset = DictionaryItem.objects.filter(dictionary__code=category_code)
        fields["category"].choices = _item_choices(category_code)
        for name in ("education", "degree"):
            fields[name].queryset = DictionaryItem.objects.filter(dictionary__code=name)
            fields[name].choices = _item_choices(name)
        attrs = {
            "name": {"autocomplete": "name"},
            "id_card": {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "maxlength": "22"},
            "wechat": {"autocomplete": "off", "spellcheck": "false"},
            "work_unit": {"autocomplete": "organization"},
            "position": {"autocomplete": "organization-title"},
        }
        for name, extra in attrs.items():
            if name in fields:
                fields[name].widget.attrs.update(extra)
        self.style_widgets()
        for name, form_field in fields.items():
            # Large inputs: thumbs on a phone, inside WeChat.
            classes = form_field.widget.attrs.get("class", "")
            for css in ("form-control", "form-select"):
                if css in classes.split() and name != HONEYPOT:
                    form_field.widget.attrs["class"] = f"{classes} {css}-lg"

    def set_native_place_choices(self) -> None:
        counties = city_counties()
        self.fields["native_place"].queryset = counties
        self.fields["native_place"].choices = [("", CHOOSE), *((c.pk, c.name) for c in counties)]

    @property
    def honeypot_filled(self) -> bool:
        return bool((self.data.get(HONEYPOT) or "").strip())

    def _post_clean(self):
        super()._post_clean()
        submission = self.instance
        for name, messages in intake.person_errors(submission, kind=self.talent_kind).items():
            for message in messages:
                if name not in self.errors:
                    self.add_error(name if name in self.fields else None, message)

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(field id, label, message) of every error, for the list at the top of a long form."""
        rows = []
        for name, errors in self.errors.items():
            if name in self.fields:
                label = str(self.short_labels.get(name, self[name].label))
                rows.extend((self[name].id_for_label, label, str(error)) for error in errors)
            else:
                rows.extend(("", "", str(error)) for error in errors)
        return rows

    def sections(self) -> list[dict]:
        names = [
            (_("基本信息"), ("name", "gender", "id_card", "mobile", "email", "wechat")),
            (_("籍贯与工作地"), ("native_place", "work_country", "work_province", "work_city")),
            (_("工作与学术"), ("work_unit", "category", "position", "title", "education", "degree", "school",
                            "major", "research_fields")),
        ]
        return [{"title": title, "fields": [self[n] for n in group if n in self.fields]} for title, group in names]


class IntakeUpdateForm(IntakeForm):
    """A talent's own details through their update link: the current values filled in (the
    mobile number masked: left empty, it stays), the ID-card number not shown at all."""

    kind = SubmissionKind.UPDATE
    required_fields = ("name",)

    class Meta(IntakeForm.Meta):
        fields = list(intake.person_fields(SubmissionKind.UPDATE))

    def __init__(self, *args, talent: Talent, **kwargs):
        self.talent = talent
        self.talent_kind = talent.kind
        initial = model_to_dict(talent, fields=self._meta.fields)
        initial.pop("mobile", None)
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        mobile = self.fields["mobile"]
        if talent.mobile:
            mobile.widget.attrs["placeholder"] = Talent._meta.get_field("mobile").mask(talent.mobile)
            mobile.help_text = _("当前号码已隐去部分数字；号码未变请留空。")

    def set_native_place_choices(self) -> None:
        if self.talent_kind == TalentKind.NATIVE:
            super().set_native_place_choices()
            return
        field = self.fields["native_place"]
        field.queryset = Region.objects.filter(level=RegionLevel.COUNTY)
        field.choices = county_choices(empty_label=CHOOSE)

    def clean_mobile(self):
        return self.cleaned_data.get("mobile") or self.talent.mobile


# --- the review queue ---------------------------------------------------------------------------------
class IntakeSubmissionFilterSet(django_filters.FilterSet):
    """The queue's filters; with none chosen it shows what waits for review."""

    q = django_filters.CharFilter(label=_("姓名"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("审核状态"), choices=[(ALL, _("全部")), *SubmissionStatus.choices], empty_label=None, method="by_status",
    )
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=SubmissionKind.choices)
    region = django_filters.ModelChoiceFilter(label=_("所属地区"), queryset=Region.objects.all(), method="in_region")

    class Meta:
        model = IntakeSubmission
        fields = ["q", "status", "kind", "region"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        data = data.copy() if data is not None else {}
        data.setdefault("status", SubmissionStatus.PENDING)
        super().__init__(data, *args, **kwargs)
        if user is not None:
            self.filters["region"].queryset = region_choices(user)

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value.strip())

    def by_status(self, queryset, name, value):
        return queryset if value == ALL else queryset.filter(status=value)

    def in_region(self, queryset, name, value):
        return queryset.filter(region__path__startswith=value.path)
