"""Responses that carry secrets (a new password, a card, slips): handed to
this browser only, and never kept in a cache."""

import base64

from django.http import HttpResponse


def data_url(content: bytes, media_type: str = "application/pdf") -> str:
    """A file handed over inside the page, for a link with `download`.

    SECURITY: for files with secrets in clear (slips, cards): they go to this
    browser only, inside this response, and are never stored on the server.
    """
    return f"data:{media_type};base64," + base64.b64encode(content).decode("ascii")


def no_store(response: HttpResponse) -> HttpResponse:
    # A page that shows a password must not be kept in any cache.
    response["Cache-Control"] = "no-store"
    return response


def pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return no_store(response)
