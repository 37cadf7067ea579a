"""Django's PostgreSQL backend with one change: the pool's health check is
config.dbpool's (skipped for a connection handed out a moment ago)
instead of Django's unconditional one (CONN_HEALTH_CHECKS), which Django
passes to the pool itself and so cannot be replaced through OPTIONS."""

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

from config import dbpool


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        # As django.db.backends.postgresql.base.DatabaseWrapper.pool, with
        # the `check` of config.dbpool.
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == base.NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=dbpool.check,
                **({} if pool_options is True else pool_options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
