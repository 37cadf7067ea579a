"""Material downloads: the gate decides, and then either this worker streams
the bytes (`make run`, no nginx) or nginx carries them (NGINX_SENDS_FILES).

With nginx in front, the response the gate returns is empty: its
`X-Accel-Redirect` header sends nginx to an `internal` location
(deploy/nginx/behorighet.conf) that no browser can request, and nginx sends
the bytes under the gate's own headers (`Content-Type`,
`Content-Disposition: attachment`, `Cache-Control: no-store`, which nginx
keeps across the redirect):
- a file on this server's disk (`STORAGE_BACKEND=filesystem`) by its name
  under `/_intern/filer/`, which nginx maps onto MEDIA_ROOT;
- an S3 object (`STORAGE_BACKEND=s3`) through `/_intern/s3/`, from which
  nginx fetches it with a GET that the app has signed (AWS Signature V4,
  valid for a few minutes, for this one object). The signature travels in
  response headers that nginx reads and drops: the browser never sees a URL
  or a signature for the store.

SECURITY: either way the file is looked at (stat, or a HEAD of the object)
before the response is made, so a missing file is a 404 and a failing store
the Swedish 503 page, with nothing audited, exactly as when streaming.
"""

import os
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.files import File
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

from core.storage import (
    S3_ERRORS,
    StorageUnavailable,
    material_file_open,
    s3_probe_client,
    s3_storage,
    storage_readiness,
)

# nginx's internal locations (deploy/nginx/behorighet.conf).
INTERNAL_FILES = "/_intern/filer/"
INTERNAL_S3 = "/_intern/s3/"
# The response headers that carry the signed request to nginx; nginx reads
# them into variables in the internal location and never passes them on.
S3_HEADER_PREFIX = "X-Behorighet-S3-"
# Amazon's path-style endpoint when S3_ENDPOINT_URL is empty.
AMAZON_ENDPOINT = "https://s3.{region}.amazonaws.com"


@dataclass
class Delivery:
    """How the bytes of one file reach the browser: `handle` streamed by
    this worker, or `headers` that hand the file to nginx."""

    handle: File | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, *, filename: str, content_type: str) -> HttpResponse:
        if self.handle is not None:
            return FileResponse(
                self.handle, as_attachment=True, filename=filename, content_type=content_type
            )
        response = HttpResponse(b"", content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        for name, value in self.headers.items():
            response[name] = value
        return response


def material_file_delivery(*, file: FieldFile) -> Delivery:
    """Make sure the file can be delivered, and say how.

    Raises FileNotFoundError when the row's file is gone (ValueError when it
    has none), StorageUnavailable when the store fails (as
    `core.storage.material_file_open` does).
    """
    if not settings.NGINX_SENDS_FILES:
        return Delivery(handle=material_file_open(file=file))
    if not file.name:
        raise ValueError("The material has no file.")
    storage = s3_storage()
    if storage is None:
        return Delivery(headers=_disk_redirect(file))
    return Delivery(headers=_s3_redirect(file, storage))


def _disk_redirect(file: FieldFile) -> dict[str, str]:
    # `file.path` is the storage's own safe join under MEDIA_ROOT; the name
    # nginx gets is relative to it, percent-encoded (nginx decodes it).
    if not os.path.isfile(file.path):
        raise FileNotFoundError(file.name)
    return {"X-Accel-Redirect": INTERNAL_FILES + quote(file.name)}


def _s3_redirect(file: FieldFile, storage) -> dict[str, str]:
    # The storage's own key for the name (its `location` prefix, normalised).
    key = storage._normalize_name(file.name.replace("\\", "/"))
    client = s3_probe_client(storage)
    try:
        client.head_object(Bucket=storage.bucket_name, Key=key)
    except S3_ERRORS as error:
        answer = getattr(error, "response", None) or {}
        status = answer.get("ResponseMetadata", {}).get("HTTPStatusCode")
        # S3 answers a missing bucket with the same bare 404 as a missing
        # object: ask the bucket before calling the file gone.
        if status == 404 and storage_readiness() != "unavailable":
            raise FileNotFoundError(file.name) from None
        raise StorageUnavailable from error
    return s3_signed_headers(storage=storage, key=key)


def s3_signed_headers(*, storage, key: str) -> dict[str, str]:
    """The X-Accel-Redirect to nginx's S3 location and the headers of a GET
    of `key` signed for the store (path-style, AWS Signature V4)."""
    # Only with S3 configured: botocore is heavy, the disk needs none of it.
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    endpoint = (storage.endpoint_url or AMAZON_ENDPOINT.format(region=storage.region_name)).rstrip(
        "/"
    )
    path = "/" + quote(f"{storage.bucket_name}/{key}", safe="/~")
    request = AWSRequest(method="GET", url=endpoint + path)
    credentials = Credentials(storage.access_key, storage.secret_key, storage.security_token)
    # Signed now, for this one GET: S3 refuses it 15 minutes from now.
    S3SigV4Auth(credentials, "s3", storage.region_name).add_auth(request)
    headers = {
        "X-Accel-Redirect": INTERNAL_S3,
        S3_HEADER_PREFIX + "Host": urlsplit(endpoint).netloc,
        S3_HEADER_PREFIX + "Path": path,
        S3_HEADER_PREFIX + "Authorization": request.headers["Authorization"],
        S3_HEADER_PREFIX + "Date": request.headers["X-Amz-Date"],
        S3_HEADER_PREFIX + "Content-Sha256": request.headers["X-Amz-Content-SHA256"],
    }
    if "X-Amz-Security-Token" in request.headers:
        headers[S3_HEADER_PREFIX + "Token"] = request.headers["X-Amz-Security-Token"]
    return headers
