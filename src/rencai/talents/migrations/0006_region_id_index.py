"""One index for a county's talents in id order, (region, id), in place of the region's own.

A broad search in a county reads its talents newest first and counts their ids: PostgreSQL's
index on the region alone holds neither that order nor the id, so it walked the primary key,
reading rows of every county, and counted through the wider (region, name, id) index. SQLite's
index on the region already held the rowid; there the new index holds what the old one did.

The region's index is dropped by name rather than by altering the field: SQLite would copy the
whole table to alter a field, minutes at a million talents."""

import django.db.models.deletion
from django.db import migrations, models


def drop_region_index(apps, schema_editor):
    talent = apps.get_model("talents", "Talent")
    for name in schema_editor._constraint_names(talent, ["region_id"], index=True, unique=False, primary_key=False):
        schema_editor.execute(schema_editor._delete_index_sql(talent, name))


def restore_region_index(apps, schema_editor):
    talent = apps.get_model("talents", "Talent")
    schema_editor.execute(schema_editor._create_index_sql(talent, fields=[talent._meta.get_field("region")]))


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_audit_indexes'),
        ('talents', '0005_tier_region_index'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='talent',
                    name='region',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.region', verbose_name='所属地区'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_region_index, restore_region_index)],
        ),
        migrations.AddIndex(
            model_name='talent',
            index=models.Index(fields=['region', 'id'], name='talents_region_id_idx'),
        ),
    ]
