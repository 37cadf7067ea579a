"""Writes about permissions, one module per concern. Each is atomic and
records its audit event in the same transaction (`audit.log.audit_record`)."""
