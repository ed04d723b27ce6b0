"""Signing in and out: the login page, lock-out, unknown names, disabled accounts, idle expiry."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from rencai.core.middleware import IdleTimeoutMiddleware
from rencai.core.models import AuditEntry, User
from rencai.core.models.audit import AuditAction
from rencai.core.testing import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password, **extra})


@pytest.fixture
def staff(city_staff):
    return city_staff


def test_it_shows_the_login_page(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body and 'type="submit"' in body
    assert "登录" in body


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_it_signs_in_and_audits_the_login(client, staff):
    response = sign_in(client, "city_staff")
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN).latest("id")
    assert entry.actor_id == staff.pk and entry.object_id == str(staff.pk)
    assert entry.ip_address == "127.0.0.1"


def test_it_follows_a_local_next_but_not_another_site(client, staff):
    assert sign_in(client, "city_staff", next="/accounts/").url == "/accounts/"
    client.logout()
    assert sign_in(client, "city_staff", next="https://evil.example/").url == reverse("home")


def test_it_refuses_a_wrong_password_and_audits_it(client, staff):
    response = sign_in(client, "city_staff", "Wrong-password-1")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).latest("id")
    assert entry.object_id == str(staff.pk) and entry.actor_name == "city_staff" and entry.message == "密码错误"
    staff.refresh_from_db()
    assert staff.failed_login_count == 1


def test_it_answers_an_unknown_username_like_a_wrong_password_and_audits_it(client, staff):
    unknown = sign_in(client, "nobody-here", "Wrong-password-1")
    known = sign_in(client, "city_staff", "Wrong-password-1")
    assert unknown.status_code == known.status_code == 200

    def error_box(response):
        body = response.content.decode()
        start = body.index('data-testid="login-error"')
        return body[start : body.index("</div>", start)]

    assert error_box(unknown) == error_box(known)
    entry = AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, actor_name="nobody-here").get()
    assert entry.actor_id is None and entry.message == "用户名不存在"


def test_it_locks_the_account_after_five_failures(client, staff, settings):
    assert settings.LOCKOUT_ATTEMPTS == 5 and settings.LOCKOUT_MINUTES == 15
    for _ in range(4):
        response = sign_in(client, "city_staff", "Wrong-password-1")
        assert "账户已被锁定" not in response.content.decode()
    response = sign_in(client, "city_staff", "Wrong-password-1")
    body = response.content.decode()
    assert "账户已被锁定" in body and "15 分钟后再试" in body
    staff.refresh_from_db()
    assert staff.is_locked
    locked = AuditEntry.objects.filter(action=AuditAction.LOCKED).get()
    assert locked.object_id == str(staff.pk)
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, object_id=str(staff.pk)).count() == 5

    # The right password does not open a locked account, and the message says for how long.
    response = sign_in(client, "city_staff")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "账户已被锁定" in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).latest("id").message == "账户锁定期间尝试登录"

    later = timezone.now() + timedelta(minutes=10)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = sign_in(client, "city_staff")
        assert "5 分钟后再试" in response.content.decode()

    # Fifteen minutes on, the lock has run out.
    later = timezone.now() + timedelta(minutes=15, seconds=5)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = sign_in(client, "city_staff")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(staff.pk)


def test_a_success_resets_the_failure_count(client, staff):
    for _ in range(4):
        sign_in(client, "city_staff", "Wrong-password-1")
    sign_in(client, "city_staff")
    staff.refresh_from_db()
    assert staff.failed_login_count == 0
    client.logout()
    for _ in range(4):
        sign_in(client, "city_staff", "Wrong-password-1")
    staff.refresh_from_db()
    assert not staff.is_locked


def test_unknown_usernames_are_locked_out_the_same_way(client, refdata):
    for _ in range(4):
        response = sign_in(client, "ghost-account", "Wrong-password-1")
        assert "用户名或密码不正确" in response.content.decode()
    response = sign_in(client, "ghost-account", "Wrong-password-1")
    assert "账户已被锁定" in response.content.decode()


def test_a_disabled_user_cannot_sign_in(client, refdata):
    user = make_user("retired", roles=["city_staff"], regions=["140800"], is_active=False)
    response = sign_in(client, user.username)
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "已停用" in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED, object_id=str(user.pk)).exists()
    # Without the right password nothing tells that the account exists and is disabled.
    assert "已停用" not in sign_in(client, user.username, "Wrong-password-1").content.decode()


def test_a_disabled_users_open_session_stops_working(client, staff):
    sign_in(client, "city_staff")
    assert client.get(reverse("home")).status_code == 200
    User.objects.filter(pk=staff.pk).update(is_active=False)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_logout_needs_a_post_and_is_audited(client, staff):
    sign_in(client, "city_staff")
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action=AuditAction.LOGOUT).latest("id")
    assert entry.actor_id == staff.pk and entry.message == "主动退出"


def test_it_ends_a_session_idle_for_thirty_minutes(client, staff, settings):
    assert settings.IDLE_TIMEOUT_MINUTES == 30
    sign_in(client, "city_staff")
    assert client.get(reverse("home")).status_code == 200

    # 29 minutes idle: still signed in.
    with mock.patch("rencai.core.middleware.time.time", return_value=client.session[IdleTimeoutMiddleware.SESSION_KEY] + 29 * 60):
        assert client.get(reverse("home")).status_code == 200

    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] = time.time() - 31 * 60
    session.save()
    response = client.get(reverse("account"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login")) and "idle=1" in response.url and "next=%2Faccounts%2F" in response.url
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action=AuditAction.LOGOUT).latest("id")
    assert entry.actor_id == staff.pk and "空闲" in entry.message
    assert "自动退出" in client.get(response.url).content.decode()


def test_idle_expiry_redirects_htmx_requests_by_header(client, staff):
    sign_in(client, "city_staff")
    client.get(reverse("home"))
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] -= 31 * 60
    session.save()
    response = client.get(reverse("home"), headers={"HX-Request": "true"})
    assert response.status_code == 204 and response["HX-Redirect"].startswith(reverse("login"))


def test_background_polling_does_not_keep_an_idle_session_alive(client, staff):
    sign_in(client, "city_staff")
    client.get(reverse("home"))
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] -= 20 * 60
    session.save()
    before = client.session[IdleTimeoutMiddleware.SESSION_KEY]
    # A progress bar polling by itself: answered, but the idle clock keeps running.
    assert client.get(reverse("home"), headers={"X-Rencai-Background": "1"}).status_code == 200
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] == before
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] -= 11 * 60
    session.save()
    response = client.get(reverse("home"), headers={"X-Rencai-Background": "1"})
    assert response.status_code == 302 and "idle=1" in response.url
    # The user's own request, by contrast, does count as activity.
    sign_in(client, "city_staff")
    client.get(reverse("home"))
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] -= 20 * 60
    session.save()
    stale = client.session[IdleTimeoutMiddleware.SESSION_KEY]
    client.get(reverse("home"))
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] > stale
