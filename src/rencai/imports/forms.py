"""Forms of the import wizard: the upload, and the settings of one import (sheet, header row,
column mapping, values for the whole file, match mode).

The settings form is built for the sheet at hand: one select per column of the header row,
offering every importable field (``mapping.FIELDS``) with the suggested one chosen. It only
validates; ``ImportSettingsForm.options()`` turns it into the engine's ``ImportOptions``.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rencai.core.forms import TablerFormMixin, region_choices
from rencai.imports import mapping
from rencai.imports.pipeline import ImportOptions
from rencai.talents.choices import TalentKind

MODES = (
    ("skip", _("跳过已有人员（只新增）")),
    ("update", _("更新已有人员（表中的值覆盖库中的值）")),
    ("fill", _("只补空白（库中已有的值不改，空白单元格从不覆盖）")),
)
# Fields a sheet often lacks that the wizard offers one value for, for the whole file.
FIXED_TEXT_FIELDS = ("category", "tier", "source_ref")
UNMAPPED = ""


class UploadForm(TablerFormMixin, forms.Form):
    file = forms.FileField(
        label=_("人才名单文件"),
        help_text=_("支持 .xlsx、.xls 和 .csv（UTF-8 或 GBK 编码）；表头上方可以有标题行。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style_widgets()


class ImportSettingsForm(TablerFormMixin, forms.Form):
    """Sheet, header row, one field per column, whole-file values, match mode."""

    sheet = forms.ChoiceField(label=_("工作表"))
    header_row = forms.IntegerField(label=_("表头所在行"), min_value=1, help_text=_("表头上方的标题行不导入。"))
    mode = forms.ChoiceField(label=_("已有人员的处理方式"), choices=MODES, initial="skip", widget=forms.RadioSelect)
    valid_only = forms.BooleanField(
        label=_("只导入无误的行"), required=False,
        help_text=_("不勾选时，只要有一行出错就一行也不导入（全部或全不）。"),
    )
    fixed_region = forms.ChoiceField(label=_("所属地区（整表统一）"), required=False)
    fixed_kind = forms.ChoiceField(
        label=_("人才类别（整表统一）"), required=False, choices=[("", "—"), *TalentKind.choices],
    )
    fixed_category = forms.CharField(label=_("人才分类（整表统一）"), required=False, max_length=60,
                                     help_text=_("填写名称或代码，如“高校”。"))
    fixed_tier = forms.CharField(label=_("人才层次（整表统一）"), required=False, max_length=20,
                                 help_text=_("填写 A–E 或其名称。"))
    fixed_source_ref = forms.CharField(label=_("来源说明（整表统一）"), required=False, max_length=100,
                                       help_text=_("如“2026 年盐湖区报送名单”。"))
    save_as = forms.CharField(label=_("保存为映射模板"), required=False, max_length=60,
                              help_text=_("填写名称后，下次导入同一来源的表格可直接套用这些列对应关系；同名模板会被替换。"))
    source = forms.CharField(label=_("来源单位"), required=False, max_length=100)

    def __init__(self, *args, user, sheet_names: list[str], headers: list[str], suggested: list[str | None], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.fields["sheet"].choices = [(str(index), name) for index, name in enumerate(sheet_names)]
        regions = region_choices(user)
        self.fields["fixed_region"].choices = [("", "—"), *[(region.code, str(region)) for region in regions]]
        field_choices = [(UNMAPPED, _("（不导入）")), *[(name, spec.label) for name, spec in mapping.FIELDS.items()]]
        self.column_names = []
        for index, header in enumerate(headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header or _("第 %(n)d 列") % {"n": index + 1}, choices=field_choices, required=False,
                initial=suggested[index] if index < len(suggested) else None,
            )
            self.column_names.append(name)
        self.style_widgets()

    def column_fields(self):
        """The bound field of each column, in sheet order (for the mapping table)."""
        return [self[name] for name in self.column_names]

    def clean(self):
        data = super().clean()
        chosen: dict[str, int] = {}
        for index, name in enumerate(self.column_names):
            field = data.get(name) or UNMAPPED
            if field == UNMAPPED:
                continue
            if field in chosen:
                self.add_error(name, _("“%(field)s”已对应第 %(n)d 列；每个字段只能对应一列。")
                               % {"field": mapping.FIELDS[field].label, "n": chosen[field] + 1})
            chosen[field] = index
        if "name" not in chosen:
            self.add_error(None, _("请指定“姓名”对应的列：姓名是每行唯一必填的内容。"))
        if "region" not in chosen and not data.get("fixed_region"):
            self.add_error("fixed_region", _("表中没有“所属地区”列时，请为整表选择所属地区。"))
        if "kind" not in chosen and not data.get("fixed_kind"):
            self.add_error("fixed_kind", _("表中没有“人才类别”列时，请为整表选择在外人才或本土人才。"))
        return data

    def options(self) -> ImportOptions:
        data = self.cleaned_data
        columns = {index: data[name] for index, name in enumerate(self.column_names) if data.get(name)}
        fixed = {"region": data.get("fixed_region"), "kind": data.get("fixed_kind")}
        fixed.update({field: data.get(f"fixed_{field}") for field in FIXED_TEXT_FIELDS})
        return ImportOptions(
            sheet=int(data["sheet"]), header_row=data["header_row"] - 1, columns=columns, mode=data["mode"],
            valid_only=bool(data.get("valid_only")),
            fixed={field: value.strip() for field, value in fixed.items() if value and value.strip()},
        )


def options_initial(options: ImportOptions) -> dict:
    """Form values from saved options (going back from the preview, or a saved template)."""
    initial = {
        "sheet": str(options.sheet), "header_row": options.header_row + 1, "mode": options.mode,
        "valid_only": options.valid_only,
    }
    initial.update({f"col_{index}": field for index, field in options.columns.items()})
    initial.update({f"fixed_{field}": value for field, value in options.fixed.items()})
    return initial
