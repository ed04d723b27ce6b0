"""Reading a page of talents with what they point to: one query per related model, labels of
choices."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rencai.talents.models import Talent
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
    assert on.count('"core_region"') == 1  # the managing region is joined; 籍贯 and work province share one
    assert len(on) == 5  # talents, dictionary items, regions, talent databases, tags (no liaison officer set)


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
