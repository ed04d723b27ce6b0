"""Search of the registry: terms, the prefix query, exact number lookup, ranking, scope, the
index plans on both databases, and bulk indexing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rencai.core.models import Region
from rencai.talents import search
from rencai.talents.models import Talent, TalentSearchTerm, TermKind
from rencai.talents.tests.helpers import id_number

pytestmark = pytest.mark.django_db


def talent(name, *, county="140802", index=True, **fields):
    fields.setdefault("kind", "native")
    person = Talent.objects.create(name=name, region=Region.objects.get(code=county), **fields)
    if index:
        search.index_talent(person)
    return person


def names(queryset) -> list[str]:
    return [t.name for t in queryset]


def found(query, queryset=None) -> set[str]:
    return set(names(search.apply_search(queryset if queryset is not None else Talent.objects.all(), query)))


@pytest.fixture
def people(refdata):
    return {
        "ligang": talent("李刚", work_unit="北京大学第一医院", research_fields="人工智能与机器学习；计算机视觉"),
        "liqiang": talent("李强", work_unit="清华大学", research_fields="材料科学"),
        "zhangwei": talent("张伟", work_unit="太原理工大学", research_fields="煤化工", major="化学工程与工艺"),
        "wangfang": talent("王芳", work_unit="北京理工大学", skills="数据分析、统计建模", county="140882"),
    }


# --- terms -----------------------------------------------------------------------------------------
def test_it_indexes_the_name_with_pinyin_and_initials():
    terms = dict(search.name_terms("张伟"))
    assert terms == {"张伟": TermKind.NAME, "伟": TermKind.NAME, "zhangwei": TermKind.PINYIN, "zw": TermKind.INITIALS}


@pytest.mark.parametrize(("name", "pinyin", "initials"), [
    ("单雄信", "shanxiongxin", "sxx"),
    ("曾国藩", "zengguofan", "zgf"),
    ("解缙", "xiejin", "xj"),
    ("仇英", "qiuying", "qy"),
    ("区志航", "ouzhihang", "ozh"),
    ("朴树", "piaoshu", "ps"),
    ("欧阳修", "ouyangxiu", "oyx"),
])
def test_it_reads_a_surname_as_a_surname(name, pinyin, initials):
    terms = dict(search.name_terms(name))
    assert terms[pinyin] == TermKind.PINYIN
    assert terms[initials] == TermKind.INITIALS


def test_it_splits_names_of_several_parts():
    terms = dict(search.name_terms("阿卜杜拉·艾买提"))
    assert terms["阿卜杜拉"] == TermKind.NAME and terms["艾买提"] == TermKind.NAME
    assert dict(search.name_terms("John Smith"))["smith"] == TermKind.NAME


def test_it_indexes_free_text_from_every_word_on():
    terms = search.text_terms("人工智能与机器学习；计算机视觉")
    assert set(terms) >= {"人工智能与机器学习", "智能与机器学习", "机器学习", "学习", "计算机视觉", "视觉"}
    assert "与机器学习" not in terms  # a stop word starts nothing
    assert all(len(term) > 1 for term in terms)


def test_terms_are_normalised_deduplicated_and_short(refdata):
    person = Talent(name="ＡＢＣ", kind="native", work_unit="Ｈｕａｗｅｉ 技术有限公司", research_fields="x" * 100,
                    major="Ｈｕａｗｅｉ")
    terms = search.terms_for(person, tags=["乡贤", "乡贤"])
    words = [term for term, _kind in terms]
    assert len(words) == len(set(words))
    assert "abc" in words and "huawei" in words and "乡贤" in words
    assert all(len(term) <= search.TERM_MAX_LENGTH for term in words)
    assert dict(terms)["huawei"] == TermKind.UNIT  # the better of unit and field


def test_segmentation_is_quiet_and_caches_under_var(monkeypatch, capfd):
    monkeypatch.setattr(search, "_tokenizer", None)
    monkeypatch.setattr(search, "_text_cache", search._Cache(10))
    assert "机器学习" in search.text_terms("人工智能与机器学习")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert search._segmenter().tmp_dir == str(settings.VAR_DIR / "cache")
    assert (settings.VAR_DIR / "cache" / "jieba.cache").exists()


# --- queries -----------------------------------------------------------------------------------------
def test_it_finds_a_two_character_name_and_a_one_character_surname(people):
    assert found("李刚") == {"李刚"}
    assert found("李") == {"李刚", "李强"}
    assert found("刚") == {"李刚"}  # the given name alone


def test_it_finds_by_full_pinyin_and_initials_in_any_case_and_width(people):
    assert found("zhangwei") == {"张伟"}
    assert found("zhang") == {"张伟"}
    assert found("zw") == {"张伟"}
    assert found("ZW") == {"张伟"}
    assert found("ｚｗ") == {"张伟"}
    assert found("lg") == {"李刚"}
    assert found("l") == {"李刚", "李强"}


def test_every_token_must_match(people):
    assert found("李 北京") == {"李刚"}
    assert found("北京 李") == {"李刚"}
    assert found("李 北京 材料") == set()


def test_it_finds_by_work_unit_and_field_words(people):
    assert found("北京") == {"李刚", "王芳"}
    assert found("医院") == {"李刚"}
    assert found("人工智能") == {"李刚"}  # a prefix of 人工智能与机器学习
    assert found("机器学习") == {"李刚"}  # words inside it, through segmentation
    assert found("智能与机器") == {"李刚"}
    assert found("第一医院") == {"李刚"}
    assert found("统计") == {"王芳"}
    assert found("化学工程") == {"张伟"}
    assert found("量子") == set()


def test_it_finds_a_polyphonic_surname_by_its_surname_reading(refdata):
    talent("单雄信")
    talent("曾国藩")
    assert found("shanxiongxin") == {"单雄信"}
    assert found("sxx") == {"单雄信"}
    assert found("danxiongxin") == set()
    assert found("zeng") == {"曾国藩"}


def test_it_looks_up_id_card_and_mobile_numbers_exactly(refdata):
    number = id_number("19851203", male=False, seq=7)
    person = talent("赵敏", id_card=number, mobile="13912345678")
    talent("钱敏", id_card=id_number("19851203", seq=8), mobile="13912345679")
    spaced = f"{number[:6]} {number[6:14]} {number[14:]}".lower()
    assert names(search.apply_search(Talent.objects.all(), spaced)) == [person.name]
    assert names(search.apply_search(Talent.objects.all(), "+86 139-1234-5678")) == [person.name]
    assert names(search.apply_search(Talent.objects.all(), "１３９１２３４５６７８")) == [person.name]
    # A number is never a term: the ciphertext is all that is stored.
    assert not TalentSearchTerm.objects.filter(term__contains="1391234").exists()


def test_it_ranks_a_name_before_a_unit_and_exact_before_prefix(refdata):
    unit = talent("周敏", work_unit="李刚科技有限公司")
    longer = talent("李刚强")
    exact = talent("李刚")
    result = list(search.apply_search(Talent.objects.all(), "李刚"))
    assert result == [exact, longer, unit]
    assert [t.search_rank for t in result] == [2 * TermKind.NAME, 2 * TermKind.NAME + 1, 2 * TermKind.UNIT + 1]


def test_search_stays_within_the_scope_it_is_given(people, yanhu_officer, hejin_officer):
    yanhu = Talent.objects.restrict(yanhu_officer, "view")
    hejin = Talent.objects.restrict(hejin_officer, "view")
    assert found("北京", yanhu) == {"李刚"}
    assert found("北京", hejin) == {"王芳"}
    assert found("王芳", yanhu) == set()
    assert found("wangfang", yanhu) == set()


def test_a_rename_replaces_the_old_terms(people):
    person = people["liqiang"]
    person.name = "刘洋"
    person.save()
    search.index_talent(person)
    assert found("李强") == set() and found("liqiang") == set()
    assert found("刘洋") == {"刘洋"} and found("ly") == {"刘洋"}
    assert not TalentSearchTerm.objects.filter(talent_id=person.pk, term="李强").exists()


def test_nothing_to_find_is_nothing_found(people):
    assert found("") == {"李刚", "李强", "张伟", "王芳"}  # no query: the queryset as given
    assert found("   ") == {"李刚", "李强", "张伟", "王芳"}
    assert found("x") == set()
    assert found("李 x") == set()


# --- many matches: newest first, the count from the index ----------------------------------------------
@pytest.fixture
def broad(monkeypatch, people):
    """Every query past two index entries takes the path of a broad query."""
    monkeypatch.setattr(search, "RANKED_LIMIT", 2)
    extra = [talent(f"李{given}", work_unit="北京大学") for given in "一二三四"]
    return people, extra


# SQLite: the page through IN lists or EXISTS; the count looking the range's talents up, or walking them.
@pytest.mark.parametrize(("in_limit", "lookup_limit"), [(5_000, 100_000), (1, 100_000), (1, 1)])
def test_a_broad_query_comes_newest_first_and_counts_from_the_index(broad, yanhu_officer, hejin_officer, monkeypatch,
                                                                     in_limit, lookup_limit):
    monkeypatch.setattr(search, "SQLITE_IN_LIMIT", in_limit)
    monkeypatch.setattr(search, "SQLITE_LOOKUP_LIMIT", lookup_limit)
    result = search.apply_search(Talent.objects.all(), "李")
    assert isinstance(result, search.SearchResults)
    assert names(result) == ["李四", "李三", "李二", "李一", "李强", "李刚"]
    assert result.count() == 6
    assert result.order_by().values("pk")[:4].count() == 4  # capped like the list's count
    assert result.filter(work_unit="清华大学").count() == 1
    assert search.apply_search(Talent.objects.restrict(hejin_officer, "view"), "李").count() == 0
    assert search.apply_search(Talent.objects.restrict(yanhu_officer, "view"), "李").count() == 6
    assert search.apply_search(Talent.objects.all(), "李 北京").count() == 5
    assert list(result[2:4]) == list(Talent.objects.filter(name__in=["李二", "李一"]).order_by("-pk"))


@pytest.mark.parametrize("in_limit", [5_000, 1])
def test_a_broad_query_in_scope_counts_like_django(broad, yanhu_officer, monkeypatch, in_limit):
    """However the count is worked out (names first, IN lists, the page's own conditions), it is
    the count of the rows, capped where asked."""
    monkeypatch.setattr(search, "SQLITE_IN_LIMIT", in_limit)
    talent("周北", work_unit="李家庄小学")  # found by 李 through the unit, not the name
    talent("李五", county="140882")  # out of scope
    talent("李六", index=False)  # a name, but not (yet) in the index: not found, so not counted
    talent("李七", index=False)
    in_scope = Talent.objects.restrict(yanhu_officer, "view")

    def counts(query, queryset=in_scope):
        result = search.apply_search(queryset, query)
        plain = Talent.objects.filter(pk__in=[t.pk for t in result])
        assert set(result) == set(plain.filter(pk__in=queryset))  # the page's rows are the rows in scope
        return [result.order_by().values("pk")[:cap].count() for cap in (None, 3, 6, 7, 8)]

    assert counts("李") == [7, 3, 6, 7, 7]  # six 李 by name, 周北 by unit
    if connection.vendor == "sqlite" and in_limit == 1:
        result = search.apply_search(in_scope, "李").order_by().values("pk")[:6]
        named = result._named("李", sqlite=True)
        assert "talents_term_idx" in _plan(named) and str(named.query).count("EXISTS") == 1
    assert counts("北京") == [5, 3, 5, 5, 5]
    assert counts("李 北京") == [5, 3, 5, 5, 5]
    assert counts("李", in_scope.filter(work_unit="北京大学")) == [4, 3, 4, 4, 4]
    assert counts("l", in_scope.filter(kind="local")) == [0, 0, 0, 0, 0]


def test_a_ranked_query_alone_counts_what_it_ranked(people, yanhu_officer, django_assert_num_queries):
    result = search.apply_search(Talent.objects.all(), "李")
    with django_assert_num_queries(0):  # the search read every talent it ranked: nothing left to count
        assert result.count() == 2
        assert result.order_by().values("pk")[:1].count() == 1
    assert result.filter(work_unit="清华大学").count() == 1  # filtered afterwards: counted by the database
    in_scope = search.apply_search(Talent.objects.restrict(yanhu_officer, "view"), "李")
    with django_assert_num_queries(1):
        assert in_scope.count() == 2


def test_a_broad_query_reads_its_page_in_the_form_its_range_suits(broad, yanhu_officer, monkeypatch):
    if connection.vendor != "sqlite":
        result = search.apply_search(Talent.objects.restrict(yanhu_officer, "view"), "李")
        sql = str(result.query)
        assert "IN (SELECT" in sql and "EXISTS" not in sql  # PostgreSQL chooses the join itself
        with CaptureQueriesContext(connection) as queries:
            assert names(result[1:3]) == ["李三", "李二"]
        ids, rows = (query["sql"] for query in queries.captured_queries)  # a page's ids, then their rows
        assert "talents_talentsearchterm" in ids and '"region_id" IN' in ids
        assert "talents_talentsearchterm" not in rows and '"region_id" IN' in rows  # still in scope
        later = result.filter(work_unit="北京大学")  # a filter after the search stays on the rows too
        with CaptureQueriesContext(connection) as queries:
            assert names(later[1:3]) == ["李三", "李二"]
        assert '"work_unit" =' in queries.captured_queries[1]["sql"]
        return
    assert "EXISTS" not in str(search.apply_search(Talent.objects.all(), "李").query)
    monkeypatch.setattr(search, "SQLITE_IN_LIMIT", 3)  # a range of more entries than this: walked
    sql = str(search.apply_search(Talent.objects.all(), "李").query)
    assert "EXISTS" in sql and "IN (SELECT" not in sql


def test_a_capped_count_is_exact_when_the_first_entries_repeat_a_talent(broad):
    talent("周舟", skills="la1 la2 la3 la4 la5 la6 la7 la8")  # eight terms first in the range of "l"
    result = search.apply_search(Talent.objects.all(), "l")
    assert result.count() == 7  # 周舟 and the six 李
    assert result.order_by().values("pk")[:4].count() == 4
    assert result.order_by().values("pk")[:7].count() == 7
    assert result.order_by().values("pk")[:20].count() == 7


# --- the index serves the range -----------------------------------------------------------------------------
def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: ask whether the index *can* serve
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


def test_a_prefix_is_an_index_range_on_both_databases(people):
    plan = _plan(TalentSearchTerm.objects.filter(search._prefix("李")).values("talent_id"))
    if connection.vendor == "postgresql":
        assert "Seq Scan" not in plan and ("Index Only Scan using talents_term_idx" in plan
                                           or "Bitmap Index Scan on talents_term_idx" in plan)
        assert "Index Cond:" in plan and ">= '李'::text" in plan
    else:
        assert "USING COVERING INDEX talents_term_idx (term>? AND term<?)" in plan
    per_talent = _plan(TalentSearchTerm.objects.filter(search._prefix("li"), talent_id=people["liqiang"].pk))
    assert "talents_term_talent_idx" in per_talent


def test_a_countys_talents_are_read_newest_first_from_an_index(people):
    in_county = Talent.objects.filter(region_id__in=[Region.objects.get(code="140802").pk])
    plan = _plan(in_county.order_by("-pk").values("pk")[:5])
    assert "talents_region_id_idx" in plan and "TEMP B-TREE" not in plan and "Sort" not in plan
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Talent._meta.db_table)
    # One index leads with the region for the county's rows in id order, not one more beside it.
    leading = sorted(c["columns"] for c in constraints.values() if c["index"] and c["columns"][0] == "region_id")
    assert leading == [["region_id", "id"], ["region_id", "name", "id"]]


def test_sqlite_keeps_a_page_cache_for_the_index_pages_a_search_walks(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's own page cache")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == -16384  # KiB


def test_the_term_column_compares_by_code_point(refdata):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_name = 'talents_talentsearchterm' AND column_name = 'term'")
            assert cursor.fetchone()[0] == "C"
    talent("Zoe")
    talent("zoë")
    talent("张三")
    # Upper case is folded; everything starting with "zo" and nothing else is in the range.
    assert found("zo") == {"Zoe", "zoë"}
    assert found("zoe") == {"Zoe"}


# --- bulk indexing --------------------------------------------------------------------------------------------
def test_index_bulk_writes_the_same_terms_as_one_by_one(refdata):
    from rencai.talents.models import Tag

    people = [talent(f"孙{given}", index=False, work_unit="运城学院", research_fields="果树栽培") for given in "甲乙丙"]
    people[0].tags.add(Tag.objects.create(name="乡贤"))
    written = search.index_bulk(people, batch=2)
    assert written == TalentSearchTerm.objects.count()
    assert found("乡贤") == {"孙甲"}
    assert found("果树") == {"孙甲", "孙乙", "孙丙"}
    before = sorted(TalentSearchTerm.objects.filter(talent_id=people[1].pk).values_list("term", "kind"))
    assert before == sorted(search.terms_for(people[1]))
    search.index_bulk(people)  # again: replaced, not doubled
    assert TalentSearchTerm.objects.count() == written


def test_deferred_indexes_builds_them_again(refdata):
    with search.deferred_indexes():
        talent("冯唐")
    assert found("冯唐") == {"冯唐"}
    plan = _plan(TalentSearchTerm.objects.filter(search._prefix("冯")).values("talent_id"))
    assert "talents_term_idx" in plan


# --- the region copied into the index -------------------------------------------------------------------
def _regions(talent_id) -> set[int]:
    return set(TalentSearchTerm.objects.filter(talent_id=talent_id).values_list("region_id", flat=True))


def test_terms_carry_their_talents_region_however_they_are_written(refdata):
    hejin = Region.objects.get(code="140882")
    person = talent("秦岭", work_unit="运城学院")
    assert _regions(person.pk) == {person.region_id}
    person.region = hejin  # moved to another county: every save indexes the talent again
    person.save(update_fields=["region"])
    search.index_talent(person)
    assert _regions(person.pk) == {hejin.pk}
    others = [talent(f"秦{given}", index=False, work_unit="运城学院") for given in "甲乙"]
    search.index_bulk(Talent.objects.filter(pk__in=[t.pk for t in others]).only("id", "name", "work_unit"))
    assert {region for t in others for region in _regions(t.pk)} == {others[0].region_id}  # read when deferred
    late = talent("秦丙", index=False, county="140882")
    search.write_terms([(term, late.pk, kind, late.region_id) for term, kind in search.terms_for(late, ())])
    assert _regions(late.pk) == {hejin.pk}


def test_it_reads_the_regions_a_query_is_confined_to(people, yanhu_officer):
    yanhu = Region.objects.get(code="140802")
    in_scope = Talent.objects.restrict(yanhu_officer, "view")
    regions, only = search._region_conditions(in_scope)
    assert yanhu.pk in regions and only
    assert search._region_conditions(in_scope.filter(region=yanhu)) == ((yanhu.pk,), True)
    assert search._region_conditions(in_scope.filter(kind="native"))[1] is False
    assert search._region_conditions(Talent.objects.all()) == (None, False)
    from django.db.models import Q

    assert search._region_conditions(Talent.objects.filter(Q(region=yanhu) | Q(kind="native"))) == (None, False)


def test_a_broad_query_in_a_county_is_counted_from_the_countys_part_of_the_index(broad, yanhu_officer, monkeypatch):
    talent("周北", work_unit="李家庄小学")  # found by 李 through the unit, not the name
    talent("李五", county="140882")  # out of scope
    in_scope = Talent.objects.restrict(yanhu_officer, "view")
    result = search.apply_search(in_scope, "李")
    assert result._search_regions is not None
    with CaptureQueriesContext(connection) as queries:
        counts = [result.order_by().values("pk")[:cap].count() for cap in (None, 3, 7, 8)]
    assert counts == [7, 3, 7, 7]
    assert all("talents_talent\"" not in query["sql"] for query in queries.captured_queries)  # the index alone
    if connection.vendor == "sqlite":
        plan = _plan(TalentSearchTerm.objects.filter(search._prefix("李"), region_id__in=result._search_regions)
                     .values("talent_id"))
        assert "talents_term_region_idx" in plan
    else:  # on a table this small PostgreSQL's choice says nothing about a registry's; the index is there
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, TalentSearchTerm._meta.db_table)
        assert constraints["talents_term_region_idx"]["columns"] == ["region_id", "term", "talent_id"]
    # The same rows and order as without the region's copy (the scope alone narrowing them).
    plain = Talent.objects.filter(pk__in=[t.pk for t in search.apply_search(Talent.objects.all(), "李")])
    assert list(result) == list(plain.filter(pk__in=in_scope).order_by("-pk"))
    page = search.apply_search(in_scope, "李")[1:3]
    with CaptureQueriesContext(connection) as queries:  # a page's ids, then their rows, on both databases
        assert names(page) == ["李四", "李三"]  # after 周北, the newest
    ids, rows = (query["sql"] for query in queries.captured_queries)
    assert "talents_talentsearchterm" in ids and "talents_talentsearchterm" not in rows
    filtered = search.apply_search(in_scope.filter(kind="native"), "李")
    assert filtered._search_regions is None and filtered.count() == 7  # other filters: counted on the rows
