"""Two-factor sign-in: enrolment with a locally drawn QR code, the sign-in step, no replay,
administrators forced to enrol."""

import re
from datetime import timedelta
from unittest import mock

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone

from rencai.core.auth import totp
from rencai.core.models import AuditEntry, User
from rencai.core.models.audit import AuditAction
from rencai.core.testing import PASSWORD, make_user
from rencai.core.views.accounts import ENROL_KEY

pytestmark = pytest.mark.django_db


def code(secret, at=None):
    return pyotp.TOTP(secret).at(at or timezone.now())


def sign_in(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


# --- enrolment -----------------------------------------------------------------------------------------
def test_a_user_enrols_with_a_local_qr_code_and_the_secret_as_text(client, city_staff):
    client.force_login(city_staff)
    response = client.get(reverse("totp_setup"))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    secret = client.session[ENROL_KEY]
    assert "<svg" in body and "<img" not in body  # drawn here, no image service
    assert totp.grouped(secret) in body
    # Reloading keeps the same secret, so a scanned code still matches.
    client.get(reverse("totp_setup"))
    assert client.session[ENROL_KEY] == secret

    response = client.post(reverse("totp_setup"), {"code": "000000" if code(secret) != "000000" else "111111"})
    assert "验证码不正确" in response.content.decode()
    city_staff.refresh_from_db()
    assert not city_staff.totp_enabled

    response = client.post(reverse("totp_setup"), {"code": code(secret)})
    assert response.status_code == 302 and response.url == reverse("account")
    city_staff.refresh_from_db()
    assert city_staff.totp_enabled and city_staff.totp_secret == secret
    assert ENROL_KEY not in client.session
    entry = AuditEntry.objects.filter(action=AuditAction.TOTP).get()
    assert entry.actor_id == city_staff.pk and entry.message == "启用两步验证"
    # The secret is encrypted at rest and never written to the log.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM core_user WHERE id = %s", [city_staff.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored and stored.startswith("v1:")
    assert secret not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_the_provisioning_address_names_the_site_and_the_user(city_staff):
    secret = totp.new_secret()
    uri = totp.provisioning_uri(city_staff, secret)
    assert uri.startswith("otpauth://totp/") and "city_staff" in uri and f"secret={secret}" in uri


# --- signing in with a code --------------------------------------------------------------------------
@pytest.fixture
def enrolled(refdata):
    return make_user("enrolled", roles=["city_staff"], regions=["140800"], totp=True)


def test_sign_in_asks_for_a_code_before_the_session_is_logged_in(client, enrolled):
    response = sign_in(client, "enrolled")
    assert response.status_code == 302 and response.url == reverse("totp_verify")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302  # not signed in yet
    page = client.get(reverse("totp_verify"))
    assert page.status_code == 200 and 'name="code"' in page.content.decode()

    response = client.post(reverse("totp_verify"), {"code": code(enrolled.totp_secret)})
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(enrolled.pk)
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN).latest("id").message == "登录成功（密码和两步验证码）"


def test_a_wrong_code_is_refused_counted_and_audited(client, enrolled):
    sign_in(client, "enrolled")
    wrong = f"{(int(code(enrolled.totp_secret)) + 1) % 1000000:06d}"
    response = client.post(reverse("totp_verify"), {"code": wrong})
    assert response.status_code == 200 and "验证码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session
    enrolled.refresh_from_db()
    assert enrolled.failed_login_count == 1
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).latest("id").message == "两步验证码错误"


def test_a_code_cannot_be_replayed(client, enrolled):
    now = timezone.now()
    current = code(enrolled.totp_secret, now)
    sign_in(client, "enrolled")
    client.post(reverse("totp_verify"), {"code": current})
    assert client.session["_auth_user_id"] == str(enrolled.pk)
    client.post(reverse("logout"))

    sign_in(client, "enrolled")
    response = client.post(reverse("totp_verify"), {"code": current})
    assert response.status_code == 200 and "已经使用过" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).latest("id").message == "两步验证码重复使用"
    # The next step's code works.
    later = now + timedelta(seconds=30)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.post(reverse("totp_verify"), {"code": code(enrolled.totp_secret, later)})
    assert client.session["_auth_user_id"] == str(enrolled.pk)


def test_a_code_from_the_step_before_is_accepted_once(enrolled):
    earlier = code(enrolled.totp_secret, timezone.now() - timedelta(seconds=30))
    assert totp.consume_code(enrolled, earlier)
    assert not totp.consume_code(User.objects.get(pk=enrolled.pk), earlier)
    too_old = code(enrolled.totp_secret, timezone.now() - timedelta(seconds=120))
    assert totp.matching_step(enrolled.totp_secret, too_old) is None or too_old == earlier


def test_five_wrong_codes_lock_the_account(client, enrolled):
    sign_in(client, "enrolled")
    wrong = f"{(int(code(enrolled.totp_secret)) + 7) % 1000000:06d}"
    for _ in range(4):
        client.post(reverse("totp_verify"), {"code": wrong})
    response = client.post(reverse("totp_verify"), {"code": wrong}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "账户已被锁定" in response.content.decode()
    enrolled.refresh_from_db()
    assert enrolled.is_locked
    assert AuditEntry.objects.filter(action=AuditAction.LOCKED, object_id=str(enrolled.pk)).exists()


def test_the_pending_step_expires(client, enrolled):
    sign_in(client, "enrolled")
    session = client.session
    pending = session["rencai_pending_signin"]
    pending["at"] -= 301
    session["rencai_pending_signin"] = pending
    session.save()
    response = client.post(reverse("totp_verify"), {"code": code(enrolled.totp_secret)})
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_the_code_step_cannot_be_reached_without_a_password(client, enrolled):
    response = client.post(reverse("totp_verify"), {"code": code(enrolled.totp_secret)})
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session


# --- turning it off ---------------------------------------------------------------------------------
def test_a_user_turns_two_factor_off_with_a_code(client, enrolled):
    client.force_login(enrolled)
    page = client.get(reverse("totp_setup")).content.decode()
    assert "已启用" in page and "关闭两步验证" in page
    response = client.post(reverse("totp_setup"), {"code": "12345x"})
    enrolled.refresh_from_db()
    assert enrolled.totp_enabled
    response = client.post(reverse("totp_setup"), {"code": code(enrolled.totp_secret)})
    assert response.status_code == 302
    enrolled.refresh_from_db()
    assert not enrolled.totp_enabled and enrolled.totp_secret == ""
    assert AuditEntry.objects.filter(action=AuditAction.TOTP).latest("id").message == "本人关闭两步验证"


# --- administrators ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["system_admin", "security_admin", "audit_admin"])
def test_an_administrator_must_enrol_before_anything_else(client, refdata, role):
    admin = make_user(f"new_{role}", roles=[role])
    client.force_login(admin)
    for url in (reverse("home"), reverse("account"), reverse("role_list")):
        response = client.get(url)
        assert response.status_code == 302 and response.url == reverse("totp_setup")
    page = client.get(reverse("totp_setup")).content.decode()
    assert "管理员账户必须启用两步验证" in page
    secret = client.session[ENROL_KEY]
    response = client.post(reverse("totp_setup"), {"code": code(secret)})
    assert response.url == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_an_administrator_cannot_turn_two_factor_off(client, system_admin):
    client.force_login(system_admin)
    page = client.get(reverse("totp_setup")).content.decode()
    assert "不能关闭" in page and "关闭两步验证</button>" not in page
    client.post(reverse("totp_setup"), {"code": code(system_admin.totp_secret)})
    system_admin.refresh_from_db()
    assert system_admin.totp_enabled


def test_an_administrator_signs_in_with_password_and_code(client, audit_admin):
    assert sign_in(client, "auditadmin").url == reverse("totp_verify")
    client.post(reverse("totp_verify"), {"code": code(audit_admin.totp_secret)})
    response = client.get(reverse("auditentry_list"))
    assert response.status_code == 200


def test_the_secret_shown_matches_the_qr_code(client, city_staff):
    client.force_login(city_staff)
    body = client.get(reverse("totp_setup")).content.decode()
    shown = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', body).group(1).replace(" ", "")
    assert shown == client.session[ENROL_KEY]
