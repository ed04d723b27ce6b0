"""The audit chain: entries link by keyed hash; verify names the first broken link."""

import pytest
from django.db import connection

from rencai.core import audit
from rencai.core.models import AuditEntry, OrgUnit, Region
from rencai.core.models.audit import AuditAction

pytestmark = pytest.mark.django_db


def _drop_append_only_triggers():
    """What an attacker with database access does first; the chain must still tell."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER core_auditentry_no_update")
            cursor.execute("DROP TRIGGER core_auditentry_no_delete")
        else:
            cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER USER")


def _entries(n=5):
    return [audit.record(AuditAction.LOGIN, actor_name=f"user{i}", message=f"entry {i}") for i in range(n)]


def test_it_links_each_entry_to_the_one_before():
    first, second, *_ = _entries()
    assert second.prev_hash == first.entry_hash
    result = audit.verify()
    assert result.ok and result.checked == AuditEntry.objects.count()


def test_it_refuses_update_and_delete_at_the_database():
    entry, *_ = _entries(1)
    with pytest.raises(RuntimeError):
        entry.delete()
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(message="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()


def test_it_reports_an_altered_entry():
    entries = _entries()
    _drop_append_only_triggers()
    AuditEntry.objects.filter(pk=entries[2].pk).update(message="rewritten")
    result = audit.verify()
    assert not result.ok and result.broken_at == entries[2].pk


def test_it_reports_a_removed_entry():
    entries = _entries()
    _drop_append_only_triggers()
    AuditEntry.objects.filter(pk=entries[2].pk).delete()
    result = audit.verify()
    assert not result.ok and result.broken_at == entries[3].pk


def test_it_reports_a_removed_last_entry():
    entries = _entries()
    _drop_append_only_triggers()
    AuditEntry.objects.filter(pk=entries[-1].pk).delete()
    result = audit.verify()
    assert not result.ok and result.broken_at is None


def test_it_logs_field_changes_with_personal_values_masked(refdata, city_admin):
    region = Region.objects.get(code="140802")
    with audit.acting(city_admin, "10.0.0.1"):
        unit = OrgUnit.objects.create(name="盐湖区人才办", region=region, contact_mobile="13812345678")
        unit.contact_mobile = "13912345678"
        unit.save()
    created, updated = AuditEntry.objects.filter(object_type="core.orgunit").order_by("id")
    assert created.action == "create" and created.actor_id == city_admin.pk and created.ip_address == "10.0.0.1"
    assert created.changes["contact_mobile"] == [None, "138****5678"]
    assert updated.changes == {"contact_mobile": ["138****5678", "139****5678"]}
    assert created.region_code == "140802"
    assert "13812345678" not in str(created.changes) + str(updated.changes)
    assert unit.created_by_id == city_admin.pk


@pytest.mark.parametrize("returning", [True, False])
def test_it_takes_the_head_and_its_hash_in_one_statement_where_it_can(monkeypatch, returning):
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(audit, "_update_returning", lambda: returning)
    (first,) = _entries(1)
    with CaptureQueriesContext(connection) as queries:
        second = audit.record(AuditAction.LOGIN, actor_name="user", message="entry")
    statements = [q["sql"].split()[0] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert statements == (["UPDATE", "INSERT", "UPDATE"] if returning else ["UPDATE", "SELECT", "INSERT", "UPDATE"])
    assert second.prev_hash == first.entry_hash and audit.verify().ok
