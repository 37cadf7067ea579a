"""The CSV import of teachers: parse the file, plan what importing it would
do, apply the plan in one transaction."""
