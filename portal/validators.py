"""Upload checks for material files."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PDF_MAGIC = b"%PDF-"
MAX_PDF_BYTES = 100 * 1024 * 1024


def validate_pdf(file) -> None:
    """Accept only a PDF: by its first bytes, not by its name or declared type.

    SECURITY: the name and the Content-Type are whatever the uploader sent;
    the magic bytes are what a reader will actually open. The file is served
    as application/pdf with nosniff, so anything else must not get in.
    """
    if file.size is not None and file.size > MAX_PDF_BYTES:
        raise ValidationError(
            _("The file is too large: at most %(limit)d MB."),
            code="too_large",
            params={"limit": MAX_PDF_BYTES // (1024 * 1024)},
        )
    position = file.tell() if hasattr(file, "tell") else None
    file.seek(0)
    head = file.read(len(PDF_MAGIC))
    file.seek(position or 0)
    if head != PDF_MAGIC:
        raise ValidationError(
            _("The file is not a PDF. Upload the material as a PDF file."), code="not_pdf"
        )
