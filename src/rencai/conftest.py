"""Shared test fixtures: reference data, the named personas, and headless Chromium.

Personas (STYLE.md): city administrator, city staff, 盐湖区 officer, 河津市 officer, leader, and
the three separated administrators. Every persona has a fresh password and, for administrators,
an enrolled TOTP device, so ``client.force_login`` lands on real pages rather than on the
security gate.
"""

from __future__ import annotations

import pyotp
import pytest
from django.utils import timezone

from rencai.core.testing import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# --- the cockpit's in-memory columns ---------------------------------------------------------------
@pytest.fixture(autouse=True)
def _cockpit_columns_forgotten():
    """Each test starts with no copy of the tables: a test's writes are rolled back at its end,
    which no change log can show (``dashboards.replica``)."""
    from rencai.dashboards import replica

    replica.reset()
    yield
    replica.reset()


# --- transactional tests and the append-only audit log ------------------------------------------
# A transactional test (transaction=True, live_server) ends with a flush, which the append-only
# triggers on the audit table refuse. They are dropped for that flush and put back before the
# next database test, so every test runs with them in place.
_audit_triggers_dropped = False


def _audit_trigger_sql(kind: str) -> list[str]:
    import importlib

    from django.db import connection

    migration = importlib.import_module("rencai.core.migrations.0002_audit_append_only")
    prefix = {"sqlite": "SQLITE", "postgresql": "POSTGRES"}[connection.vendor]
    return getattr(migration, f"{prefix}_{kind}")


def _execute(statements: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@pytest.fixture(autouse=True)
def _audit_triggers_around_flush(request, django_db_blocker):
    global _audit_triggers_dropped
    names = set(request.fixturenames)
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not names & {"db", "transactional_db", "live_server"}:
        yield
        return
    if _audit_triggers_dropped:
        with django_db_blocker.unblock():
            _execute(_audit_trigger_sql("TRIGGERS"))
        _audit_triggers_dropped = False
    transactional = "transactional_db" in names or "live_server" in names or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so its flush runs after our teardown
    yield
    with django_db_blocker.unblock():
        _execute(_audit_trigger_sql("DROP"))
    _audit_triggers_dropped = True


@pytest.fixture
def refdata(db):
    from rencai.core.models import Region
    from rencai.core.refdata import load_reference_data

    if not Region.objects.filter(code="140802").exists():
        load_reference_data()


@pytest.fixture
def city_admin(refdata):
    return make_user("city_admin", roles=["city_admin"], regions=["140800"], full_name="市管理员")


@pytest.fixture
def city_staff(refdata):
    return make_user("city_staff", roles=["city_staff"], regions=["140800"], full_name="市业务员")


@pytest.fixture
def yanhu_officer(refdata):
    return make_user("yanhu", roles=["county_officer"], regions=["140802"], full_name="盐湖区专员")


@pytest.fixture
def hejin_officer(refdata):
    return make_user("hejin", roles=["county_officer"], regions=["140882"], full_name="河津市专员")


@pytest.fixture
def leader(refdata):
    return make_user("leader", roles=["leader"], regions=["140800"], full_name="领导")


@pytest.fixture
def system_admin(refdata):
    return make_user("sysadmin", roles=["system_admin"], totp=True, full_name="系统管理员")


@pytest.fixture
def security_admin(refdata):
    return make_user("secadmin", roles=["security_admin"], totp=True, full_name="安全管理员")


@pytest.fixture
def audit_admin(refdata):
    return make_user("auditadmin", roles=["audit_admin"], totp=True, full_name="审计管理员")


def totp_now(user) -> str:
    return pyotp.TOTP(user.totp_secret).at(timezone.now())


# --- headless Chromium ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser page; every console error or failed page load fails the test."""
    context = chromium.new_context(locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.console_errors = errors
    yield page
    context.close()
    assert errors == [], "\n".join(errors)


@pytest.fixture
def login(page):
    """Sign in through the real login form; administrators answer the TOTP step."""

    def sign_in(user, password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        if user.totp_enabled:
            page.fill("input[name=code]", totp_now(user))
            page.click("button[type=submit]")
        return page

    return sign_in
