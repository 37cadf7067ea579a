"""Django's PostgreSQL backend, its connection pool checking connections the
way config/dbpool.py says."""
