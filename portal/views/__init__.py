"""Bedömningsportalen (catalogue, item pages, the gate, the teacher's account)
and the public support pages."""
