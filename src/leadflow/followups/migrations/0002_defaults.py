"""Default follow-up plans (R3.1), 无效 reasons (R3.3) and playbooks (R3.7); editable."""

from django.db import migrations

# grade, business time, first contact (amount, unit), cadence (shortest, longest, unit), remind h
POLICIES = [
    ("A", True, 4, "hour", 1, 1, "day", 1),
    ("B", True, 1, "day", 2, 3, "day", 2),
    ("C", True, 1, "week", 1, 1, "week", 24),
]
INVALID_REASONS = [
    ("no_need", "无真实需求"),
    ("need_mismatch", "需求不匹配"),
    ("no_budget", "预算远低于产品价格"),
    ("unreachable", "联系不上"),
    ("wrong_contact", "联系人错误"),
    ("chose_competitor", "已选择竞争对手"),
    ("gave_up", "客户放弃采购"),
    ("duplicate", "重复线索"),
    ("other", "其他"),
]
PLAYBOOK = [
    ("A", "准备定制化方案并当面/视频讲解", "按客户需求与预算出具定制方案，约定讲解时间", 1, "day"),
    (
        "A",
        "与决策人确认明确的签约日期",
        "确认采购流程、决策人和签约时间节点，写入下一步行动",
        2,
        "day",
    ),
    ("A", "安排高层拜访或产品演示", "邀请客户决策层参加演示或拜访，推动决策", 3, "day"),
    ("B", "发送同行业成功案例", "挑选与客户行业、规模相近的案例，附关键数据", 1, "day"),
    (
        "B",
        "用数据回应客户顾虑",
        "针对价格/质量/服务顾虑提供 ROI 测算、测试报告或服务承诺",
        3,
        "day",
    ),
    ("B", "确认预算与采购时间", "澄清预算范围和决策时间，决定是否升为 A 级", 5, "day"),
    ("C", "定期推送行业资讯", "每周推送一条行业动态或白皮书，保持联系", 1, "week"),
    ("C", "邀请参加线上研讨会", "邀请参加公司的行业研讨会或直播，观察兴趣变化", 2, "week"),
]


def load(apps, schema_editor):
    SlaPolicy = apps.get_model("followups", "SlaPolicy")
    for grade, business, within, unit, shortest, longest, cadence_unit, remind in POLICIES:
        SlaPolicy.objects.get_or_create(
            grade=grade,
            defaults={
                "business_time": business,
                "first_contact_within": within,
                "first_contact_unit": unit,
                "cadence_min": shortest,
                "cadence_max": longest,
                "cadence_unit": cadence_unit,
                "remind_before_hours": remind,
            },
        )
    InvalidReason = apps.get_model("followups", "InvalidReason")
    for order, (code, label) in enumerate(INVALID_REASONS):
        InvalidReason.objects.get_or_create(
            code=code, defaults={"label": label, "order": order * 10}
        )
    PlaybookStep = apps.get_model("followups", "PlaybookStep")
    if not PlaybookStep.objects.exists():
        for order, (grade, title, detail, due_in, unit) in enumerate(PLAYBOOK):
            PlaybookStep.objects.create(
                grade=grade,
                order=order * 10,
                title=title,
                detail=detail,
                due_in=due_in,
                due_unit=unit,
            )


class Migration(migrations.Migration):
    dependencies = [("followups", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
