"""Writes about accounts and credentials, one module per concern. Each is
atomic and audited (`audit.log.audit_record` in the same transaction)."""
