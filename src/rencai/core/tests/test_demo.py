"""Demo data: the same seed gives the same data; ``--if-empty`` never loads twice."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from rencai.core.models import AuditEntry, OrgUnit, Region, User
from rencai.core.testing import PASSWORD
from rencai.core.validators import validate_mobile
from rencai.demo import run_demo

pytestmark = pytest.mark.django_db


def _generated(seed: int) -> tuple[list[tuple], list[tuple]]:
    """What a run with ``seed`` makes, rolled back afterwards."""
    with transaction.atomic():
        run_demo(seed=seed, password=PASSWORD)
        units = [
            (u.region.code, u.name, u.kind, u.contact_name, u.contact_mobile, u.address)
            for u in OrgUnit.objects.select_related("region").order_by("region__code", "name")
        ]
        users = [
            (u.username, u.full_name, tuple(sorted(r.code for r in u.roles.all())),
             tuple(sorted(r.code for r in u.regions.all())))
            for u in User.objects.prefetch_related("roles", "regions").order_by("username")
        ]
        transaction.set_rollback(True)
    return units, users


def test_the_same_seed_gives_the_same_data(refdata):
    first, second, other = _generated(7), _generated(7), _generated(8)
    assert first == second
    assert first[0] and len(first[1]) == 6
    # Another seed gives other names and numbers: the comparison above can fail.
    assert [u[3] for u in first[0]] != [u[3] for u in other[0]]
    assert first[1] == other[1]  # the accounts are the personas, whatever the seed


def test_it_makes_org_units_for_the_city_and_every_county(refdata):
    run_demo(seed=1, password=PASSWORD)
    counties = Region.objects.filter(parent__code="140800", level__in=["county", "zone"])
    for county in counties:
        assert OrgUnit.objects.filter(region=county, kind="talent_office", name=f"{county.name}人才办").exists()
    assert OrgUnit.objects.filter(region__code="140800", kind="talent_office").exists()
    assert OrgUnit.objects.filter(region__code="140802").count() >= 4
    for unit in OrgUnit.objects.all():
        assert validate_mobile(unit.contact_mobile) == unit.contact_mobile
        assert unit.contact_mobile.startswith("1700000")
        assert unit.contact_name


def test_the_demo_accounts_are_the_personas_with_one_password(refdata):
    out = StringIO()
    call_command("demo", stdout=out)
    password = re.search(r"their password \(shown only now\): (\S+)", out.getvalue()).group(1)
    yanhu = User.objects.get(username="demo_yanhu")
    assert [r.code for r in yanhu.roles.all()] == ["county_officer"]
    assert [r.code for r in yanhu.regions.all()] == ["140802"]
    assert [r.code for r in User.objects.get(username="demo_hejin").regions.all()] == ["140882"]
    assert User.objects.get(username="demo_leader").roles.get().code == "leader"
    admins = {u.username: u.roles.get().code for u in User.objects.filter(username__in=["demo_security_admin", "demo_audit_admin"])}
    assert admins == {"demo_security_admin": "security_admin", "demo_audit_admin": "audit_admin"}
    assert all(User.objects.get(username=name).check_password(password) for name in ["demo_yanhu", "demo_audit_admin"])


def test_if_empty_loads_once(refdata):
    first = StringIO()
    call_command("demo", "--if-empty", stdout=first)
    units, users = OrgUnit.objects.count(), User.objects.count()
    assert units > 50
    second = StringIO()
    call_command("demo", "--if-empty", stdout=second)
    assert "nothing loaded" in second.getvalue()
    assert "password" not in second.getvalue()
    assert (OrgUnit.objects.count(), User.objects.count()) == (units, users)
    # The run is one audit event, not one per row; it is also what marks the data as loaded.
    assert AuditEntry.objects.filter(object_type="demo").count() == 1
    assert not AuditEntry.objects.filter(object_type="core.orgunit").exists()


def test_if_empty_loads_nothing_into_a_database_with_data_of_its_own(refdata):
    OrgUnit.objects.create(name="运城市人才办", region=Region.objects.get(code="140800"))
    out = StringIO()
    call_command("demo", "--if-empty", stdout=out)
    assert "nothing loaded" in out.getvalue()
    assert OrgUnit.objects.count() == 1
    assert not AuditEntry.objects.filter(object_type="demo").exists()


def test_a_second_run_without_if_empty_is_refused(refdata):
    call_command("demo", stdout=StringIO())
    units = OrgUnit.objects.count()
    with pytest.raises(CommandError, match="loaded into this database before"):
        call_command("demo", stdout=StringIO())
    assert OrgUnit.objects.count() == units


def test_size_scales_the_data(refdata):
    small, _users = _generated(3)
    with transaction.atomic():
        run_demo(seed=3, size=3, password=PASSWORD)
        large = OrgUnit.objects.count()
        transaction.set_rollback(True)
    assert large > len(small)
