from django.db import migrations

DEFAULT_PHRASES = [
    ("求职", "求职、应聘类咨询不是销售线索"),
    ("应聘", "求职、应聘类咨询不是销售线索"),
    ("兼职", "招聘兼职不是销售线索"),
    ("个人贷款", "公司不提供贷款业务"),
    ("推销", "对方向我方推销"),
]


def load(apps, schema_editor):
    ExcludedNeed = apps.get_model("intake", "ExcludedNeed")
    for phrase, note in DEFAULT_PHRASES:
        ExcludedNeed.objects.get_or_create(phrase=phrase, defaults={"note": note})


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
