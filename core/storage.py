"""Material files in the configured storage: the local disk, or an S3 API store.

The gate streams every file itself (`portal.views.catalogue.material_file`) instead of
sending the browser to a presigned S3 URL:
- the gate stays the only way to the bytes, also at the moment they move: a
  presigned URL is a bearer secret that works for anyone who gets hold of it
  (a forwarded link, a proxy log, browser history) until it expires;
- the object store stays on the internal network, with no public endpoint,
  CORS or CSP exception for it;
- `Content-Disposition: attachment` and `Cache-Control: no-store` stay ours.
With nginx in front (NGINX_SENDS_FILES), nginx carries the bytes after the
gate has decided (core/downloads.py); without it (`make run`) this worker
streams them.
"""

import functools
import logging

from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from django.core.files.storage import storages as storage_handler
from django.db.models.fields.files import FieldFile

logger = logging.getLogger(__name__)

# What the S3 client raises when the store fails: unreachable endpoint,
# timeouts, missing bucket, wrong keys, a refused upload.
S3_ERRORS = (BotoCoreError, ClientError, Boto3Error)


class StorageUnavailable(Exception):
    """The file store did not answer as it should; the file itself may be fine."""


def is_storage_failure(error: BaseException | None) -> bool:
    return isinstance(error, (StorageUnavailable, *S3_ERRORS))


def material_file_open(*, file: FieldFile) -> File:
    """Open a material file for download and fetch it now.

    The S3 backend downloads an object on its first read; reading here,
    before the response starts, turns a failing store into a Swedish error
    page instead of a download that breaks off after its headers.
    FileNotFoundError (the row's file is gone) passes through as it is;
    StorageUnavailable says the store itself fails.
    """
    try:
        handle = file.open("rb")
        handle.read(0)
    except FileNotFoundError:
        # S3 answers a HEAD for an object in a missing bucket with a bare 404,
        # just like a missing object: ask the bucket before calling it gone.
        if storage_readiness() == "unavailable":
            raise StorageUnavailable from None
        raise
    except (OSError, *S3_ERRORS) as error:
        logger.warning("Material file %s could not be read: %s", file.name, type(error).__name__)
        raise StorageUnavailable from error
    return handle


def s3_storage():
    """The S3 storage when it is the configured default, else None."""
    # Imported only where S3 is configured: boto3 is heavy, and the file
    # system storage of `make run` needs none of it.
    from storages.backends.s3 import S3Storage

    storage = storage_handler["default"]
    return storage if isinstance(storage, S3Storage) else None


@functools.lru_cache(maxsize=4)
def _probe_client(endpoint_url, region_name, access_key, secret_key, addressing_style):
    # Only with S3 configured (see `s3_storage`).
    import boto3

    # A client of its own: one attempt, one second each way, so that a
    # readiness probe polled every second never hangs on a dead store.
    session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key)
    return session.client(
        "s3",
        region_name=region_name,
        endpoint_url=endpoint_url,
        config=Config(
            connect_timeout=1,
            read_timeout=1,
            # `total_max_attempts`: botocore's `max_attempts` counts retries.
            retries={"mode": "standard", "total_max_attempts": 1},
            s3={"addressing_style": addressing_style or "auto"},
        ),
    )


def s3_probe_client(storage):
    """A client of the S3 `storage`'s store that gives up within a second."""
    return _probe_client(
        storage.endpoint_url,
        storage.region_name,
        storage.access_key,
        storage.secret_key,
        storage.addressing_style,
    )


def storage_readiness() -> str:
    """ "ok" when the S3 bucket answers to our keys, "unavailable" when not,
    "not_checked" for the local disk (one server, nothing to reach)."""
    storage = s3_storage()
    if storage is None:
        return "not_checked"
    client = s3_probe_client(storage)
    try:
        client.head_bucket(Bucket=storage.bucket_name)
    except S3_ERRORS as error:
        logger.warning("Readiness: the S3 bucket did not answer: %s", type(error).__name__)
        return "unavailable"
    return "ok"
