"""The scorer, blocking and clustering on their own: Chinese-name cases, and precision and recall
on a small seeded registry with known duplicates."""

from __future__ import annotations

import datetime as dt

import pytest

from rencai.imports.dedupe import blocking, linkage, scoring, synthetic
from rencai.imports.dedupe.scoring import score_pair
from rencai.talents.tests.helpers import id_number

BASE = {"name": "张伟华", "gender": "male", "birth_date": dt.date(1985, 3, 12), "native_place_id": 715,
        "work_unit": "运城市人民医院"}


def person(**changes) -> dict:
    return {**BASE, **changes}


def level(a: dict, b: dict, field: str) -> str:
    return score_pair(a, b).evidence[field]["level"]


def test_it_scores_the_same_person_high_and_explains_each_field():
    result = score_pair(person(), person())
    assert result.score > 0.99
    assert result.evidence["name"]["level"] == "exact"
    assert result.evidence["birth_date"]["level"] == "exact"
    assert result.evidence["mobile"]["level"] == "missing"


def test_a_homophone_surname_scores_as_the_same_person():
    a, b = person(name="张伟"), person(name="章伟")
    assert level(a, b, "name") == "pinyin"
    assert score_pair(a, b).score > 0.9


def test_a_homophone_in_the_given_name_and_a_near_sound_are_caught():
    assert level(person(name="王芳月"), person(name="王房月"), "name") == "pinyin"
    # 平翘舌 (zh/z) and 前后鼻音 (ing/in) as southern and northern speakers confuse them
    assert level(person(name="张明"), person(name="臧敏"), "name") == "sound"


def test_a_one_character_typo_in_a_three_character_name_still_matches():
    a, b = person(name="张伟华"), person(name="张伟平")
    assert level(a, b, "name") == "one_char"
    assert score_pair(a, b).score > 0.5


def test_a_missing_or_added_character_is_caught():
    assert level(person(name="张小伟"), person(name="张伟"), "name") == "indel"
    assert level(person(name="欧阳明"), person(name="欧阳小明"), "name") == "indel"


def test_swapped_digits_and_transposed_month_and_day_are_a_birth_date_typo():
    assert level(person(), person(birth_date=dt.date(1985, 3, 21)), "birth_date") == "typo"
    assert level(person(), person(birth_date=dt.date(1985, 12, 3)), "birth_date") == "typo"
    assert level(person(), person(birth_date=dt.date(1958, 3, 12)), "birth_date") == "typo"
    assert level(person(), person(birth_date=dt.date(1990, 7, 1)), "birth_date") == "different"
    assert score_pair(person(), person(birth_date=dt.date(1985, 12, 3))).score > 0.5


def test_the_same_name_is_a_different_person_when_the_rest_disagrees():
    a = person(name="张伟", birth_date=dt.date(1985, 3, 12), native_place_id=715)
    b = person(name="张伟", birth_date=dt.date(1972, 8, 30), native_place_id=716, work_unit="河津铝业有限公司")
    assert score_pair(a, b).score < 0.01


def test_two_different_id_numbers_are_two_people_whatever_else_agrees():
    a = person(id_card=id_number("19850312", seq=12))
    b = person(id_card=id_number("19850312", seq=34))
    result = score_pair(a, b)
    assert result.evidence["id_card"]["level"] == "different"
    assert result.score < 0.01


def test_the_same_id_number_or_mobile_matches_through_the_keyed_hash():
    number = id_number("19850312")
    a = person(id_card=number, name="张伟")
    b = person(id_card=number, name="李强", birth_date=None)
    assert score_pair(a, b).evidence["id_card"]["level"] == "same"
    assert score_pair(a, b).score > 0.99
    c, d = person(mobile="13912345678", birth_date=None), person(mobile="139 1234 5678", birth_date=None)
    assert score_pair(c, d).evidence["mobile"]["level"] == "same"


def test_evidence_holds_no_personal_values():
    result = score_pair(person(id_card=id_number("19850312"), mobile="13912345678"), person(mobile="13912345678"))
    text = repr(result.evidence)
    assert "13912345678" not in text and "19850312" not in text


def test_blocking_brings_typo_pairs_together_without_comparing_everyone():
    rows = [scoring.prepare(person(pk=1)), scoring.prepare(person(pk=2, name="章伟华")),
            scoring.prepare(person(pk=3, name="张华", birth_date=dt.date(1985, 3, 12))),
            scoring.prepare(person(pk=4, name="李强", birth_date=dt.date(1970, 1, 1), native_place_id=716))]
    pairs = set(blocking.decode(blocking.candidate_pairs(rows), len(rows)))
    assert (0, 1) in pairs and (0, 2) in pairs
    assert not any(3 in pair for pair in pairs)


def test_clusters_do_not_chain_two_id_numbers_together():
    # 张伟(A's number) ~ 张伟(no number) ~ 张伟(B's number): the middle joins one of them only.
    rows = [
        (1, "张伟", "male", dt.date(1985, 3, 12), "hash-a", "", "", 715, "", None, 1),
        (2, "张伟", "male", dt.date(1985, 3, 12), "", "", "", 715, "", None, 1),
        (3, "张伟", "male", dt.date(1985, 3, 12), "hash-b", "", "", 715, "", None, 1),
    ]
    result = linkage.link(rows)
    clusters = result.pk_clusters()
    assert len(clusters) == 1 and len(clusters[0]) == 2 and 2 in clusters[0]


def test_pairs_decided_distinct_are_never_joined():
    rows = [(1, "张伟", "male", dt.date(1985, 3, 12), "", "", "", 715, "", None, 1),
            (2, "张伟", "male", dt.date(1985, 3, 12), "", "", "", 715, "", None, 1)]
    assert linkage.link(rows).pk_clusters() == [[1, 2]]
    assert linkage.link(rows, distinct={(1, 2)}).pk_clusters() == []


@pytest.mark.parametrize("seed", [7, 2026])
def test_precision_and_recall_on_a_generated_registry(seed):
    people = synthetic.generate(3000, seed=seed)
    truth = {index: p.entity for index, p in enumerate(people)}
    result = linkage.link(synthetic.as_records(people))
    precision, recall, _hits, _predicted, true_pairs = linkage.pairwise_quality(result.pk_clusters(), truth)
    assert true_pairs == 150
    assert precision >= 0.99
    assert recall >= 0.93


def test_the_generator_is_deterministic():
    assert synthetic.generate(200, seed=3) == synthetic.generate(200, seed=3)
    assert synthetic.generate(200, seed=3) != synthetic.generate(200, seed=4)
