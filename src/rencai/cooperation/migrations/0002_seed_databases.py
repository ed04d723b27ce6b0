"""The three cooperation databases every installation starts with; administrators add more."""

from django.db import migrations

SEED = [
    ("experts", "专家库", "expert", "与合作院校关联、可对接服务的专家。", 10),
    ("achievements", "成果库", "achievement", "合作院校可转化的科技成果。", 20),
    ("projects", "项目库", "project", "省校合作项目，从洽谈到投产。", 30),
]


def seed(apps, schema_editor):
    CooperationDatabase = apps.get_model("cooperation", "CooperationDatabase")
    for code, name, kind, description, order in SEED:
        CooperationDatabase.objects.get_or_create(code=code, defaults={
            "name": name, "kind": kind, "description": description, "sort_order": order, "is_default": True})


class Migration(migrations.Migration):
    dependencies = [("cooperation", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
