"""The audit log pages (审计管理员 only), its CSV export, the chain check, and ``rencai audit``."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from rencai.core import audit
from rencai.core.models import AuditEntry, OrgUnit, Region
from rencai.core.models.audit import AuditAction
from rencai.core.services import auditlog

pytestmark = pytest.mark.django_db


def _drop_append_only_triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER core_auditentry_no_update")
        else:
            cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER USER")


def entries_on_page(response) -> list[int]:
    return [entry.pk for entry in response.context["entries"]]


# --- who sees it ---------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["city_admin", "leader", "yanhu_officer", "system_admin", "security_admin"])
def test_nobody_but_the_audit_admin_opens_the_log(client, request, persona):
    user = request.getfixturevalue(persona)
    entry = audit.record(AuditAction.LOGIN, actor_name="someone")
    client.force_login(user)
    for url in (reverse("auditentry_list"), reverse("auditentry_detail", args=[entry.pk]),
                reverse("auditentry_export"), reverse("auditentry_verify")):
        assert client.get(url).status_code == 403
    assert AuditEntry.objects.filter(action=AuditAction.ACCESS_DENIED, actor=user).count() == 4


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("auditentry_list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- the list ---------------------------------------------------------------------------------------
def test_the_list_shows_newest_first_and_filters(client, audit_admin, city_admin):
    with audit.acting(city_admin, "10.1.2.3"):
        unit = OrgUnit.objects.create(name="盐湖区人才办", region=Region.objects.get(code="140802"))
    audit.record(AuditAction.LOGIN_FAILED, actor_name="intruder", ip_address="192.0.2.9", message="密码错误")
    client.force_login(audit_admin)
    response = client.get(reverse("auditentry_list"))
    assert response.status_code == 200
    ids = entries_on_page(response)
    assert ids == sorted(ids, reverse=True)
    body = response.content.decode()
    assert "intruder" in body and "盐湖区人才办" in body

    def only(**params):
        return {AuditEntry.objects.get(pk=pk) for pk in entries_on_page(client.get(reverse("auditentry_list"), params))}

    assert {e.actor_name for e in only(actor="intruder")} == {"intruder"}
    assert {e.action for e in only(action="login_failed")} == {"login_failed"}
    assert {e.object_id for e in only(object_type="core.orgunit")} == {str(unit.pk)}
    assert {e.object_type for e in only(object_type="core.orgunit", object_id=str(unit.pk))} == {"core.orgunit"}
    assert {e.ip_address for e in only(ip_address="192.0.2.9")} == {"192.0.2.9"}
    assert only(ip_address="not-an-address") == set()
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert only(since=future) == set()
    assert len(only(until=future)) >= 3


def test_the_list_pages_by_key(client, audit_admin):
    for i in range(120):
        audit.record(AuditAction.LOGIN, actor_name=f"u{i}")
    client.force_login(audit_admin)
    first = client.get(reverse("auditentry_list"), {"action": "login"})
    first_ids = entries_on_page(first)
    assert len(first_ids) == 50
    older = first.context["older"]
    assert older == first_ids[-1] and first.context["newer"] is None
    second = client.get(reverse("auditentry_list"), {"action": "login", "before": older})
    second_ids = entries_on_page(second)
    assert len(second_ids) == 50 and max(second_ids) < min(first_ids)
    back = client.get(reverse("auditentry_list"), {"action": "login", "after": second.context["newer"]})
    assert entries_on_page(back) == first_ids
    third = client.get(reverse("auditentry_list"), {"action": "login", "before": second.context["older"]})
    assert len(entries_on_page(third)) == 20 and third.context["older"] is None


def test_the_list_query_count_is_flat(client, audit_admin, django_assert_max_num_queries):
    for i in range(60):
        audit.record(AuditAction.LOGIN, actor_name=f"u{i}")
    client.force_login(audit_admin)
    with django_assert_max_num_queries(15):
        client.get(reverse("auditentry_list"))


# --- one entry --------------------------------------------------------------------------------------
def test_the_detail_page_shows_the_field_changes(client, audit_admin, city_admin):
    with audit.acting(city_admin, "10.1.2.3"):
        unit = OrgUnit.objects.create(name="盐湖区人才办", region=Region.objects.get(code="140802"))
        unit.name = "盐湖区委人才办"
        unit.save()
    entry = AuditEntry.objects.filter(object_type="core.orgunit", action=AuditAction.UPDATE).get()
    client.force_login(audit_admin)
    body = client.get(reverse("auditentry_detail", args=[entry.pk])).content.decode()
    assert "名称" in body and "盐湖区人才办" in body and "盐湖区委人才办" in body
    assert "10.1.2.3" in body and entry.entry_hash in body


def test_the_detail_page_shows_added_and_removed_roles(client, audit_admin, system_admin, city_staff):
    from rencai.core.models import Role
    from rencai.core.services.accounts import do_update_user

    do_update_user(city_staff, full_name="市业务员", roles=Role.objects.filter(code="leader"),
                   regions=city_staff.regions.all(), acting_user=system_admin)
    entry = AuditEntry.objects.filter(object_type="core.user", object_id=str(city_staff.pk), action=AuditAction.UPDATE,
                                      changes__has_key="roles").latest("id")
    client.force_login(audit_admin)
    body = client.get(reverse("auditentry_detail", args=[entry.pk])).content.decode()
    assert "角色" in body and ("领导" in body or "市级业务员" in body)


# --- export -------------------------------------------------------------------------------------
def test_the_export_is_a_csv_of_the_filtered_entries_and_is_itself_audited(client, audit_admin):
    audit.record(AuditAction.LOGIN_FAILED, actor_name="=cmd|' /C calc'!A0", message="+formula")
    audit.record(AuditAction.LOGIN, actor_name="plain")
    client.force_login(audit_admin)
    response = client.get(reverse("auditentry_export"), {"action": "login_failed"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["编号", "时间", "操作人账号"]
    assert len(rows) == 2  # the header and the one failed login
    assert rows[1][2].startswith("'=") and rows[1][9] == "'+formula"  # no formula injection
    export = AuditEntry.objects.filter(action=AuditAction.EXPORT).get()
    assert export.actor_id == audit_admin.pk and export.changes == {"filters": {"action": "login_failed"}, "rows": 1}


def test_exporting_needs_the_export_permission(client, audit_admin):
    from rencai.core.models import Role

    role = Role.objects.get(code="audit_admin")
    role.permissions.remove(*role.permissions.filter(codename="export_auditentry"))
    client.force_login(audit_admin)
    assert client.get(reverse("auditentry_list")).status_code == 200
    assert client.get(reverse("auditentry_export")).status_code == 403


# --- verifying the chain ------------------------------------------------------------------------------
def test_the_verify_page_reports_an_intact_chain(client, audit_admin):
    audit.record(AuditAction.LOGIN, actor_name="x")
    client.force_login(audit_admin)
    assert reverse("auditentry_verify") in client.get(reverse("auditentry_list")).content.decode()
    body = client.get(reverse("auditentry_verify")).content.decode()
    assert "校验通过" in body


def test_the_verify_page_names_the_broken_entry(client, audit_admin):
    entries = [audit.record(AuditAction.LOGIN, actor_name=f"u{i}") for i in range(3)]
    client.force_login(audit_admin)
    _drop_append_only_triggers()
    AuditEntry.objects.filter(pk=entries[1].pk).update(message="rewritten")
    body = client.get(reverse("auditentry_verify")).content.decode()
    assert "校验未通过" in body and reverse("auditentry_detail", args=[entries[1].pk]) in body


def test_nothing_deletes_entries(settings):
    assert settings.AUDIT_RETENTION_DAYS >= 184
    entry = audit.record(AuditAction.LOGIN, actor_name="x")
    with pytest.raises(RuntimeError):
        entry.delete()
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


# --- the command --------------------------------------------------------------------------------
def test_audit_verify_prints_ok_with_the_count():
    for i in range(3):
        audit.record(AuditAction.LOGIN, actor_name=f"u{i}")
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().startswith("OK") and f"共 {AuditEntry.objects.count()} 条" in out.getvalue()


def test_audit_verify_fails_on_a_broken_chain():
    entries = [audit.record(AuditAction.LOGIN, actor_name=f"u{i}") for i in range(3)]
    _drop_append_only_triggers()
    AuditEntry.objects.filter(pk=entries[1].pk).update(message="rewritten")
    with pytest.raises(CommandError, match=f"第 {entries[1].pk} 号记录") as failed:
        call_command("audit", "verify")
    assert failed.value.returncode == 1  # what `rencai audit verify` exits with


def test_audit_export_writes_the_entries_since_a_date(tmp_path):
    old = audit.record(AuditAction.LOGIN, actor_name="old")
    new = audit.record(AuditAction.LOGIN, actor_name="new")
    since = timezone.localtime(new.created_at).strftime("%Y-%m-%dT%H:%M:%S.%f")
    output = tmp_path / "audit.csv"
    out = io.StringIO()
    call_command("audit", "export", "--since", since, "--output", str(output), stdout=out)
    with output.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    names = [row[2] for row in rows[1:]]
    assert "new" in names and "old" not in names and len(rows) == 2
    assert old.created_at <= new.created_at
    export = AuditEntry.objects.filter(action=AuditAction.EXPORT).get()
    assert export.actor_name.startswith("命令行") and export.changes["rows"] == 1
    assert "已导出 1 条" in out.getvalue()


def test_audit_export_takes_a_whole_day(tmp_path):
    audit.record(AuditAction.LOGIN, actor_name="today")
    output = tmp_path / "day.csv"
    call_command("audit", "export", "--since", timezone.localdate().isoformat(), "--output", str(output),
                 stdout=io.StringIO())
    assert "today" in output.read_text(encoding="utf-8-sig")


def test_audit_export_refuses_a_bad_date(tmp_path):
    with pytest.raises(CommandError, match="不是有效的日期"):
        call_command("audit", "export", "--since", "last tuesday", "--output", str(tmp_path / "x.csv"))


def test_change_rows_name_fields_in_the_offices_words(city_admin):
    with audit.acting(city_admin):
        OrgUnit.objects.create(name="河津市人才办", region=Region.objects.get(code="140882"))
    entry = AuditEntry.objects.filter(object_type="core.orgunit").get()
    labels = {row["key"]: row["label"] for row in auditlog.change_rows(entry)}
    assert labels["name"] == "名称" and labels["region_id"] == "所属地区"
