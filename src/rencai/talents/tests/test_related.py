"""Reading a page of talents with what they point to: one query per related model, labels of
choices."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rencai.core.models import Role
from rencai.core.models.base import attach_references, related_rows
from rencai.talents.models import Tag, Talent, TalentDatabase
from rencai.talents.tests.helpers import item, make_talent, region
from rencai.talents.views import TALENT_RELATED, with_related

pytestmark = pytest.mark.django_db


def test_foreign_keys_are_read_one_query_per_related_model(city_admin):
    make_talent(city_admin, name="张伟", tier=item("talent_tier", "C"), education=item("education", "10"),
                work_province=region("110000"))
    make_talent(city_admin, name="李刚", region_code="140882", native_place=region("140882"),
                tier=item("talent_tier", "D"), degree=item("degree", "4"))
    with CaptureQueriesContext(connection) as queries:
        rows = list(with_related(Talent.objects.order_by("name"), TALENT_RELATED))
        values = [(t.tier.code, t.education and t.education.code, t.degree and t.degree.code,
                   t.native_place.code, t.work_province and t.work_province.code, t.region.code) for t in rows]
    assert values == [("C", "10", None, "140802", "110000", "140802"), ("D", None, "4", "140882", None, "140882")]
    on = [query["sql"].split(" FROM ")[1].split()[0] for query in queries.captured_queries]
    assert on.count('"core_dictionaryitem"') == 1
    assert on.count('"core_region"') == 1  # the managing region, 籍贯 and work province share one
    assert " JOIN " not in queries.captured_queries[0]["sql"]
    assert len(on) == 5  # talents, dictionary items, regions, talent databases, tags (no liaison officer set)


def test_many_to_many_records_are_read_one_query_each_in_their_order(city_admin):
    tags = [Tag.objects.create(name=name) for name in ("乡贤", "博士", "院士")]
    databases = list(TalentDatabase.objects.filter(kind__in=["native", ""]))
    make_talent(city_admin, name="张伟", tags=[tags[2], tags[0]], databases=databases)
    make_talent(city_admin, name="李刚", tags=[tags[1], tags[0]])
    make_talent(city_admin, name="王芳")
    with CaptureQueriesContext(connection) as queries:
        rows = list(Talent.objects.order_by("name").fetch_references("tags", "databases"))
        read = {row.name: ([t.name for t in row.tags.all()], related_rows(row, "databases")) for row in rows}
    assert len(queries.captured_queries) == 3  # the talents, their tags, their databases
    assert read == {"张伟": (["乡贤", "院士"], databases), "李刚": (["乡贤", "博士"], []), "王芳": ([], [])}
    assert rows[1].tags.all()[0] is rows[0].tags.all()[0]  # one record, however many rows it belongs to


def test_a_many_to_many_field_without_a_way_back_is_read_through_its_link_table(city_admin):
    roles = list(Role.objects.filter(code__in=["city_admin", "leader"]).order_by("code"))
    with CaptureQueriesContext(connection) as queries:
        attach_references(roles, ["permissions"], "default")
    assert len(queries.captured_queries) == 2
    for role in roles:
        stored = Role.objects.get(pk=role.pk).permissions.values_list("pk", flat=True)
        assert {p.pk for p in related_rows(role, "permissions")} == set(stored)


def test_a_loaded_relation_is_not_read_again(city_admin):
    talent = make_talent(city_admin, tier=item("talent_tier", "C"))
    with CaptureQueriesContext(connection) as queries:
        (row,) = Talent.objects.select_related("tier").fetch_references("tier", "native_place").filter(pk=talent.pk)
    assert row.tier.code == "C" and row.native_place.code == "140802"
    assert len(queries.captured_queries) == 2  # the talent with its tier joined, then its 籍贯


def test_choice_labels_come_from_the_choices(city_admin):
    talent = make_talent(city_admin)
    assert talent.get_kind_display() == "在外人才" and talent.get_gender_display() == ""
    talent.gender = "female"
    assert talent.get_gender_display() == "女"
    talent.status = "no-such-status"
    assert talent.get_status_display() == "no-such-status"
