"""The outbox and spent form tokens moved to core (core 0001)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0010_spent_form_token'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='OutboxMessage',
                ),
                migrations.DeleteModel(
                    name='SpentFormToken',
                ),
            ],
            # The tables stay: the models now live in another app.
            database_operations=[],
        ),
    ]
