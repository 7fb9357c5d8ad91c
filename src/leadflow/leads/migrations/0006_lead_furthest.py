from django.db import migrations, models

# the ranks of leads.models.FUNNEL_RANK as they were when this migration was written
RANKS = {
    "unassigned": 1,
    "assigned": 2,
    "contacting": 3,
    "qualified": 4,
    "evaluating": 5,
    "negotiating": 6,
    "won": 7,
}


def backfill(apps, schema_editor):
    """Each lead's furthest stage from its history, in one statement."""
    cases = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in RANKS.items())
    schema_editor.execute(
        "UPDATE leads_lead SET furthest = COALESCE(("
        f"SELECT MAX(CASE c.to_status {cases} ELSE 0 END) FROM leads_stagechange c "
        "WHERE c.lead_id = leads_lead.id), 0)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0005_followup_deadlines"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="furthest",
            field=models.PositiveSmallIntegerField(
                default=0,
                editable=False,
                help_text="历史上到达过的最远漏斗阶段（FUNNEL_RANK），随每次状态变更更新",
                verbose_name="最远阶段",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
