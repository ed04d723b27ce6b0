"""Passwords: each policy rule, maximum age, forced change at first sign-in, the audit."""

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from rencai.core.models import AuditEntry, User
from rencai.core.models.audit import AuditAction
from rencai.core.services.accounts import do_create_user, do_reset_password, generate_password
from rencai.core.testing import PASSWORD

pytestmark = pytest.mark.django_db


def codes(password, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {error.code for error in exc.error_list}
    return set()


def change(client, new, old=PASSWORD, confirm=None):
    return client.post(reverse("password_change"), {
        "old_password": old, "new_password1": new, "new_password2": new if confirm is None else confirm,
    })


# --- the policy, rule by rule -----------------------------------------------------------------------
def test_the_policy_needs_ten_characters():
    assert "password_too_short" in codes("Ab1!efghi")  # nine
    assert codes("Ab1!efghij") == set()  # ten


def test_the_policy_needs_three_of_four_character_classes():
    assert codes("abcdefghijk1") == {"password_classes"}  # two classes
    assert codes("abcdefghijK1") == set()  # lower, upper, digit
    assert codes("abcdefghij!1") == set()  # lower, symbol, digit
    assert codes("ABCDEFGHIJ!x") == set()  # upper, symbol, lower


def test_the_policy_refuses_a_password_like_the_username():
    user = User(username="zhangweiming")
    assert "password_too_similar" in codes("Zhangweiming1", user)
    assert codes("Qingshui-River7", user) == set()


def test_the_policy_refuses_a_common_password():
    assert codes("Password123") == {"password_too_common"}  # long enough, three classes, but common


def test_generated_passwords_meet_the_policy():
    for _ in range(20):
        assert codes(generate_password()) == set()


def test_the_change_page_reports_each_rule(client, city_staff):
    client.force_login(city_staff)
    body = change(client, "Short1!").content.decode()
    assert "至少 10 个字符" in body
    body = change(client, "alllowercaseletters").content.decode()
    assert "至少 3 类" in body
    body = change(client, "City_staff123").content.decode()
    assert "太相似" in body
    body = change(client, "Qingshui-River7", confirm="Qingshui-River8").content.decode()
    assert "两个密码不一致" in body
    body = change(client, "Qingshui-River7", old="Wrong-old-pass1").content.decode()
    assert "旧密码不正确" in body
    body = change(client, PASSWORD).content.decode()
    assert "不能与当前密码相同" in body
    city_staff.refresh_from_db()
    assert city_staff.check_password(PASSWORD)
    assert not AuditEntry.objects.filter(action=AuditAction.PASSWORD_CHANGE).exists()


def test_a_user_changes_their_password_and_it_is_audited(client, city_staff):
    client.force_login(city_staff)
    assert client.get(reverse("password_change")).status_code == 200
    response = change(client, "Qingshui-River7")
    assert response.status_code == 302 and response.url == reverse("account")
    city_staff.refresh_from_db()
    assert city_staff.check_password("Qingshui-River7")
    # Still signed in after the change (the session follows the new password hash).
    assert client.get(reverse("home")).status_code == 200
    entry = AuditEntry.objects.filter(action=AuditAction.PASSWORD_CHANGE).get()
    assert entry.actor_id == city_staff.pk and entry.object_id == str(city_staff.pk)


# --- maximum age --------------------------------------------------------------------------------------
def test_an_expired_password_must_be_changed_before_anything_else(client, city_staff, settings):
    assert settings.PASSWORD_MAX_AGE_DAYS == 90
    User.objects.filter(pk=city_staff.pk).update(password_changed_at=timezone.now() - timedelta(days=89))
    client.force_login(city_staff)
    assert client.get(reverse("home")).status_code == 200

    User.objects.filter(pk=city_staff.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    for url in (reverse("home"), reverse("account"), reverse("totp_setup")):
        response = client.get(url)
        assert response.status_code == 302 and response.url == reverse("password_change")
    page = client.get(reverse("password_change")).content.decode()
    assert "已使用超过 90 天" in page
    assert change(client, "Qingshui-River7").url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.PASSWORD_CHANGE).latest("id").message == "密码过期后修改"


def test_expiry_can_be_turned_off(client, city_staff, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 0
    User.objects.filter(pk=city_staff.pk).update(password_changed_at=timezone.now() - timedelta(days=400))
    client.force_login(city_staff)
    assert client.get(reverse("home")).status_code == 200


# --- forced change ----------------------------------------------------------------------------------
def test_a_new_account_must_change_its_password_at_first_sign_in(client, system_admin, refdata):
    from rencai.core.models import Region, Role

    user, one_time = do_create_user(
        username="newcomer", full_name="新同事", roles=Role.objects.filter(code="city_staff"),
        regions=Region.objects.filter(code="140800"), acting_user=system_admin,
    )
    assert user.must_change_password
    response = client.post(reverse("login"), {"username": "newcomer", "password": one_time})
    assert response.status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("password_change")
    # Only the change page and signing out are open.
    assert client.get(reverse("user_list")).url == reverse("password_change")
    page = client.get(reverse("password_change")).content.decode()
    assert "由管理员设置" in page
    assert change(client, "Qingshui-River7", old=one_time).url == reverse("home")
    user.refresh_from_db()
    assert not user.must_change_password
    assert client.get(reverse("home")).status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.PASSWORD_CHANGE, object_id=str(user.pk)).get().message == (
        "首次登录或重置后修改"
    )


def test_a_reset_password_must_be_changed_too(client, system_admin, city_staff):
    one_time = do_reset_password(city_staff, acting_user=system_admin)
    assert not city_staff.check_password(PASSWORD)
    client.post(reverse("login"), {"username": "city_staff", "password": one_time})
    assert client.get(reverse("home")).url == reverse("password_change")
    assert AuditEntry.objects.filter(action=AuditAction.PASSWORD_RESET, object_id=str(city_staff.pk)).get().actor_id == (
        system_admin.pk
    )


def test_the_gate_sends_htmx_requests_by_header(client, city_staff):
    User.objects.filter(pk=city_staff.pk).update(must_change_password=True)
    client.force_login(city_staff)
    response = client.get(reverse("home"), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("password_change")
