"""Give the saved maintenance plans stored before they were chained their audit entries.

From this change on, every row of a saved plan (the plan, its lines, the tasks it left out) gets its entry when it
is saved (infra.audit.chain.on_kept_records), and verify_audit names any such row without one. The rows saved
before get theirs here, once, in id order, as by the person who saved the plan; the entries' time is the time
of this migration, which is when the chain began to hold them.
"""
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from infra.audit.chain import _CHAIN_LOCK_KEY, GENESIS, KEPT_RECORDS, entry_hash, snapshot


def chain_saved_plans(apps, schema_editor):
    AuditEntry = apps.get_model("audit", "AuditEntry")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
    last = AuditEntry.objects.order_by("-seq").only("seq", "hash").first()
    seq, previous = (last.seq, last.hash) if last else (0, GENESIS)
    now = timezone.now()
    users = {user.pk: user.username for user in User.objects.all().only("pk", "username")}
    makers = dict(apps.get_model("maintenance", "SavedPlan").objects.values_list("pk", "made_by_id"))
    entries = []
    for label in KEPT_RECORDS:
        model = apps.get_model(label)
        chained = AuditEntry.objects.filter(history_model=label, history_id=models.OuterRef("pk"))
        for row in model.objects.filter(~models.Exists(chained)).order_by("pk").iterator():
            maker = makers.get(row.pk if label == "maintenance.SavedPlan" else row.plan_id)
            seq += 1
            entry = AuditEntry(seq=seq, recorded_at=now, user_id=maker, username=users.get(maker, ""), model_label=label,
                               object_pk=str(row.pk), history_model=label, history_id=row.pk, action="+", before=None,
                               after=snapshot(row), prev_hash=previous)
            entry.hash = previous = entry_hash(entry)
            entries.append(entry)
    AuditEntry.objects.bulk_create(entries, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("maintenance", "0006_costs_not_estimated_left_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(chain_saved_plans, migrations.RunPython.noop)]
