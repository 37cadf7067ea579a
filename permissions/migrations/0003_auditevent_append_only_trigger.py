"""SECURITY: on PostgreSQL the database itself refuses UPDATE and DELETE of
audit events, so not even raw SQL from the application can rewrite history.
(SQLite, for development only, relies on the ORM guard.)"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION permissions_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER permissions_auditevent_append_only
    BEFORE UPDATE OR DELETE ON permissions_auditevent
    FOR EACH ROW EXECUTE FUNCTION permissions_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS permissions_auditevent_append_only ON permissions_auditevent;
DROP FUNCTION IF EXISTS permissions_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("permissions", "0002_seed_subjects_and_policy")]
    operations = [migrations.RunPython(forwards, backwards)]
