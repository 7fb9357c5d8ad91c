from django.db import migrations, models


def backfill(apps, schema_editor):
    """First contacts answered their lead's first-contact deadline; for earlier follow-ups
    the cadence deadline was not kept, so they stay without one (not counted either way)."""
    schema_editor.execute(
        "UPDATE followups_followup SET due = (SELECT l.first_contact_due FROM leads_lead l "
        'WHERE l.id = followups_followup.lead_id) WHERE "first"'
    )


class Migration(migrations.Migration):
    dependencies = [
        ("followups", "0002_defaults"),
    ]

    operations = [
        migrations.AddField(
            model_name="followup",
            name="due",
            field=models.DateTimeField(
                blank=True,
                help_text="这次联系所对应的时限：首次联系截止，或按等级节奏的下次跟进截止",
                null=True,
                verbose_name="应联系截止",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
