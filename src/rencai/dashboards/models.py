"""The change log the cockpit's in-memory columns follow (see ``dashboards.replica``)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now


class Change(models.Model):
    """A row of a replicated table that was written: filled by database triggers, never by code.

    On SQLite the log's own id orders the changes (writers take turns); on PostgreSQL ``xid`` is
    the writing transaction, whose commit order the id cannot give. ``row_end``, when set, makes
    the change a range of ids (the rows one INSERT or DELETE statement wrote, on PostgreSQL: a
    bulk load logs one row, not a million); ``row_id`` 0 stands for the whole table (a TRUNCATE).
    Rows older than a couple of hours are pruned.
    """

    table_name = models.CharField(max_length=63)
    row_id = models.BigIntegerField()
    row_end = models.BigIntegerField(null=True)
    xid = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["xid"], name="dashboards_change_xid_idx")]

    def __str__(self) -> str:
        return f"{self.table_name} {self.row_id}"
