"""The registry's demo data: deterministic, valid and consistent personal numbers, places and
distributions like a real registry, loaded once, searchable, and the bulk load leaves the schema
as it found it."""

from __future__ import annotations

import statistics
from collections import Counter
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from rencai.core.fields import protected_match
from rencai.core.models import AuditEntry, Region, User
from rencai.core.testing import PASSWORD, table_schema
from rencai.core.validators import id_birth_date, id_gender, validate_id_card, validate_mobile
from rencai.demo import run_demo
from rencai.talents import demo as talents_demo
from rencai.talents import search
from rencai.talents.demo import AS_OF, talent_counts
from rencai.talents.models import Talent, TalentEducation, TalentSearchTerm, TalentWork

pytestmark = pytest.mark.django_db

TABLES = [Talent, TalentEducation, TalentWork, Talent.databases.through, Talent.tags.through, TalentSearchTerm]


def _people() -> list[tuple]:
    """What identifies the generated people, without database ids (which differ between runs)."""
    # Sorted in Python: the numbers are encrypted, so the database cannot order by them.
    return sorted(
        (t.name, t.gender, t.birth_date, t.id_card, t.mobile, t.region.code, t.native_place.code, t.kind,
         t.category.code, t.work_unit, t.position, t.research_fields,
         tuple(sorted(tag.name for tag in t.tags.all())), tuple(sorted(d.code for d in t.databases.all())),
         tuple((e.start, e.school) for e in t.education_history.all()),
         tuple((w.start, w.unit) for w in t.work_history.all()))
        for t in Talent.objects.select_related("region", "native_place", "category")
        .prefetch_related("tags", "databases", "education_history", "work_history")
    )


def _generated(seed: int) -> list[tuple]:
    with transaction.atomic():
        run_demo(seed=seed, password=PASSWORD)
        people = _people()
        transaction.set_rollback(True)
    return people


def _age(birth) -> int:
    return AS_OF.year - birth.year - ((AS_OF.month, AS_OF.day) < (birth.month, birth.day))


def _schema() -> dict[str, dict]:
    return table_schema(TABLES)


def test_the_same_seed_gives_the_same_talents(refdata):
    first, second, other = _generated(7), _generated(7), _generated(8)
    assert len(first) == 2200
    assert first == second
    # Another seed gives other people: the comparison above can fail.
    assert [p[:4] for p in first] != [p[:4] for p in other]


def test_size_maps_to_the_number_of_talents():
    assert talent_counts(1) == {"native": 1600, "local": 600}
    assert talent_counts(3) == {"native": 4800, "local": 1800}
    assert talent_counts(1000) == {"native": 727, "local": 273}
    counts = talent_counts(1_000_000)
    assert sum(counts.values()) == 1_000_000 and counts["native"] == 727_273


def test_the_default_size_makes_1600_natives_and_600_local_talents(refdata):
    context = run_demo(seed=1, password=PASSWORD)
    assert Counter(Talent.objects.values_list("kind", flat=True)) == {"native": 1600, "local": 600}
    assert context.counts["talents"] == 2200
    assert context.counts["talent_education"] == TalentEducation.objects.count() > 500
    assert context.counts["talent_work"] == TalentWork.objects.count() > 500


def test_id_numbers_are_valid_unique_and_agree_with_birth_date_gender_and_origin(refdata):
    run_demo(seed=2, password=PASSWORD)
    talents = list(Talent.objects.select_related("native_place"))
    numbers = [t.id_card for t in talents if t.id_card]
    assert len(numbers) > 0.95 * len(talents)
    assert len(set(numbers)) == len(numbers)
    for t in talents:
        if not t.id_card:
            continue
        assert validate_id_card(t.id_card) == t.id_card
        assert id_birth_date(t.id_card) == t.birth_date, t.id_card
        assert id_gender(t.id_card) == t.gender, t.id_card
        assert t.id_card[:6] == t.native_place.code, t.id_card
    # The keyed lookup hash was written with the number: an exact search finds the person.
    sample = next(t for t in talents if t.id_card)
    assert list(Talent.objects.filter(protected_match(Talent, "id_card", sample.id_card))) == [sample]
    mobiles = [t.mobile for t in talents if t.mobile]
    assert 0.85 * len(talents) < len(mobiles) < len(talents)
    assert len(set(mobiles)) == len(mobiles)
    for mobile in mobiles:
        assert validate_mobile(mobile) == mobile and mobile[:3] in {"170", "171"}
        assert not mobile.startswith("1700000")  # core's org-unit contacts use that block
    assert Talent.objects.filter(protected_match(Talent, "mobile", mobiles[0])).count() == 1


def test_natives_come_from_the_city_and_every_talent_is_managed_there(refdata):
    run_demo(seed=3, password=PASSWORD)
    city = Region.objects.get(code=settings.CITY_CODE)
    city_regions = set(Region.objects.filter(parent=city).values_list("id", flat=True))
    counties = set(Region.objects.filter(parent=city, level="county").values_list("id", flat=True))
    assert set(Talent.objects.values_list("region_id", flat=True)) <= city_regions
    assert set(Talent.objects.filter(kind="native").values_list("native_place_id", flat=True)) <= counties
    # Local talent are mostly from the city too, some from elsewhere in the province or China.
    local_origins = Counter(
        "city" if n in counties else "other"
        for n in Talent.objects.filter(kind="local").values_list("native_place_id", flat=True)
    )
    assert local_origins["city"] > 0.7 * 600 and local_origins["other"] > 0
    # Natives work elsewhere, locals in the city.
    assert not Talent.objects.filter(kind="native", work_city=city).exists()
    assert Talent.objects.filter(kind="local").exclude(work_city=city).count() == 0


def test_the_distributions_look_like_a_registry(refdata):
    run_demo(seed=4, password=PASSWORD)
    natives = Talent.objects.filter(kind="native")
    places = Counter(
        (city or province or country)
        for city, province, country in natives.values_list("work_city__name", "work_province__name", "work_country")
    )
    top = [name for name, _n in places.most_common(3)]
    assert set(top) == {"北京市", "太原市", "西安市"}, places.most_common(5)
    assert natives.exclude(work_country="中国").count() < 0.06 * 1600

    names = list(Talent.objects.values_list("name", flat=True))
    two_characters = sum(len(n) == 2 for n in names) / len(names)
    assert 0.4 < two_characters < 0.6
    assert Counter(n[0] for n in names).most_common(1)[0][0] in "王李张刘陈"

    ages = [_age(b) for b in Talent.objects.values_list("birth_date", flat=True)]
    assert min(ages) >= 25 and max(ages) <= 70
    assert 38 <= statistics.median(ages) <= 50
    assert sum(35 <= a <= 55 for a in ages) > 0.55 * len(ages)

    tiers = Counter(Talent.objects.values_list("tier__code", flat=True))
    assert tiers[None] > 0.6 * 2200
    assert tiers["E"] > tiers["D"] > tiers["C"] > tiers["B"] >= tiers["A"]

    education = Counter(Talent.objects.values_list("education__label", flat=True))
    assert education["研究生"] + education["大学本科"] > 0.7 * 2200
    titles = Counter(Talent.objects.values_list("title_level__label", flat=True))
    assert titles["中级"] > titles["正高级"] > 0 and titles["副高级"] > titles["正高级"]
    categories = Counter(natives.values_list("category__label", flat=True))
    assert categories.most_common(1)[0][0] == "经济/企业" and set(categories) == {
        "党政机关", "军队", "经济/企业", "高校", "科研院所", "医疗卫生", "其他"}
    # Professors hold doctorates far more often than officials.
    doctors = Counter(
        category for category, degree in natives.values_list("category__code", "degree__code") if degree == "2"
    )
    assert doctors["04"] / categories["高校"] > 0.5 > doctors["01"] / categories["党政机关"]

    # Histories run forward in time and end before the day ages are counted at.
    for start, end in TalentWork.objects.values_list("start", "end"):
        assert start < (end or "9999") and int((end or start)[:4]) < AS_OF.year, (start, end)
    for talent_id, birth, start in TalentEducation.objects.values_list("talent_id", "talent__birth_date", "start"):
        assert int(start[:4]) >= birth.year + 17, (talent_id, start)

    statuses = Counter(Talent.objects.values_list("status", flat=True))
    assert statuses["in_contact"] > 0.75 * 2200
    assert Talent.objects.exclude(consent_date=None).count() > 0.75 * 2200
    assert Talent.objects.filter(consent_date__gt=AS_OF).count() == 0


def test_databases_tags_and_liaison_officers_are_assigned_by_kind_and_region(refdata):
    run_demo(seed=5, password=PASSWORD)
    assert not Talent.objects.filter(kind="native", databases__code="local_excellent").exists()
    assert not Talent.objects.filter(kind="local", databases__code="native_excellent").exists()
    assert Talent.objects.filter(kind="native", databases__code="native_excellent").count() > 800
    assert Talent.objects.filter(kind="local", databases__code="local_excellent").count() > 250
    assert Talent.objects.filter(tags__name="博士").exists()
    assert not Talent.objects.filter(tags__name="博士").exclude(degree__code="2").exists()

    yanhu, hejin = User.objects.get(username="demo_yanhu"), User.objects.get(username="demo_hejin")
    officers = Counter(Talent.objects.exclude(liaison_officer=None).values_list("liaison_officer__username",
                                                                                  "region__code"))
    assert set(officers) == {("demo_yanhu", "140802"), ("demo_hejin", "140882")}
    assert Talent.objects.filter(region__code="140802", liaison_officer=yanhu).count() > \
        0.6 * Talent.objects.filter(region__code="140802").count()
    assert hejin.liaison_talents.exists()


def test_if_empty_loads_once_and_audits_the_run_not_the_rows(refdata):
    call_command("demo", "--if-empty", stdout=StringIO())
    talents = Talent.objects.count()
    assert talents == 2200
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "nothing loaded" in out.getvalue()
    assert Talent.objects.count() == talents
    entry = AuditEntry.objects.get(object_type="demo")
    assert entry.changes["counts"]["talents"] == 2200
    assert not AuditEntry.objects.filter(object_type__startswith="talents.").exists()


def test_a_database_with_talents_of_its_own_gets_no_demo_data(refdata):
    Talent.objects.create(name="王一", kind="native", region=Region.objects.get(code="140802"))
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "nothing loaded" in out.getvalue()
    assert Talent.objects.count() == 1


def test_the_generated_talents_are_in_the_search_index(refdata):
    run_demo(seed=6, password=PASSWORD)
    talent = Talent.objects.filter(research_fields__contains="；").order_by("id").first()
    if not search.terms_for(talent):
        pytest.skip("talents.search is still the stub: index_bulk writes no terms yet")
    indexed = TalentSearchTerm.objects.values("talent_id").distinct().count()
    assert indexed == Talent.objects.count()
    assert TalentSearchTerm.objects.count() > 5 * indexed
    found = search.apply_search(Talent.objects.all(), talent.name)
    assert talent in found
    field_word = talent.research_fields.split("；")[0]
    assert talent in search.apply_search(Talent.objects.all(), field_word)


def test_the_bulk_load_puts_back_every_index_and_foreign_key(refdata):
    before = _schema()
    run_demo(seed=9, password=PASSWORD)
    assert _schema() == before
    assert Talent.objects.count() == 2200


def test_a_failed_run_leaves_no_talents_and_the_schema_as_it_was(refdata, monkeypatch):
    before = _schema()
    monkeypatch.setattr(talents_demo, "BATCH_SIZE", 1000)
    real_index = search.index_bulk
    calls = []

    def failing_index(talents, **kwargs):
        calls.append(len(talents))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_index(talents, **kwargs)

    monkeypatch.setattr(search, "index_bulk", failing_index)
    with pytest.raises(RuntimeError, match="disk full"):
        run_demo(seed=10, password=PASSWORD)
    assert calls == [1000, 1000]
    assert not Talent.objects.exists() and not TalentSearchTerm.objects.exists()
    assert not AuditEntry.objects.filter(object_type="demo").exists()
    assert _schema() == before
