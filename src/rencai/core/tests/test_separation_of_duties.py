"""三员分立: the system, security and audit administrators are three accounts, none of them also
a business role, and none of them reads talent or other business data."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.urls import reverse

from rencai.core.models import OrgUnit, Region, Role
from rencai.core.services import accounts as service
from rencai.core.testing import make_user

pytestmark = pytest.mark.django_db

DUTIES = ["system_admin", "security_admin", "audit_admin"]
BUSINESS = ["city_admin", "city_staff", "county_officer", "leader"]


def roles(*codes):
    return list(Role.objects.filter(code__in=codes))


@pytest.mark.parametrize(("first", "second"), [(a, b) for a in DUTIES for b in DUTIES if a < b])
def test_no_account_holds_two_duties(system_admin, first, second):
    with pytest.raises(ValidationError, match="三种职责须由不同账户担任"):
        service.do_create_user(username="both", full_name="兼任", roles=roles(first, second), acting_user=system_admin)
    target = make_user("target", roles=[first], totp=True)
    with pytest.raises(ValidationError, match="三种职责须由不同账户担任"):
        service.do_update_user(target, full_name="兼任", roles=roles(first, second), regions=[], acting_user=system_admin)
    assert [r.code for r in target.roles.all()] == [first]


@pytest.mark.parametrize("duty", DUTIES)
@pytest.mark.parametrize("business", BUSINESS)
def test_no_administrator_holds_a_business_role(system_admin, duty, business):
    with pytest.raises(ValidationError, match="不能同时担任查看人才数据的业务角色"):
        service.do_create_user(
            username="mixed", full_name="兼任", roles=roles(duty, business),
            regions=Region.objects.filter(code="140800"), acting_user=system_admin,
        )


def test_the_user_form_refuses_combined_duties(client, system_admin):
    client.force_login(system_admin)
    response = client.post(reverse("user_add"), {
        "username": "combo", "full_name": "兼任",
        "roles": [r.pk for r in roles("security_admin", "audit_admin")],
    })
    assert response.status_code == 200 and "三种职责须由不同账户担任" in response.content.decode()
    response = client.post(reverse("user_add"), {
        "username": "combo", "full_name": "兼任", "roles": [r.pk for r in roles("audit_admin", "leader")],
        "regions": [Region.objects.get(code="140800").pk],
    })
    assert "不能同时担任查看人才数据的业务角色" in response.content.decode()
    from rencai.core.models import User

    assert not User.objects.filter(username="combo").exists()


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "audit_admin"])
def test_no_administrator_reads_business_data(request, persona, city_admin):
    admin = request.getfixturevalue(persona)
    OrgUnit.objects.create(name="运城市人才办", region=Region.objects.get(code="140800"))
    assert OrgUnit.objects.restrict(city_admin).count() == 1
    assert not OrgUnit.objects.restrict(admin).exists()
    assert not any(perm.startswith("core.") and "orgunit" in perm for perm in admin.get_all_permissions())


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "audit_admin"])
def test_business_permissions_are_dropped_even_if_roles_were_set_by_hand(request, persona):
    """Separation does not rest on the roles being configured right: the backend drops them."""
    admin = request.getfixturevalue(persona)
    admin.roles.add(Role.objects.get(code="city_admin"))  # bypassing the service, as a bad migration might
    admin = type(admin).objects.get(pk=admin.pk)
    OrgUnit.objects.create(name="盐湖区人才办", region=Region.objects.get(code="140802"))
    assert not OrgUnit.objects.restrict(admin).exists()
    assert not admin.has_perm("core.view_orgunit")


def test_a_duty_role_cannot_be_given_business_permissions(client, security_admin):
    audit_role = Role.objects.get(code="audit_admin")
    view_orgunit = Permission.objects.get(codename="view_orgunit")
    with pytest.raises(ValidationError, match="不能拥有业务数据权限"):
        service.do_update_role(
            audit_role, permissions=[*audit_role.permissions.all(), view_orgunit], all_regions=False,
            can_view_personal=False, acting_user=security_admin,
        )
    client.force_login(security_admin)
    page = client.get(reverse("role_edit", args=[audit_role.pk])).content.decode()
    assert f'value="{view_orgunit.pk}"' not in page  # not even offered
    response = client.post(reverse("role_edit", args=[audit_role.pk]), {
        "permissions": [*audit_role.permissions.values_list("pk", flat=True), view_orgunit.pk],
    })
    assert response.status_code == 200
    assert not audit_role.permissions.filter(pk=view_orgunit.pk).exists()


def test_a_role_held_by_an_administrator_cannot_become_a_business_role(security_admin, system_admin):
    helper = Role.objects.create(code="report_reader", name="报表查看")
    service.do_update_user(system_admin, full_name="系统管理员", roles=[*system_admin.roles.all(), helper],
                           regions=[], acting_user=None)
    view_orgunit = Permission.objects.get(codename="view_orgunit")
    with pytest.raises(ValidationError, match="由管理员（三员）账户担任"):
        service.do_update_role(helper, permissions=[view_orgunit], all_regions=True, can_view_personal=False,
                               acting_user=security_admin)


@pytest.mark.parametrize("persona", ["system_admin", "security_admin"])
def test_only_the_audit_admin_reads_the_audit_log(client, request, persona, audit_admin):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("auditentry_list")).status_code == 403
    client.force_login(audit_admin)
    assert client.get(reverse("auditentry_list")).status_code == 200
    assert client.get(reverse("user_list")).status_code == 403
    assert client.get(reverse("role_list")).status_code == 403


def test_a_duty_role_cannot_be_given_another_duty_s_permissions(security_admin):
    audit_role = Role.objects.get(code="audit_admin")
    change_user = Permission.objects.get(codename="change_user")
    with pytest.raises(ValidationError, match="只能拥有本职责的权限"):
        service.do_update_role(
            audit_role, permissions=[*audit_role.permissions.all(), change_user], all_regions=False,
            can_view_personal=False, acting_user=security_admin,
        )
    assert not audit_role.permissions.filter(pk=change_user.pk).exists()


def test_an_administrator_gets_only_their_duty_s_permissions_whatever_roles_say(system_admin):
    # A plain role carrying the audit administrator's permissions, put on the system
    # administrator by hand: the backend still keeps the duties apart.
    extra = Role.objects.create(code="log_reader", name="日志查看")
    extra.permissions.set(Permission.objects.filter(codename__in=["view_auditentry", "export_auditentry"]))
    system_admin.roles.add(extra)
    system_admin = type(system_admin).objects.get(pk=system_admin.pk)
    assert not system_admin.has_perm("core.view_auditentry")
    assert system_admin.has_perm("core.change_user")
