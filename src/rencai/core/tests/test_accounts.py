"""User management (系统管理员), roles and the security policy (安全管理员): pages and services."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from rencai.core.models import AuditEntry, Region, Role, User
from rencai.core.models.audit import AuditAction
from rencai.core.roles import sync_builtin_roles
from rencai.core.services import accounts as service
from rencai.core.testing import make_user

pytestmark = pytest.mark.django_db


def role(code):
    return Role.objects.get(code=code)


def region(code):
    return Region.objects.get(code=code)


# --- who may open which page ------------------------------------------------------------------------
USER_PAGES = ["user_list", "user_add"]
ROLE_PAGES = ["role_list", "security_policy"]


@pytest.mark.parametrize("url_name", USER_PAGES + ROLE_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, refdata, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["city_admin", "yanhu_officer", "leader", "audit_admin"])
def test_people_without_the_permission_get_403_and_it_is_audited(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    for url in (reverse("user_list"), reverse("user_add"), reverse("role_list"), reverse("role_edit", args=[1])):
        assert client.get(url).status_code == 403
    denied = AuditEntry.objects.filter(action=AuditAction.ACCESS_DENIED, actor=user)
    assert denied.count() == 4 and denied.filter(object_repr=reverse("user_list")).exists()


def test_the_security_admin_reads_users_but_does_not_change_them(client, security_admin, city_staff):
    client.force_login(security_admin)
    assert client.get(reverse("user_list")).status_code == 200
    page = client.get(reverse("user_detail", args=[city_staff.pk])).content.decode()
    assert "city_staff" in page and reverse("user_edit", args=[city_staff.pk]) not in page
    assert client.get(reverse("user_edit", args=[city_staff.pk])).status_code == 403
    assert client.post(reverse("user_disable", args=[city_staff.pk])).status_code == 403
    city_staff.refresh_from_db()
    assert city_staff.is_active


def test_the_system_admin_reads_roles_but_does_not_change_them(client, system_admin):
    client.force_login(system_admin)
    assert client.get(reverse("role_list")).status_code == 200
    assert client.get(reverse("role_edit", args=[role("leader").pk])).status_code == 403


# --- the user list --------------------------------------------------------------------------------
def test_the_user_list_searches_and_filters(client, system_admin, city_staff, yanhu_officer, hejin_officer, leader):
    make_user("old_hand", roles=["city_staff"], regions=["140800"], full_name="老同事", is_active=False)
    client.force_login(system_admin)

    def names(**params):
        body = client.get(reverse("user_list"), params).content.decode()
        return set(re.findall(r'href="/users/\d+/">([^<]+)<', body))

    assert {"city_staff", "yanhu", "hejin", "leader", "sysadmin", "old_hand"} <= names()
    assert names(q="盐湖") == {"yanhu"}
    assert names(role=role("county_officer").pk) == {"yanhu", "hejin"}
    # 盐湖区 is covered by its own officer and by everyone assigned the whole city.
    assert names(region=region("140802").pk) == {"yanhu", "city_staff", "leader", "old_hand"}
    assert names(is_active="false") == {"old_hand"}


def test_the_user_list_query_count_does_not_grow_with_users(client, system_admin, django_assert_max_num_queries):
    for i in range(12):
        make_user(f"bulk{i}", roles=["city_staff"], regions=["140800"])
    client.force_login(system_admin)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("user_list"))
    assert response.status_code == 200 and "bulk11" in response.content.decode()


# --- adding and editing ---------------------------------------------------------------------------
def test_the_system_admin_adds_a_user_and_sees_the_password_once(client, system_admin):
    client.force_login(system_admin)
    assert client.get(reverse("user_add")).status_code == 200
    response = client.post(reverse("user_add"), {
        "username": "wangfang", "full_name": "王芳", "email": "wf@example.cn", "phone": "0359-1234567",
        "roles": [role("county_officer").pk], "regions": [region("140802").pk],
    })
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = re.search(r'data-testid="one-time-password">([^<]+)<', response.content.decode()).group(1)
    from html import unescape

    password = unescape(password)
    user = User.objects.get(username="wangfang")
    assert user.check_password(password) and user.must_change_password
    assert [r.code for r in user.roles.all()] == ["county_officer"]
    assert [r.code for r in user.regions.all()] == ["140802"]
    assert password not in client.get(reverse("user_detail", args=[user.pk])).content.decode()
    created = AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="core.user", object_id=str(user.pk)).get()
    assert created.actor_id == system_admin.pk and created.changes["username"] == [None, "wangfang"]
    assert "password" not in created.changes
    assert AuditEntry.objects.filter(action=AuditAction.ROLE_ASSIGN, object_id=str(user.pk)).exists()
    assert password not in str(list(AuditEntry.objects.values_list("changes", "message")))


def test_the_form_offers_the_citys_regions_not_the_whole_country(client, system_admin):
    client.force_login(system_admin)
    body = client.get(reverse("user_add")).content.decode()
    assert "盐湖区" in body and "河津市" in body and "海淀区" not in body
    assert "海淀区" not in client.get(reverse("user_list")).content.decode()


def test_a_county_role_needs_a_region(client, system_admin):
    client.force_login(system_admin)
    response = client.post(reverse("user_add"), {
        "username": "noregion", "full_name": "无地区", "roles": [role("county_officer").pk],
    })
    assert response.status_code == 200 and "请至少选择一个地区" in response.content.decode()
    assert not User.objects.filter(username="noregion").exists()


def test_a_username_is_unique(client, system_admin, city_staff):
    client.force_login(system_admin)
    response = client.post(reverse("user_add"), {"username": "city_staff", "full_name": "重名"})
    assert "该用户名已被使用" in response.content.decode()


def test_the_system_admin_edits_roles_and_regions(client, system_admin, yanhu_officer):
    client.force_login(system_admin)
    assert client.get(reverse("user_edit", args=[yanhu_officer.pk])).status_code == 200
    response = client.post(reverse("user_edit", args=[yanhu_officer.pk]), {
        "full_name": "盐湖区专员（兼河津）", "email": "", "phone": "",
        "roles": [role("county_officer").pk], "regions": [region("140802").pk, region("140882").pk],
    })
    assert response.status_code == 302 and response.url == reverse("user_detail", args=[yanhu_officer.pk])
    yanhu_officer = User.objects.get(pk=yanhu_officer.pk)
    assert yanhu_officer.full_name == "盐湖区专员（兼河津）"
    assert sorted(r.code for r in yanhu_officer.regions.all()) == ["140802", "140882"]
    assert {r.code for r in yanhu_officer.scope_regions()} == {"140802", "140882"}
    changes = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_id=str(yanhu_officer.pk), object_type="core.user")
    assert any("full_name" in e.changes for e in changes)
    assert any("regions" in e.changes for e in changes)


def test_a_region_includes_those_under_it(refdata):
    officer = make_user("city_officer", roles=["county_officer"], regions=["140800"])
    codes = {r.code for r in officer.scope_regions()}
    assert {"140800", "140802", "140882"} <= codes and "140000" not in codes


# --- disable, enable, reset, unlock --------------------------------------------------------------------
def test_disable_and_enable_a_user(client, system_admin, city_staff):
    client.force_login(system_admin)
    assert "停用后该账户不能登录" in client.get(reverse("user_disable", args=[city_staff.pk])).content.decode()
    response = client.post(reverse("user_disable", args=[city_staff.pk]))
    assert response.status_code == 302
    city_staff.refresh_from_db()
    assert not city_staff.is_active
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_id=str(city_staff.pk)).latest("id")
    assert entry.changes == {"is_active": [True, False]} and entry.actor_id == system_admin.pk
    client.post(reverse("user_enable", args=[city_staff.pk]))
    city_staff.refresh_from_db()
    assert city_staff.is_active


def test_an_administrator_cannot_disable_themselves(client, system_admin):
    make_user("sysadmin2", roles=["system_admin"], totp=True)
    client.force_login(system_admin)
    response = client.post(reverse("user_disable", args=[system_admin.pk]), follow=True)
    assert "不能停用自己的账户" in response.content.decode()
    system_admin.refresh_from_db()
    assert system_admin.is_active


def test_the_last_system_admin_cannot_be_disabled_or_lose_the_role(system_admin, refdata):
    other = make_user("sysadmin2", roles=["system_admin"], totp=True)
    # Two of them: one may go.
    service.do_disable_user(other, acting_user=system_admin)
    with pytest.raises(ValidationError, match="最后一个启用的系统管理员"):
        service.do_update_user(system_admin, full_name="x", roles=[], regions=[], acting_user=None)
    with pytest.raises(ValidationError, match="最后一个启用的系统管理员"):
        service.do_disable_user(system_admin, acting_user=None)
    system_admin.refresh_from_db()
    assert system_admin.is_active and system_admin.roles.filter(code="system_admin").exists()
    # With a second active one again, the first may hand over.
    service.do_enable_user(other, acting_user=None)
    service.do_update_user(system_admin, full_name="x", roles=[], regions=[], acting_user=None)
    assert not system_admin.roles.exists()


def test_the_last_system_admin_is_protected_on_the_page(client, system_admin):
    client.force_login(system_admin)
    response = client.post(reverse("user_edit", args=[system_admin.pk]), {
        "full_name": "系统管理员", "roles": [role("security_admin").pk],
    })
    assert response.status_code == 200 and "最后一个启用的系统管理员" in response.content.decode()
    assert system_admin.roles.filter(code="system_admin").exists()


def test_reset_password_shows_a_new_one_once_and_forces_a_change(client, system_admin, city_staff):
    client.force_login(system_admin)
    response = client.post(reverse("user_reset_password", args=[city_staff.pk]))
    assert response.status_code == 200
    from html import unescape

    password = unescape(re.search(r'data-testid="one-time-password">([^<]+)<', response.content.decode()).group(1))
    city_staff.refresh_from_db()
    assert city_staff.check_password(password) and city_staff.must_change_password
    assert AuditEntry.objects.filter(action=AuditAction.PASSWORD_RESET, object_id=str(city_staff.pk)).exists()


def test_a_reset_password_ends_the_users_open_sessions(client, system_admin, city_staff):
    from django.test import Client

    other = Client()
    other.force_login(city_staff)
    assert other.get(reverse("home")).status_code == 200
    service.do_reset_password(city_staff, acting_user=system_admin)
    assert other.get(reverse("home")).status_code == 302


def test_unlock_a_locked_user(client, system_admin, city_staff):
    from datetime import timedelta

    from django.utils import timezone

    User.objects.filter(pk=city_staff.pk).update(locked_until=timezone.now() + timedelta(minutes=10), failed_login_count=2)
    client.force_login(system_admin)
    assert "解除锁定" in client.get(reverse("user_detail", args=[city_staff.pk])).content.decode()
    client.post(reverse("user_unlock", args=[city_staff.pk]))
    city_staff.refresh_from_db()
    assert not city_staff.is_locked and city_staff.failed_login_count == 0


def test_reset_two_factor(client, system_admin, security_admin):
    client.force_login(system_admin)
    client.post(reverse("user_reset_totp", args=[security_admin.pk]))
    security_admin.refresh_from_db()
    assert not security_admin.totp_enabled
    entry = AuditEntry.objects.filter(action=AuditAction.TOTP, object_id=str(security_admin.pk)).get()
    assert entry.actor_id == system_admin.pk and entry.message == "管理员重置两步验证"


def test_services_check_the_acting_users_permission(city_admin, city_staff):
    with pytest.raises(PermissionDenied):
        service.do_disable_user(city_staff, acting_user=city_admin)
    with pytest.raises(PermissionDenied):
        service.do_update_role(role("leader"), permissions=[], all_regions=True, can_view_personal=False,
                               acting_user=city_admin)


# --- roles ------------------------------------------------------------------------------------------
def test_the_role_pages_show_permissions_grouped(client, security_admin):
    client.force_login(security_admin)
    body = client.get(reverse("role_list")).content.decode()
    assert "系统管理员" in body and "市级管理员" in body
    body = client.get(reverse("role_detail", args=[role("city_admin").pk])).content.decode()
    assert "组织机构" in body and "业务数据" in body
    body = client.get(reverse("role_edit", args=[role("leader").pk])).content.decode()
    assert 'name="permissions"' in body and 'name="all_regions"' in body and 'name="can_view_personal"' in body


def _perm(label):
    app, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app, codename=codename)


def test_removing_a_builtin_permission_is_remembered_and_never_re_added(client, security_admin):
    leader = role("leader")
    kept = [p for p in leader.permissions.all() if p.codename != "view_orgunit"]
    client.force_login(security_admin)
    response = client.post(reverse("role_edit", args=[leader.pk]), {
        "all_regions": "on", "permissions": [p.pk for p in kept],
    })
    assert response.status_code == 302
    leader.refresh_from_db()
    assert leader.revoked_permissions == ["core.view_orgunit"]
    assert not leader.permissions.filter(codename="view_orgunit").exists()
    sync_builtin_roles()  # what every migrate runs
    assert not leader.permissions.filter(codename="view_orgunit").exists()
    assert AuditEntry.objects.filter(object_type="core.role", object_id=str(leader.pk), actor=security_admin).exists()

    # Granting it back forgets the revocation.
    service.do_update_role(leader, permissions=[*kept, _perm("core.view_orgunit")], all_regions=True,
                           can_view_personal=False, acting_user=security_admin)
    leader.refresh_from_db()
    assert leader.revoked_permissions == [] and leader.permissions.filter(codename="view_orgunit").exists()


def test_role_scope_and_clearance_are_edited(security_admin):
    officer = role("county_officer")
    service.do_update_role(officer, permissions=officer.permissions.all(), all_regions=False,
                           can_view_personal=False, acting_user=security_admin)
    officer.refresh_from_db()
    assert not officer.can_view_personal
    entry = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="core.role", object_id=str(officer.pk)).latest("id")
    assert entry.changes["can_view_personal"] == [True, False]


def test_the_security_policy_page_shows_the_settings(client, security_admin, settings):
    settings.LOCKOUT_MINUTES = 20
    client.force_login(security_admin)
    body = client.get(reverse("security_policy")).content.decode()
    assert "10 位" in body and "至少 3 类" in body and "90 天" in body
    assert "连续 5 次失败后锁定 20 分钟" in body and "30 分钟无操作" in body
    assert "必须启用" in body
