"""/huvudman/: principals: issue, link and unlink, new credentials, unlock,
deactivate and reactivate; credentials shown once, never stored."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.card_pdf import card_rows, render_card_pdf
from accounts.models import CARD_COLUMNS, CURRENT_CARD_STATES, CardState, MatrixCardDevice
from accounts.services.cards import card_unlock, current_card
from backoffice.forms import (
    PrincipalIssueForm,
    PrincipalLinkForm,
    PrincipalRegenerateForm,
    SchoolUnitChoiceForm,
)
from backoffice.huvudman.site import ScopedAdmin, huvudman_site
from core.once import ONCE_FIELD, Repeated, once_repeated, once_token, said_repeated, spent_once
from core.refusals import Refused
from permissions.policy import (
    can_manage_principal,
    can_use_huvudman_site,
    huvudman_of_staff,
    huvudman_principals,
    huvudman_school_units,
)
from permissions.slips import ETJANSTER_LOGIN_PATH, Slip, render_slips
from schools.models import Principal, SchoolUnit
from schools.services import (
    principal_deactivate,
    principal_issue,
    principal_link,
    principal_reactivate,
    principal_regenerate,
    principal_unlink,
)
from web.reauth import Reauth, reauth_check, reauth_prompt
from web.request import audit_context
from web.responses import data_url


def card_state_label(card: MatrixCardDevice | None) -> str:
    return str(card.get_state_display()) if card is not None else gettext("No card")


@admin.register(Principal, site=huvudman_site)
class PrincipalAdmin(ScopedAdmin):
    """Principals: issued, regenerated, unlocked, (de)activated and linked
    through custom pages, each change a POST through a service."""

    list_display = ("full_name", "username", "email", "units_display", "is_active", "card_state")
    search_fields = ("username", "first_name", "last_name", "email")
    search_help_text = _("Search username, name or e-mail address")

    def get_queryset(self, request):
        user = request.user
        return (
            Principal.objects.filter(pk__in=huvudman_principals(user=user).values("pk"))
            .order_by("last_name", "first_name", "pk")
            .prefetch_related(
                Prefetch(
                    "led_school_units",
                    queryset=huvudman_school_units(user=user),
                    to_attr="own_units",
                ),
                Prefetch(
                    "matrixcarddevice_set",
                    queryset=MatrixCardDevice.objects.filter(state__in=CURRENT_CARD_STATES),
                    to_attr="cards",
                ),
            )
        )

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, obj: Principal) -> str:
        return obj.get_full_name()

    @admin.display(description=_("school units"))
    def units_display(self, obj: Principal) -> str:
        return ", ".join(f"{unit.name} ({unit.code})" for unit in obj.own_units)

    @admin.display(description=_("matrix card"))
    def card_state(self, obj: Principal) -> str:
        return card_state_label(obj.cards[0] if obj.cards else None)

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return can_use_huvudman_site(user=request.user)
        return can_manage_principal(user=request.user, principal=obj)

    has_change_permission = has_view_permission

    def has_add_permission(self, request) -> bool:
        return can_use_huvudman_site(user=request.user)

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(require_POST(view))

        def wrap_confirmed(view):
            # GET (or a POST without `confirm`) shows the confirmation page.
            return self.admin_site.admin_view(require_http_methods(["GET", "POST"])(view))

        return [
            path(
                "<path:object_id>/regenerate/",
                wrap_confirmed(self.regenerate_view),
                name="principal_regenerate",
            ),
            path("<path:object_id>/unlock/", wrap(self.unlock_view), name="principal_unlock"),
            path(
                "<path:object_id>/deactivate/",
                wrap_confirmed(self.deactivate_view),
                name="principal_deactivate",
            ),
            path(
                "<path:object_id>/reactivate/",
                wrap(self.reactivate_view),
                name="principal_reactivate",
            ),
            path("<path:object_id>/link/", wrap(self.link_view), name="principal_link"),
            path(
                "<path:object_id>/unlink/",
                wrap_confirmed(self.unlink_view),
                name="principal_unlink",
            ),
            *super().get_urls(),
        ]

    # -- helpers -----------------------------------------------------------

    def principal_or_404(self, request, object_id) -> Principal:
        principal = self.get_object(request, object_id)
        if not self.has_change_permission(request, principal):
            raise Http404
        return principal

    def detail_url(self, principal) -> str:
        return reverse("huvudman:schools_principal_change", args=[principal.pk])

    def render_page(self, request, template: str, context: dict) -> TemplateResponse:
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )

    def render_credentials(self, request, *, principal, password, card, title) -> HttpResponse:
        context = {"title": title, "principal": principal, "password": password, "card": card}
        if card is not None:
            # SECURITY: the PDF is made in this request and handed over inline,
            # never stored: the secrets exist only in this response. It never
            # carries the password: the two factors travel apart.
            pdf = render_card_pdf(user=principal, card=card)
            context["card_rows"] = card_rows(card.cells)
            context["card_columns"] = CARD_COLUMNS
            context["pdf_href"] = data_url(pdf)
            context["pdf_filename"] = f"inloggningsmatris-{principal.username}-{card.serial}.pdf"
        if password:
            slip = Slip(
                name=principal.get_full_name(),
                username=principal.username,
                school_name=", ".join(str(unit) for unit in principal.led_school_units.all()),
                valid_until=None,
                password=password,
                login_path=ETJANSTER_LOGIN_PATH,
            )
            context["slip_href"] = data_url(render_slips([slip]))
            context["slip_filename"] = f"losenord-{principal.username}.pdf"
        # admin_view() marks every page of the site never_cache (no-store).
        return self.render_page(request, "huvudman/principal_credentials.html", context)

    def said_repeated(self, request, principal, *, credentials: bool) -> HttpResponse:
        return said_repeated(request, self.detail_url(principal), credentials=credentials)

    def confirmation(self, request, principal, *, grave: bool, credentials: bool = False):
        """None: confirmed (and, if `grave`, a stale session typed a TOTP code
        again): act, inside `core.once.spent_once`. A response: the same
        confirmation was sent before, so nothing is done again. Else
        `(reauth, status)` for the confirmation page."""
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            if once_repeated(request):
                return self.said_repeated(request, principal, credentials=credentials)
            if not grave:
                return None
            problem = reauth_check(request)
            if problem is None:
                return None
            return problem, 400
        return (reauth_prompt(request) if grave else Reauth()), 200

    def confirm_page(
        self, request, principal, step, *, title, consequences, button, hidden=(), danger=True
    ) -> TemplateResponse:
        reauth, status = step
        response = self.render_page(
            request,
            "huvudman/confirm.html",
            {
                "title": title,
                "principal": principal,
                "facts": [
                    (gettext("Principal"), f"{principal.get_full_name()} ({principal.username})"),
                    (
                        gettext("School units"),
                        ", ".join(f"{unit.name} ({unit.code})" for unit in principal.own_units),
                    ),
                ],
                "consequences": consequences,
                "button": button,
                "hidden": [*hidden, (ONCE_FIELD, once_token())],
                "danger": danger,
                "action_url": request.path,
                "cancel_url": self.detail_url(principal),
                "reauth": reauth,
            },
        )
        response.status_code = status
        return response

    # -- views -------------------------------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        """Issue a principal: the result page shows the credentials once."""
        if not self.has_add_permission(request):
            raise Http404
        units = huvudman_school_units(user=request.user)
        form = PrincipalIssueForm(request.POST or None, school_units=units)
        if request.method == "POST" and form.is_valid():
            try:
                issued = principal_issue(
                    context=audit_context(request),
                    name=form.cleaned_data["name"],
                    email=form.cleaned_data["email"],
                    school_units=form.cleaned_data["school_units"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return self.render_credentials(
                    request,
                    principal=issued.user,
                    password=issued.password,
                    card=issued.card,
                    title=gettext("Credentials issued to the principal"),
                )
        return self.render_page(
            request,
            "huvudman/principal_issue.html",
            {"title": gettext("Issue a principal"), "form": form, "add": True},
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        principal = self.principal_or_404(request, object_id)
        if request.method != "GET":
            return HttpResponse(status=405, headers={"Allow": "GET"})
        linked_ids = {unit.pk for unit in principal.own_units}
        linkable = huvudman_school_units(user=request.user).exclude(pk__in=linked_ids)
        card = principal.cards[0] if principal.cards else None
        return self.render_page(
            request,
            "huvudman/principal_detail.html",
            {
                "title": principal.get_full_name() or principal.username,
                "on_principal_page": True,
                "principal": principal,
                "original": principal,
                "card": card,
                "card_state": card_state_label(card),
                "card_locked": card is not None and card.state == CardState.LOCKED,
                "regenerate_form": PrincipalRegenerateForm(),
                "link_form": PrincipalLinkForm(school_units=linkable),
                "can_link": linkable.exists(),
            },
        )

    def regenerate_view(self, request, object_id) -> HttpResponse:
        principal = self.principal_or_404(request, object_id)
        form = PrincipalRegenerateForm(request.POST if request.method == "POST" else request.GET)
        if not form.is_valid():
            for error in form.non_field_errors():
                self.message_user(request, error, messages.ERROR)
            return HttpResponseRedirect(self.detail_url(principal))
        password, card = form.cleaned_data["password"], form.cleaned_data["card"]
        step = self.confirmation(request, principal, grave=True, credentials=True)
        if isinstance(step, HttpResponse):
            return step
        if step is not None:
            what = (
                gettext("a new password and a new matrix card")
                if password and card
                else gettext("a new password")
                if password
                else gettext("a new matrix card")
            )
            return self.confirm_page(
                request,
                principal,
                step,
                title=gettext("Give %(name)s %(what)s?")
                % {"name": principal.get_full_name(), "what": what},
                consequences=[
                    gettext(
                        "What is replaced stops working at once and the principal is logged out. "
                        "The new credentials are shown once, on the next page."
                    )
                ],
                button=gettext("Issue new credentials"),
                hidden=[(name, "on") for name in ("password", "card") if form.cleaned_data[name]],
                danger=False,
            )
        try:
            with spent_once(request):
                regenerated = principal_regenerate(
                    context=audit_context(request),
                    principal=principal,
                    password=password,
                    card=card,
                )
        except Repeated:
            return self.said_repeated(request, principal, credentials=True)
        return self.render_credentials(
            request,
            principal=principal,
            password=regenerated.password,
            card=regenerated.card,
            title=gettext("New credentials"),
        )

    def unlock_view(self, request, object_id) -> HttpResponse:
        principal = self.principal_or_404(request, object_id)
        card = current_card(user=principal)
        if card is None or card.state != CardState.LOCKED:
            # A stale page or a double click: nothing to unlock, nothing audited.
            self.message_user(request, gettext("The matrix card is not locked."), messages.INFO)
        else:
            card_unlock(user=principal, context=audit_context(request))
            self.message_user(request, gettext("The matrix card is unlocked."), messages.SUCCESS)
        return HttpResponseRedirect(self.detail_url(principal))

    def deactivate_view(self, request, object_id) -> HttpResponse:
        principal = self.principal_or_404(request, object_id)
        step = self.confirmation(request, principal, grave=False)
        if isinstance(step, HttpResponse):
            return step
        if step is not None:
            return self.confirm_page(
                request,
                principal,
                step,
                title=gettext("Deactivate %(name)s?") % {"name": principal.get_full_name()},
                consequences=[
                    gettext(
                        "The principal can no longer log in and every session ends at once. "
                        "Reactivating the account later makes the same username, password and "
                        "card work again."
                    )
                ],
                button=gettext("Deactivate the account"),
            )
        try:
            with spent_once(request):
                principal_deactivate(
                    context=audit_context(request),
                    principal=principal,
                    huvudman=huvudman_of_staff(user=request.user),
                )
        except Repeated:
            return self.said_repeated(request, principal, credentials=False)
        self.message_user(
            request,
            gettext("The account is deactivated and its sessions have ended."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self.detail_url(principal))

    def reactivate_view(self, request, object_id) -> HttpResponse:
        principal = self.principal_or_404(request, object_id)
        principal_reactivate(
            context=audit_context(request),
            principal=principal,
            huvudman=huvudman_of_staff(user=request.user),
        )
        self.message_user(request, gettext("The account is active again."), messages.SUCCESS)
        return HttpResponseRedirect(self.detail_url(principal))

    def unit_or_404(self, request) -> SchoolUnit:
        form = SchoolUnitChoiceForm(
            request.POST if request.method == "POST" else request.GET,
            school_units=huvudman_school_units(user=request.user),
        )
        if not form.is_valid():
            # SECURITY: another huvudman's unit, posted by id, is not found.
            raise Http404
        return form.cleaned_data["school_unit"]

    def link_view(self, request, object_id) -> HttpResponse:
        principal = self.principal_or_404(request, object_id)
        if not request.POST.get("school_unit", "").strip():
            # "Link" pressed with no unit chosen: say so where the choice is.
            self.message_user(
                request, gettext("Choose the school unit to link the principal to."), messages.ERROR
            )
            return HttpResponseRedirect(self.detail_url(principal))
        school_unit = self.unit_or_404(request)
        replaces = request.POST.get("replaces") == "on"
        principal_link(
            context=audit_context(request),
            principal=principal,
            school_unit=school_unit,
            replaces=replaces,
        )
        self.message_user(
            request,
            gettext(
                "Linked to %(unit)s, taking over from its former principal; both were e-mailed."
            )
            % {"unit": school_unit}
            if replaces
            else gettext("Linked to %(unit)s.") % {"unit": school_unit},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self.detail_url(principal))

    def unlink_view(self, request, object_id) -> HttpResponse:
        principal = self.principal_or_404(request, object_id)
        school_unit = self.unit_or_404(request)
        step = self.confirmation(request, principal, grave=False)
        if isinstance(step, HttpResponse):
            return step
        if step is not None:
            return self.confirm_page(
                request,
                principal,
                step,
                title=gettext("Unlink %(name)s from %(unit)s?")
                % {"name": principal.get_full_name(), "unit": school_unit.name},
                consequences=[
                    gettext(
                        "The principal can no longer administer %(unit)s in E-tjänster. The "
                        "teachers and test administrators of the school are not affected, and "
                        "you can link the principal again later."
                    )
                    % {"unit": school_unit}
                ],
                button=gettext("Unlink"),
                hidden=[("school_unit", school_unit.pk)],
            )
        try:
            with spent_once(request):
                principal_unlink(
                    context=audit_context(request), principal=principal, school_unit=school_unit
                )
        except Refused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        except Repeated:
            return self.said_repeated(request, principal, credentials=False)
        else:
            self.message_user(
                request,
                gettext("Unlinked from %(unit)s.") % {"unit": school_unit},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(self.detail_url(principal))
