"""Tables of the registry: the talent list (and its export), talent databases and tags.

Columns over related rows read what the list's queryset already joined (``select_related`` of the
region and the dictionary items, ``prefetch_related`` of talent databases and tags), so a page
costs the same number of queries whatever its length.
"""

from __future__ import annotations

import django_tables2 as tables
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rencai.core.tables import BaseTable, ProtectedColumn, object_url
from rencai.talents.models import Tag, Talent, TalentDatabase


def age_on(birth_date, today) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


class _ManyColumn(tables.Column):
    """The names of a to-many relation, joined by 、 (read from the prefetched rows)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("orderable", False)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return "、".join(str(item) for item in value.all()) or "—"

    def value(self, value):
        return "、".join(str(item) for item in value.all())


class TalentTable(BaseTable):
    name = tables.Column(linkify=lambda record: object_url(record))
    gender = tables.Column()
    age = tables.Column(verbose_name=_("年龄"), accessor="birth_date", order_by=("-birth_date",),
                        attrs={"td": {"class": "text-end"}})
    birth_date = tables.DateColumn(format="Y-m-d")
    # Sorted by the region and then the name: the order the (region, name, id) index holds.
    region = tables.Column(order_by=("region", "name"))
    native_place = tables.Column(order_by=("native_place",))
    kind = tables.Column()
    category = tables.Column(order_by=("category",))
    databases = _ManyColumn()
    tier = tables.Column(order_by=("tier",))
    tags = _ManyColumn()
    work_unit = tables.Column()
    position = tables.Column()
    title = tables.Column()
    title_level = tables.Column(order_by=("title_level",))
    education = tables.Column(order_by=("education",))
    degree = tables.Column(order_by=("degree",))
    work_province = tables.Column(order_by=("work_province",))
    work_city = tables.Column(order_by=("work_city",))
    mobile = ProtectedColumn()
    status = tables.Column()
    liaison_officer = tables.Column(order_by=("liaison_officer",))
    updated_at = tables.DateTimeColumn(format="Y-m-d H:i")

    default_columns = (
        "name", "gender", "age", "region", "kind", "category", "tier", "work_unit", "position", "title_level",
        "education", "mobile", "status",
    )

    class Meta(BaseTable.Meta):
        model = Talent
        fields = (
            "pk", "name", "gender", "age", "birth_date", "region", "native_place", "kind", "category", "databases",
            "tier", "tags", "work_unit", "position", "title", "title_level", "education", "degree", "work_province",
            "work_city", "mobile", "status", "liaison_officer", "updated_at", "actions",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()

    def render_age(self, value):
        return age_on(value, self.today)

    def value_age(self, value):
        return age_on(value, self.today) if value else ""


class TalentDatabaseTable(BaseTable):
    name = tables.Column(linkify=lambda record: object_url(record))
    code = tables.Column()
    kind = tables.Column()
    is_active = tables.BooleanColumn(yesno=(_("是"), _("否")))
    sort_order = tables.Column()
    description = tables.Column()

    default_columns = ("name", "code", "kind", "is_active", "sort_order")

    class Meta(BaseTable.Meta):
        model = TalentDatabase
        fields = ("pk", "name", "code", "kind", "is_active", "sort_order", "description", "actions")


class TagTable(BaseTable):
    name = tables.Column(linkify=lambda record: object_url(record))
    updated_at = tables.DateTimeColumn(format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        model = Tag
        fields = ("pk", "name", "updated_at", "actions")
