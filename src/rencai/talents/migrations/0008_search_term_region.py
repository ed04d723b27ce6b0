"""Search terms carry their talent's region, indexed by (region, term, talent).

A county officer's broad search (a surname, initials, a field word) is counted from the
county's own stretch of that index instead of the whole city's range, each entry of which
needed its talent's row to learn the region.

The column is added and filled in SQL: AddField would copy the whole table on SQLite (it adds a
NOT NULL column only with a default, kept here as 0 and never used), and the copy is read from
the talents in one statement on both databases.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "talents_talentsearchterm"
INDEX = "talents_term_region_idx"


def add_region(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute(f"ALTER TABLE {TABLE} ADD COLUMN region_id bigint")
        execute("UPDATE talents_talentsearchterm SET region_id = talent.region_id FROM talents_talent talent "
                "WHERE talent.id = talents_talentsearchterm.talent_id")
        execute(f"ALTER TABLE {TABLE} ALTER COLUMN region_id SET NOT NULL")
    else:
        execute(f"ALTER TABLE {TABLE} ADD COLUMN region_id bigint NOT NULL DEFAULT 0")
        execute("UPDATE talents_talentsearchterm SET region_id = "
                "(SELECT region_id FROM talents_talent WHERE id = talents_talentsearchterm.talent_id)")
    execute(f"CREATE INDEX {INDEX} ON {TABLE} (region_id, term, talent_id)")


def remove_region(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN region_id")


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_audit_indexes'),
        ('talents', '0007_unfiltered_references_unindexed'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='talentsearchterm',
                    name='region',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='core.region', verbose_name='所属地区'),
                ),
                migrations.AddIndex(
                    model_name='talentsearchterm',
                    index=models.Index(fields=['region', 'term', 'talent'], name='talents_term_region_idx'),
                ),
            ],
            database_operations=[migrations.RunPython(add_region, remove_region)],
        ),
    ]
