import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import database_from_url, env_bool, env_int


def test_database_url_becomes_a_pooled_postgresql_entry(monkeypatch):
    monkeypatch.delenv("DATABASE_POOL_MAX", raising=False)
    db = database_from_url("postgres://u:p%40ss@db.example:5433/behorighet?sslmode=require")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u",
        "p@ss",
        "db.example",
        "5433",
        "behorighet",
    )
    assert db["OPTIONS"]["pool"]["max_size"] == 4
    assert db["OPTIONS"]["sslmode"] == "require"
    assert db["CONN_HEALTH_CHECKS"] is True
    assert db["CONN_MAX_AGE"] == 0


def test_database_url_with_another_scheme_fails_loudly():
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://u:p@h/db")


def test_boolean_and_integer_variables_fail_loudly_on_nonsense(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured):
        env_bool("SOME_FLAG")
    monkeypatch.setenv("SOME_NUMBER", "many")
    with pytest.raises(ImproperlyConfigured):
        env_int("SOME_NUMBER", 1)
