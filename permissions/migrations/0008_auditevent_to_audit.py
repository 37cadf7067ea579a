"""The audit event moved to audit (audit 0001)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('permissions', '0007_membership_typed_name'),
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='AuditEvent',
                ),
            ],
            # The tables stay: the models now live in another app.
            database_operations=[],
        ),
    ]
