"""Search-term indexes: (talent, term, kind) in place of (talent), and no second index on talent.

The foreign key had its own index beside ``talents_term_talent_idx`` on the same column: two
indexes to keep up for every term written. The new one also answers "does this talent have a
term starting with q, and of which kind" from the index alone, which ranking and the per-talent
checks of search ask for every candidate.

On PostgreSQL the term column also gets a finer statistics sample: with the default, the planner
guesses a handful of rows for the range of a common word (人工智能: 21,000 at a million
talents) and picks plans that read them all to sort; with a thousand buckets its guess is close.
"""

import django.db.models.deletion
from django.db import migrations, models


def finer_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE talents_talentsearchterm ALTER COLUMN term SET STATISTICS 1000")


def default_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE talents_talentsearchterm ALTER COLUMN term SET STATISTICS -1")


class Migration(migrations.Migration):

    dependencies = [
        ('talents', '0003_search_term_collation'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='talentsearchterm',
            name='talents_term_talent_idx',
        ),
        migrations.AlterField(
            model_name='talentsearchterm',
            name='talent',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='talents.talent'),
        ),
        migrations.AddIndex(
            model_name='talentsearchterm',
            index=models.Index(fields=['talent', 'term', 'kind'], name='talents_term_talent_idx'),
        ),
        migrations.RunPython(finer_statistics, default_statistics),
    ]
