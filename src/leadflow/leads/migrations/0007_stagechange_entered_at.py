from django.db import migrations, models


def backfill(apps, schema_editor):
    """Each change's entered_at: the time of the lead's change before it."""
    schema_editor.execute(
        "UPDATE leads_stagechange SET entered_at = (SELECT MAX(p.at) FROM leads_stagechange p "
        "WHERE p.lead_id = leads_stagechange.lead_id AND (p.at < leads_stagechange.at "
        "OR (p.at = leads_stagechange.at AND p.id < leads_stagechange.id)))"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0006_lead_furthest"),
    ]

    operations = [
        migrations.AddField(
            model_name="stagechange",
            name="entered_at",
            field=models.DateTimeField(
                blank=True,
                help_text="线索进入原状态的时间（上一条状态变更的时间），用于计算各阶段停留时长",
                null=True,
                verbose_name="进入原状态的时间",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
