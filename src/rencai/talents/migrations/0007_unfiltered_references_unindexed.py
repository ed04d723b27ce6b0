"""The references the registry list is never filtered by lose their own indexes."""

import django.db.models.deletion
from django.db import migrations, models


INDEXES = {
    "talents_talent_degree_id_9d41f348": "degree_id",
    "talents_talent_discipline_id_5e5105c4": "discipline_id",
    "talents_talent_ethnicity_id_071b253a": "ethnicity_id",
    "talents_talent_political_status_id_8e04a3d3": "political_status_id",
    "talents_talent_work_city_id_d0f814f8": "work_city_id",
}


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_audit_indexes'),
        ('talents', '0006_region_id_index'),
    ]

    # The indexes Django made for these foreign keys, dropped by name (the same on SQLite and
    # PostgreSQL). AlterField alone would copy the whole table five times on SQLite, and on
    # PostgreSQL leave the indexes where they are.
    operations = [
        migrations.RunSQL(
            sql=[f"DROP INDEX IF EXISTS {name}" for name in INDEXES],
            reverse_sql=[f"CREATE INDEX {name} ON talents_talent ({column})" for name, column in INDEXES.items()],
            state_operations=[
                migrations.AlterField(
                    model_name='talent',
                    name='degree',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'dictionary__code': 'degree'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictionaryitem', verbose_name='最高学位'),
                ),
                migrations.AlterField(
                    model_name='talent',
                    name='discipline',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'dictionary__code': 'discipline'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictionaryitem', verbose_name='学科领域'),
                ),
                migrations.AlterField(
                    model_name='talent',
                    name='ethnicity',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'dictionary__code': 'ethnicity'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictionaryitem', verbose_name='民族'),
                ),
                migrations.AlterField(
                    model_name='talent',
                    name='political_status',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'dictionary__code': 'political_status'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.dictionaryitem', verbose_name='政治面貌'),
                ),
                migrations.AlterField(
                    model_name='talent',
                    name='work_city',
                    field=models.ForeignKey(blank=True, db_index=False, limit_choices_to={'level': 'prefecture'}, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.region', verbose_name='工作所在城市'),
                ),
                ],
        ),
    ]
