"""The list's filters a dashboard drills down by: each keeps exactly the talents with the value,
「未填写」 (``null``) those that leave the field empty, and none widens a county officer's scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from rencai.talents.filters import TalentFilterSet
from rencai.talents.models import Talent
from rencai.talents.tests.helpers import item, make_talent, region

pytestmark = pytest.mark.django_db


def names(user, **data) -> set[str]:
    filterset = TalentFilterSet({k: str(v) for k, v in data.items()}, queryset=Talent.objects.restrict(user), user=user)
    assert filterset.is_valid(), filterset.errors
    return set(filterset.qs.values_list("name", flat=True))


@pytest.fixture
def talents(city_admin):
    make_talent(city_admin, name="张伟", gender="male", unit_type="university", ethnicity=item("ethnicity", "01"),
                discipline=item("discipline", "310"), work_city=region("140100"))
    make_talent(city_admin, name="李娜", gender="female", unit_type="")
    make_talent(city_admin, name="王芳")
    make_talent(city_admin, name="赵磊", region_code="140882", gender="male", unit_type="university")


def test_each_filter_keeps_its_value_and_null_the_empty_ones(talents, city_staff):
    assert names(city_staff, gender="male") == {"张伟", "赵磊"}
    assert names(city_staff, gender="null") == {"王芳"}
    assert names(city_staff, unit_type="university") == {"张伟", "赵磊"}
    assert names(city_staff, unit_type="null") == {"李娜", "王芳"}
    assert names(city_staff, ethnicity=item("ethnicity", "01").pk) == {"张伟"}
    assert names(city_staff, ethnicity="null") == {"李娜", "王芳", "赵磊"}
    assert names(city_staff, discipline=item("discipline", "310").pk) == {"张伟"}
    assert names(city_staff, work_city=region("140100").pk) == {"张伟"}
    assert names(city_staff, work_city="null") == {"李娜", "王芳", "赵磊"}
    assert names(city_staff, tier="null") == {"张伟", "李娜", "王芳", "赵磊"}
    assert names(city_staff, native_place="null") == set()


def test_the_entry_dates_count_whole_days_in_the_site_time_zone(talents, city_staff):
    moment = timezone.make_aware(dt.datetime(2024, 3, 1, 0, 30))  # just after midnight, local time
    Talent.objects.filter(name="王芳").update(created_at=moment)
    day = moment.date()
    assert names(city_staff, registered_from=day, registered_to=day) == {"王芳"}
    assert names(city_staff, registered_to=day - dt.timedelta(days=1)) == set()
    assert "王芳" not in names(city_staff, registered_from=day + dt.timedelta(days=1))


def test_no_filter_widens_a_county_officers_scope(talents, yanhu_officer):
    assert names(yanhu_officer, gender="male") == {"张伟"}
    assert names(yanhu_officer, unit_type="university") == {"张伟"}
    assert "赵磊" not in names(yanhu_officer, ethnicity="null")
