import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_networks,
    env_url,
    s3_storage_from_env,
)


def test_database_url_becomes_a_pooled_postgresql_entry(monkeypatch):
    monkeypatch.delenv("DATABASE_POOL_MAX", raising=False)
    db = database_from_url("postgres://u:p%40ss@db.example:5433/behorighet?sslmode=require")
    assert db["ENGINE"] == "config.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u",
        "p@ss",
        "db.example",
        "5433",
        "behorighet",
    )
    assert db["OPTIONS"]["pool"]["max_size"] == 4
    assert db["OPTIONS"]["sslmode"] == "require"
    # The pool's check is config/dbpool.py's, not Django's unconditional one.
    assert db["CONN_HEALTH_CHECKS"] is False
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


def test_the_pool_fails_fast_when_the_database_is_gone(monkeypatch):
    for name in ("DATABASE_POOL_TIMEOUT", "DATABASE_CONNECT_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    db = database_from_url("postgres://u:p@db.example:5432/behorighet")
    assert db["OPTIONS"]["pool"]["timeout"] == 1
    assert db["OPTIONS"]["pool"]["reconnect_timeout"] == 5
    assert db["OPTIONS"]["connect_timeout"] == 2
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "1")  # libpq treats below 2 as 2
    with pytest.raises(ImproperlyConfigured):
        database_from_url("postgres://u:p@db.example:5432/behorighet")


S3_ENV = {
    "S3_BUCKET": "material",
    "S3_REGION": "eu-north-1",
    "S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "S3_SECRET_ACCESS_KEY": "secret",
    "S3_ENDPOINT_URL": "https://s3.example.se",
}


def test_s3_storage_is_configured_from_the_environment(monkeypatch):
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    storage = s3_storage_from_env()
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "material",
        "https://s3.example.se",
        "eu-north-1",
    )
    assert options["file_overwrite"] is False
    assert options["default_acl"] is None


@pytest.mark.parametrize(
    "missing", ["S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]
)
def test_s3_storage_without_its_bucket_region_or_keys_fails_loudly(monkeypatch, missing):
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(ImproperlyConfigured, match=missing):
        s3_storage_from_env()


def test_a_bad_endpoint_backend_log_format_or_network_fails_loudly(monkeypatch):
    monkeypatch.setenv("SOME_URL", "s3.example.se")
    with pytest.raises(ImproperlyConfigured):
        env_url("SOME_URL")
    monkeypatch.setenv("SOME_CHOICE", "nfs")
    with pytest.raises(ImproperlyConfigured):
        env_choice("SOME_CHOICE", "filesystem", ("filesystem", "s3"))
    monkeypatch.setenv("SOME_NETWORKS", "10.0.0.0/8,intranet")
    with pytest.raises(ImproperlyConfigured):
        env_networks("SOME_NETWORKS")
    monkeypatch.setenv("SOME_NETWORKS", "10.0.0.0/8, 192.0.2.7")
    assert [str(n) for n in env_networks("SOME_NETWORKS")] == ["10.0.0.0/8", "192.0.2.7/32"]


def test_statements_are_bound_and_prepared_on_the_server_unless_the_url_says_otherwise():
    db = database_from_url("postgres://u:p@db.example:5432/behorighet")
    assert (db["OPTIONS"]["server_side_binding"], db["OPTIONS"]["prepare_threshold"]) == (True, 5)
    # A URL's text becomes what Django reads (`is True`, a number).
    db = database_from_url(
        "postgres://u:p@db.example:5432/behorighet?server_side_binding=false&prepare_threshold=0"
    )
    assert db["OPTIONS"]["server_side_binding"] is False
    assert db["OPTIONS"]["prepare_threshold"] == 0
    with pytest.raises(ImproperlyConfigured):
        database_from_url("postgres://u:p@db.example:5432/behorighet?server_side_binding=maybe")
