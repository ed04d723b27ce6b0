"""Signing in through a real browser: an administrator with the TOTP step, and a new user forced
to change the one-time password."""

from urllib.parse import urlparse

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone

from rencai.core.models import AuditEntry, Region, Role, User
from rencai.core.models.audit import AuditAction
from rencai.core.services.accounts import do_create_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_signs_in_through_the_code_step(page, login, transactional_db, audit_admin):
    login(audit_admin)  # password, then the code from the authenticator
    page.wait_for_url(lambda url: urlparse(url).path == reverse("home"))
    page.goto(reverse("account"))
    assert page.locator("dd", has_text=audit_admin.username).count() == 1
    assert User.objects.get(pk=audit_admin.pk).totp_last_step > 0
    page.goto(reverse("auditentry_list"))
    assert page.locator("h2.page-title").inner_text().strip() == "审计日志"
    assert page.locator("table tbody tr").count() >= 1
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN, actor_id=audit_admin.pk).exists()


def test_a_wrong_code_keeps_the_administrator_out(page, transactional_db, security_admin):
    from rencai.core.testing import PASSWORD

    page.goto(reverse("login"))
    page.fill("input[name=username]", security_admin.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{reverse('totp_verify')}")
    totp = pyotp.TOTP(security_admin.totp_secret)
    valid = {totp.at(timezone.now().timestamp() + drift) for drift in (-30, 0, 30)}
    wrong = next(code for code in ("123456", "654321", "111111", "222222") if code not in valid)
    page.fill("input[name=code]", wrong)
    page.click("button[type=submit]")
    assert urlparse(page.url).path == reverse("totp_verify")
    assert page.locator(".invalid-feedback", has_text="验证码不正确").count() == 1
    page.goto(reverse("role_list"))
    assert urlparse(page.url).path == reverse("login")


def test_a_new_user_is_walked_through_the_forced_password_change(page, login, transactional_db, system_admin):
    user, one_time = do_create_user(
        username="liuyang", full_name="刘洋", roles=Role.objects.filter(code="county_officer"),
        regions=Region.objects.filter(code="140802"), acting_user=system_admin,
    )
    login(user, password=one_time)
    page.wait_for_url(f"**{reverse('password_change')}")
    assert "由管理员设置" in page.content()
    page.goto(reverse("home"))  # nothing else opens first
    page.wait_for_url(f"**{reverse('password_change')}")

    page.fill("input[name=old_password]", one_time)
    page.fill("input[name=new_password1]", "short")
    page.fill("input[name=new_password2]", "short")
    page.click("button[type=submit]")
    assert page.locator(".invalid-feedback").count() >= 1

    page.fill("input[name=old_password]", one_time)
    page.fill("input[name=new_password1]", "Fenhe-River-2026")
    page.fill("input[name=new_password2]", "Fenhe-River-2026")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: urlparse(url).path == reverse("home"))
    assert "密码已修改" in page.content()
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password("Fenhe-River-2026")
