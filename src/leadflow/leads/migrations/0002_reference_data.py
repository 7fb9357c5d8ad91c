from django.db import migrations


def load(apps, schema_editor):
    from leadflow.leads.reference import (
        DEFAULT_CHANNELS,
        DEFAULT_INDUSTRIES,
        PROVINCES,
        default_channel_code,
    )

    Province = apps.get_model("leads", "Province")
    Channel = apps.get_model("leads", "Channel")
    Industry = apps.get_model("leads", "Industry")
    for code, name, short, region in PROVINCES:
        Province.objects.update_or_create(
            code=code, defaults={"name": name, "short_name": short, "region": region}
        )
    for name, is_target in DEFAULT_INDUSTRIES:
        Industry.objects.get_or_create(name=name, defaults={"is_target": is_target})
    taken = set(Channel.objects.values_list("code", flat=True))
    for name, category, children in DEFAULT_CHANNELS:
        if Channel.objects.filter(name=name, parent=None).exists():
            continue
        code = default_channel_code(name, taken)
        taken.add(code)
        parent = Channel.objects.create(code=code, name=name, category=category)
        for child in children:
            child_code = default_channel_code(f"{name}{child}", taken)
            taken.add(child_code)
            Channel.objects.create(code=child_code, name=child, category=category, parent=parent)


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
