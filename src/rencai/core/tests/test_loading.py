"""core.loading: many rows per statement on SQLite, every row written once, in order."""

from __future__ import annotations

import pytest
from django.db import connection

from rencai.core.loading import sqlite_insert
from rencai.talents.models import TalentSearchTerm
from rencai.talents.tests.helpers import make_talent

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's insert path")
@pytest.mark.parametrize("count", [0, 1, 1999, 2000, 2001, 4321])
def test_sqlite_insert_writes_every_row_once_whatever_the_batch(city_admin, count):
    talent = make_talent(city_admin)
    TalentSearchTerm.objects.filter(talent=talent).delete()
    rows = [(f"词{i:05d}", talent.pk, i % 6) for i in range(count)]
    sqlite_insert(connection, "talents_talentsearchterm", ["term", "talent_id", "kind"], rows)
    written = list(TalentSearchTerm.objects.filter(talent=talent).order_by("id").values_list("term", "talent_id", "kind"))
    assert written == rows
