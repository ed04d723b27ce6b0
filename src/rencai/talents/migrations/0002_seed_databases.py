"""The two talent databases every installation starts with; administrators add more."""

from django.db import migrations

SEED = [
    ("native_excellent", "在外优秀人才库", "native", "运城籍在外工作的优秀人才。", 10),
    ("local_excellent", "本土优秀人才库", "local", "在运城工作的本土优秀人才。", 20),
]


def seed(apps, schema_editor):
    TalentDatabase = apps.get_model("talents", "TalentDatabase")
    for code, name, kind, description, order in SEED:
        TalentDatabase.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "description": description, "sort_order": order}
        )


class Migration(migrations.Migration):
    dependencies = [("talents", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
