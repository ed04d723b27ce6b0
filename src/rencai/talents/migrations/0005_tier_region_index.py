"""One index for a tier within a county (and of a kind), in place of the tier's own; the named
single-column indexes on 籍贯 and work province went: their foreign keys are indexed already.

The tier's index is dropped by name rather than by altering the field: SQLite would copy the
whole table to alter a field, minutes at a million talents."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def drop_tier_index(apps, schema_editor):
    talent = apps.get_model("talents", "Talent")
    for name in schema_editor._constraint_names(talent, ["tier_id"], index=True, unique=False, primary_key=False):
        schema_editor.execute(schema_editor._delete_index_sql(talent, name))


def restore_tier_index(apps, schema_editor):
    talent = apps.get_model("talents", "Talent")
    schema_editor.execute(schema_editor._create_index_sql(talent, fields=[talent._meta.get_field("tier")]))


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_audit_indexes'),
        ('talents', '0004_search_term_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='talent',
            name='talents_tier_idx',
        ),
        migrations.RemoveIndex(
            model_name='talent',
            name='talents_native_idx',
        ),
        migrations.RemoveIndex(
            model_name='talent',
            name='talents_work_province_idx',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='talent',
                    name='tier',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'dictionary__code': 'talent_tier'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictionaryitem', verbose_name='人才层次'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_tier_index, restore_tier_index)],
        ),
        migrations.AddIndex(
            model_name='talent',
            index=models.Index(fields=['tier', 'region', 'kind'], name='talents_tier_region_idx'),
        ),
    ]
