"""The review queue pages: scope (both records in the user's scope, else 404), masking, merge with
per-field choices, the optimistic lock, 「不是同一人」 through htmx, undo, the background run and
``rencai dedupe``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from rencai.core.jobs import Worker
from rencai.core.models import Job
from rencai.imports.dedupe import run_dedupe
from rencai.imports.models import DuplicatePair, DuplicateStatus, Merge
from rencai.talents import services
from rencai.talents.models import Talent, TalentWork
from rencai.talents.tests.helpers import make_talent

pytestmark = pytest.mark.django_db
BIRTH = dt.date(1985, 3, 12)


@pytest.fixture
def pairs(city_admin):
    """A pair inside 盐湖区, and a pair across 盐湖区 and 河津市."""
    a = make_talent(city_admin, name="张伟", birth_date=BIRTH, gender="male", mobile="13912345678")
    b = make_talent(city_admin, name="章伟", birth_date=BIRTH, gender="male", work_unit="运城市人民医院",
                    work_history=[{"unit": "运城市人民医院", "start": "2012-07"}])
    c = make_talent(city_admin, name="李建国", birth_date=dt.date(1970, 5, 1), gender="male", region_code="140802")
    d = make_talent(city_admin, name="李建国", birth_date=dt.date(1970, 5, 1), gender="male", region_code="140882")
    run_dedupe()
    inside = DuplicatePair.objects.get(left=a, right=b)
    across = DuplicatePair.objects.get(left=c, right=d)
    return inside, across


def test_it_lists_pairs_ranked_for_the_city(client, city_admin, pairs):
    client.force_login(city_admin)
    page = client.get(reverse("duplicate_list")).content.decode()
    assert "张伟" in page and "章伟" in page and "李建国" in page
    assert "同音（拼音相同）" in page


def test_a_county_officer_sees_only_pairs_with_both_records_in_scope(client, yanhu_officer, hejin_officer, pairs):
    inside, across = pairs
    client.force_login(yanhu_officer)
    page = client.get(reverse("duplicate_list")).content.decode()
    assert "章伟" in page and "李建国" not in page
    assert client.get(reverse("duplicate_detail", args=[across.pk])).status_code == 404
    assert client.post(reverse("duplicate_merge", args=[across.pk]), {"left_version": 1, "right_version": 1}).status_code == 404
    assert client.post(reverse("duplicate_distinct", args=[across.pk])).status_code == 404
    client.force_login(hejin_officer)
    assert "李建国" not in client.get(reverse("duplicate_list")).content.decode()
    assert client.get(reverse("duplicate_detail", args=[inside.pk])).status_code == 404


def test_the_comparison_masks_personal_data(client, leader, city_admin, pairs):
    inside, _across = pairs
    client.force_login(leader)
    page = client.get(reverse("duplicate_detail", args=[inside.pk])).content.decode()
    assert "13912345678" not in page and "139****5678" in page
    assert "显示完整" not in page and 'data-testid="merge"' not in page
    client.force_login(city_admin)
    page = client.get(reverse("duplicate_detail", args=[inside.pk])).content.decode()
    assert "13912345678" not in page and "显示完整" in page


def test_a_leader_cannot_merge_or_decide(client, leader, pairs):
    inside, _across = pairs
    client.force_login(leader)
    assert client.post(reverse("duplicate_merge", args=[inside.pk]), {"left_version": 1, "right_version": 1}).status_code == 403
    assert client.post(reverse("duplicate_distinct", args=[inside.pk])).status_code == 403


def test_it_merges_with_the_chosen_values(client, yanhu_officer, pairs):
    inside, _across = pairs
    left, right = inside.left, inside.right
    client.force_login(yanhu_officer)
    response = client.post(reverse("duplicate_merge", args=[inside.pk]), {
        "left_version": left.version, "right_version": right.version, "survivor": "left",
        "field_name": "right", "field_work_unit": "right",
    })
    assert response.status_code == 302 and response["Location"] == reverse("talent_detail", args=[left.pk])
    survivor = Talent.objects.get(pk=left.pk)
    assert survivor.name == "章伟" and survivor.mobile == "13912345678" and survivor.work_unit == "运城市人民医院"
    assert not Talent.objects.filter(pk=right.pk).exists()
    assert list(TalentWork.objects.filter(talent=survivor).values_list("unit", flat=True)) == ["运城市人民医院"]
    merge = Merge.objects.get()
    assert merge.created_by == yanhu_officer and merge.merged_id == right.pk

    page = client.get(reverse("merge_list")).content.decode()
    assert "撤销合并" in page
    client.post(reverse("merge_undo", args=[merge.pk]))
    assert Talent.objects.get(pk=right.pk).name == "章伟"
    assert Talent.objects.get(pk=left.pk).name == "张伟"
    assert list(TalentWork.objects.filter(talent_id=right.pk).values_list("unit", flat=True)) == ["运城市人民医院"]


def test_a_merge_of_records_changed_since_they_were_shown_is_refused(client, city_admin, pairs):
    inside, _across = pairs
    shown = {"left_version": inside.left.version, "right_version": inside.right.version}
    changed = Talent.objects.get(pk=inside.right.pk)
    changed.position = "主任"
    services.save_talent(changed, user=city_admin, confirm_duplicates=True)
    client.force_login(city_admin)
    response = client.post(reverse("duplicate_merge", args=[inside.pk]), shown)
    assert response.status_code == 409
    assert "已被他人修改" in response.content.decode()
    assert Talent.objects.filter(pk__in=[inside.left_id, inside.right_id]).count() == 2
    assert not Merge.objects.exists()


def test_not_the_same_person_through_htmx_is_never_proposed_again(client, city_admin, pairs):
    inside, _across = pairs
    client.force_login(city_admin)
    response = client.post(reverse("duplicate_distinct", args=[inside.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "不再提示" in response.content.decode()
    run_dedupe()
    assert DuplicatePair.objects.get(left=inside.left, right=inside.right).status == DuplicateStatus.DISTINCT
    page = client.get(reverse("duplicate_list")).content.decode()
    assert "章伟" not in page


def test_the_run_is_a_background_job(client, city_admin, yanhu_officer, pairs):
    DuplicatePair.objects.all().delete()
    client.force_login(yanhu_officer)  # a county officer does not refresh the city's queue
    assert client.post(reverse("duplicate_run")).status_code == 403
    client.force_login(city_admin)
    response = client.post(reverse("duplicate_run"), {"threshold": "0.6"})
    job = Job.objects.get(kind="imports.dedupe")
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    assert Worker().run_once() == "succeeded"
    job.refresh_from_db()
    assert job.result["pairs"] == 2 and job.result["threshold"] == 0.6
    assert DuplicatePair.objects.filter(status=DuplicateStatus.PENDING).count() == 2


def test_the_command_line(city_admin, pairs, capsys):
    DuplicatePair.objects.all().delete()
    call_command("dedupe", "--threshold", "0.5")
    assert "发现疑似重复 2 对" in capsys.readouterr().out
    assert DuplicatePair.objects.count() == 2
    with pytest.raises(CommandError):
        call_command("dedupe", "--threshold", "1.5")
