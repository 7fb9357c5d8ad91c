from django.db import migrations


def rekey(apps, schema_editor):
    from leadflow.intake.dedup import rekey_companies  # the live rule: keys as intake makes them

    rekey_companies(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    """company_key strips every prefecture-level city now, not only the largest ones."""

    dependencies = [
        ("intake", "0003_imports_and_exports"),
        ("leads", "0009_fk_indexes_in_composites"),
    ]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop, elidable=True)]
