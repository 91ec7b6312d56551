"""Give the saved maintenance plans stored before they were chained their audit entries.

From this change on, every row of a saved plan (the plan, its lines, the tasks it left out) gets its entry when it
is saved (infra.audit.chain.on_kept_records), and verify_audit names any such row without one. The rows saved
before get theirs here, once, in id order, as by the person who saved the plan; the entries' time is the time
of this migration, which is when the chain began to hold them.
"""
from django.conf import settings
from django.db import migrations, models

from infra.audit.chain import KEPT_RECORDS, kept_entries, lock_chain


def chain_saved_plans(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    lock_chain(schema_editor.connection)
    users = dict(User.objects.values_list("pk", "username"))
    makers = dict(apps.get_model("maintenance", "SavedPlan").objects.values_list("pk", "made_by_id"))
    rows = []
    for label in KEPT_RECORDS:
        model = apps.get_model(label)
        chained = AuditEntry.objects.filter(history_model=label, history_id=models.OuterRef("pk"))
        for row in model.objects.filter(~models.Exists(chained)).order_by("pk").iterator():
            maker = makers.get(row.pk if label == "maintenance.SavedPlan" else row.plan_id)
            rows.append((row, (maker, users.get(maker, ""))))
    AuditEntry.objects.bulk_create(kept_entries(AuditEntry, rows), batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("maintenance", "0006_costs_not_estimated_left_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(chain_saved_plans, migrations.RunPython.noop)]
