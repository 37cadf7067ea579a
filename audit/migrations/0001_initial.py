"""The audit event moves here from permissions, keeping its table and its
trigger: state only, no row moves."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def _content_types(app_from, app_to, models):
    """Move the models' content types (and so their permissions) to this app."""

    def forwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if ContentType.objects.filter(app_label=app_to, model=model).exists():
                continue
            ContentType.objects.filter(app_label=app_from, model=model).update(app_label=app_to)

    def backwards(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if ContentType.objects.filter(app_label=app_from, model=model).exists():
                continue
            ContentType.objects.filter(app_label=app_to, model=model).update(app_label=app_from)

    return migrations.RunPython(forwards, backwards)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('schools', '0003_principal_proxy'),
        ('permissions', '0007_membership_typed_name'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='time')),
                        ('action', models.CharField(db_index=True, max_length=60, verbose_name='action')),
                        ('actor_id', models.BigIntegerField(blank=True, null=True, verbose_name='actor id')),
                        ('actor_username', models.CharField(blank=True, max_length=150, verbose_name='actor')),
                        ('actor_role', models.CharField(blank=True, max_length=20, verbose_name='actor role')),
                        ('target', models.CharField(blank=True, max_length=200, verbose_name='target')),
                        ('ip_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='client address')),
                        ('details', models.JSONField(blank=True, default=dict, verbose_name='details')),
                        ('huvudman', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='schools.huvudman', verbose_name='huvudman')),
                        ('school_unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='schools.schoolunit', verbose_name='school unit')),
                    ],
                    options={
                        'verbose_name': 'audit event',
                        'verbose_name_plural': 'audit events',
                        'db_table': 'permissions_auditevent',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['school_unit', '-created_at'], name='audit_school_time'), models.Index(fields=['huvudman', '-created_at'], name='audit_huvudman_time')],
                    },
                ),
            ],
            # The tables exist: they keep the names they had.
            database_operations=[],
        ),
        _content_types("permissions", "audit", ["auditevent"]),
    ]
