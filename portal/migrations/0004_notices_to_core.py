"""Rate-limit hits and site notices moved to core (core 0001)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0003_support_ticket_handling'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='RateLimitHit',
                ),
                migrations.DeleteModel(
                    name='SiteNotice',
                ),
            ],
            # The tables stay: the models now live in another app.
            database_operations=[],
        ),
    ]
