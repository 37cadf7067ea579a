"""The public support forms: contact (to a support ticket) and the look-up of
a school unit's huvudman, both rate-limited per network."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.network import client_address
from core.ratelimit import rate_limit_hit
from portal import services
from portal.forms import ContactForm, HuvudmanLookupForm
from portal.models import TicketCategory

CONTACT_LIMIT_PER_ADDRESS = 5
LOOKUP_LIMIT_PER_ADDRESS = 5
LOOKUP_LIMIT_PER_EMAIL = 3


def _address_key(request: HttpRequest) -> str:
    return f"addr:{client_address(request) or 'unknown'}"


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    # ?kategori=tillganglighet (the accessibility statement's link) picks the category.
    initial = {}
    if request.GET.get("kategori") == "tillganglighet":
        initial["category"] = TicketCategory.ACCESSIBILITY
    form = ContactForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not rate_limit_hit(
            scope="contact", keys={_address_key(request): CONTACT_LIMIT_PER_ADDRESS}
        ):
            form.add_error(
                None,
                _(
                    "Too many messages have been sent from your network in the last hour. "
                    "Please try again later."
                ),
            )
            status = 429
        else:
            _ticket_submit(form.cleaned_data, address=client_address(request))
            messages.success(
                request, _("Thank you. Your message has been sent to support; we answer by e-mail.")
            )
            return redirect("support:contact")
    elif request.method == "POST":
        status = 400
    return render(request, "portal/contact.html", {"form": form}, status=status)


def _ticket_submit(data: dict, *, address: str | None) -> None:
    # SECURITY: a filled honeypot is a bot. Answer as if all went well,
    # store nothing and mail nothing, so it learns nothing.
    if not data["website"]:
        services.support_ticket_submit(
            category=data["category"],
            name=data["name"],
            email=data["email"],
            subject=data["subject"],
            message=data["message"],
            client_address=address,
        )


@require_http_methods(["GET", "POST"])
def huvudman_lookup(request: HttpRequest) -> HttpResponse:
    form = HuvudmanLookupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        keys = {
            _address_key(request): LOOKUP_LIMIT_PER_ADDRESS,
            # Nor may anyone flood one principal's mailbox from many addresses.
            f"email:{data['email'].lower()}": LOOKUP_LIMIT_PER_EMAIL,
        }
        if not rate_limit_hit(scope="huvudman_lookup", keys=keys):
            form.add_error(
                None,
                _("Too many look-ups have been made in the last hour. Please try again later."),
            )
            status = 429
        else:
            services.huvudman_contact_send(skolenhetskod=data["skolenhetskod"], email=data["email"])
            # SECURITY: the same answer whether or not the pair matched, so the
            # page cannot be used to learn who is principal where.
            messages.success(
                request,
                _(
                    "If the e-mail address belongs to a principal of that school unit, we have "
                    "now sent the huvudman's contact details to it. Check your inbox in a few "
                    "minutes."
                ),
            )
            return redirect("support:huvudman_lookup")
    elif request.method == "POST":
        status = 400
    return render(request, "portal/huvudman_lookup.html", {"form": form}, status=status)
