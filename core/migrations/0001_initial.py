"""The outbox, spent form tokens, rate-limit hits and site notices move here
from accounts and portal, keeping their tables: state only, no row moves."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
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
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('accounts', '0010_spent_form_token'),
        ('portal', '0003_support_ticket_handling'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='OutboxMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=40, verbose_name='kind')),
                        ('payload', models.BinaryField(verbose_name='sealed message')),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('sent', 'Sent'), ('discarded', 'Nothing to send'), ('failed', 'Gave up')], default='queued', max_length=10, verbose_name='status')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='queued')),
                        ('next_attempt_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='next attempt')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished')),
                        ('last_error', models.CharField(blank=True, max_length=300, verbose_name='last error')),
                    ],
                    options={
                        'verbose_name': 'outgoing mail',
                        'verbose_name_plural': 'outgoing mail',
                        'db_table': 'accounts_outboxmessage',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(condition=models.Q(('status', 'queued')), fields=['next_attempt_at'], name='outbox_due')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['queued', 'sent', 'discarded', 'failed'])), name='outbox_status_valid')],
                    },
                ),
                migrations.CreateModel(
                    name='RateLimitHit',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('scope', models.CharField(max_length=40)),
                        ('key', models.CharField(max_length=300)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        'db_table': 'portal_ratelimithit',
                        'indexes': [models.Index(fields=['scope', 'key', 'created_at'], name='ratelimit_lookup')],
                    },
                ),
                migrations.CreateModel(
                    name='SiteNotice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=200, verbose_name='title')),
                        ('body', models.TextField(blank=True, max_length=1000, verbose_name='text')),
                        ('starts_at', models.DateTimeField(verbose_name='shown from')),
                        ('ends_at', models.DateTimeField(verbose_name='shown until')),
                    ],
                    options={
                        'verbose_name': 'site notice',
                        'verbose_name_plural': 'site notices',
                        'db_table': 'portal_sitenotice',
                        'ordering': ['starts_at', 'id'],
                        'indexes': [models.Index(fields=['starts_at', 'ends_at'], name='sitenotice_period')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at'))), name='sitenotice_ends_after_start', violation_error_message='The notice must end after it starts.')],
                    },
                ),
                migrations.CreateModel(
                    name='SpentFormToken',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('token', models.CharField(max_length=64)),
                        ('spent_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'accounts_spentformtoken',
                        'constraints': [models.UniqueConstraint(fields=('user', 'token'), name='spent_form_token_once')],
                    },
                ),
            ],
            # The tables exist: they keep the names they had.
            database_operations=[],
        ),
        _content_types("accounts", "core", ["outboxmessage", "spentformtoken"]),
        _content_types("portal", "core", ["ratelimithit", "sitenotice"]),
    ]
