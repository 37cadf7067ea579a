"""SECURITY: the append-only trigger lets exactly one kind of DELETE through:
the retention purge (`permissions.retention.audit_purge`).

A DELETE passes only when the transaction has set
`behorighet.audit_purge_before` (transaction-local, with `set_config(...,
true)`), that moment lies at least a year back, and the row is older than
it. UPDATE is refused as before. (SQLite, for development only, relies on the
ORM guard.)
"""

from django.db import migrations

PURGE_PATH = """
CREATE OR REPLACE FUNCTION permissions_auditevent_append_only() RETURNS trigger AS $$
DECLARE
    purge_before timestamptz;
BEGIN
    IF TG_OP = 'DELETE' THEN
        purge_before := NULLIF(current_setting('behorighet.audit_purge_before', true), '')::timestamptz;
        IF purge_before IS NOT NULL
           AND purge_before <= now() - interval '1 year'
           AND OLD.created_at < purge_before THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
"""

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION permissions_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PURGE_PATH)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [("permissions", "0003_auditevent_append_only_trigger")]
    operations = [migrations.RunPython(forwards, backwards)]
