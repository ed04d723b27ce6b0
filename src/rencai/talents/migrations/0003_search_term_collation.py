"""The search-term column compares by code point on PostgreSQL, as it does on SQLite.

Search reads ``term >= 'q' AND term < 'q' || U+10FFFF`` as "starts with q" (talents.search).
That holds when strings compare code point by code point: SQLite's default BINARY collation
does, and so does PostgreSQL's "C" collation, but a linguistic database collation
(zh_CN.UTF-8, en_US.UTF-8) orders by other rules, so the range could both miss terms and take
in others. Giving the column the "C" collation makes the range exact whatever the database's
own collation, and the B-tree on (term, kind, talent) is rebuilt with it, so it serves the range.

The model does not declare the collation (SQLite has no collation named "C"); a later
migration that alters ``term`` must keep ``COLLATE "C"`` on PostgreSQL. The search tests check
the plan on both databases.
"""

from django.db import migrations

TABLE = "talents_talentsearchterm"


def collate_c(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'ALTER TABLE {TABLE} ALTER COLUMN term TYPE varchar(64) COLLATE "C"')


def collate_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN term TYPE varchar(64) COLLATE \"default\"")


class Migration(migrations.Migration):
    dependencies = [("talents", "0002_seed_databases")]

    operations = [migrations.RunPython(collate_c, collate_default)]
