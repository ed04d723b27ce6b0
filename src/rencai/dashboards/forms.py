"""The cockpit's filters: they apply to every chart and figure at once."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rencai.core.forms import region_choices
from rencai.core.models import DictionaryItem, Region
from rencai.talents.choices import TalentKind
from rencai.talents.filters import EARLIEST_DAY, LATEST_DAY, regions_under
from rencai.talents.models import TalentDatabase


class CockpitFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("人才类别"), required=False, choices=[("", _("全部")), *TalentKind.choices])
    tier = forms.ModelChoiceField(label=_("人才层次"), required=False, empty_label=_("全部"), queryset=DictionaryItem.objects.none())
    region = forms.ModelChoiceField(label=_("所属地区"), required=False, empty_label=_("全部"), queryset=Region.objects.none())
    database = forms.ModelChoiceField(label=_("人才库"), required=False, empty_label=_("全部"), queryset=TalentDatabase.objects.none())
    registered_from = forms.DateField(label=_("入库日期从"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    registered_to = forms.DateField(label=_("入库日期到"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = DictionaryItem.objects.filter(
            dictionary__code="talent_tier", is_active=True).order_by("sort_order", "code")
        # Another county is not even a choice.
        self.fields["region"].queryset = region_choices(user)
        self.fields["database"].queryset = TalentDatabase.objects.filter(is_active=True)

    def clean(self):
        data = super().clean()
        start, end = data.get("registered_from"), data.get("registered_to")
        for name in ("registered_from", "registered_to"):
            day = data.get(name)
            if day and not EARLIEST_DAY <= day <= LATEST_DAY:
                self.add_error(name, _("日期应在 %(start)s 至 %(end)s 之间。") % {"start": EARLIEST_DAY, "end": LATEST_DAY})
                start = end = None
        if start and end and start > end:
            self.add_error("registered_to", _("结束日期不能早于开始日期。"))
        if data.get("region") is not None:
            data["region_ids"] = regions_under(data["region"])
        return data

    def filters(self) -> dict:
        """The cleaned filters (empty where a value was not valid, so a bad link shows the whole
        scope with the error, rather than nothing)."""
        if not self.is_valid():
            return {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
