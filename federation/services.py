"""The writes of federated login: starting a login, accepting the IdP's
answer, finishing it in the browser's session, linking and unlinking school
accounts, and registering identity providers. Each is atomic and audited.

SECURITY: federation authenticates, it never authorises. These services
say who the person is (an IdP's verified eduPersonPrincipalName) and which
account they proved is theirs; what the account may open is the gate's.
"""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.scopes import home_scope
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record, field_changes
from core.refusals import RefusalCode, Refused
from federation import saml
from federation.models import (
    LOGIN_WAIT,
    REQUEST_WAIT,
    FederatedIdentity,
    IdentityProvider,
    OutstandingRequest,
    SeenAssertion,
    VerifiedLogin,
    token_digest,
)
from permissions.models import Membership

# The factor of a federated login in the audit log.
FACTOR = "school_account"


@transaction.atomic
def login_start(*, idp: IdentityProvider, browser_key: str, next_path: str) -> str:
    """Send a signed AuthnRequest to `idp`: remember it, return the IdP's URL."""
    now = timezone.now()
    OutstandingRequest.objects.filter(expires_at__lte=now).delete()
    request_id, location = saml.authn_request(idp=idp)
    if len(next_path) > OutstandingRequest._meta.get_field("next_path").max_length:
        next_path = ""  # no page of ours has such a path: the start page instead
    OutstandingRequest.objects.create(
        request_id=request_id,
        idp=idp,
        browser_hash=token_digest(browser_key),
        next_path=next_path,
        expires_at=now + REQUEST_WAIT,
    )
    return location


def login_refusal_audit(
    *, context: AuditContext, refused: Refused, idp: IdentityProvider | None, subject: str = ""
) -> None:
    """A federated login refused before any account was known (a bad answer, a replay,
    missing attributes): at the IdP's huvudman when known, with pysaml2's reason."""
    details = {"factor": FACTOR, "idp": idp.entity_id if idp else "", "refused": str(refused.code)}
    details.update({key: str(value) for key, value in refused.params.items()})
    with transaction.atomic():
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            context=context,
            huvudman=idp.huvudman if idp else None,
            target=subject,
            details=details,
        )


def answer_accept(*, context: AuditContext, saml_response: str) -> str:
    """Check the IdP's posted answer and keep what it says for the browser:
    returns the token the browser finishes its login with.

    Every refusal is audited (LOGIN_FAILED, the IdP, the reason) and raised
    as Refused; nothing is kept and no session is touched.
    """
    idp = None
    try:
        answer = saml.answer_check(saml_response=saml_response)
        idp = answer.request.idp
        return _answer_keep(answer)
    except Refused as refused:
        login_refusal_audit(context=context, refused=refused, idp=idp)
        raise


def eppn_of(answer_attributes: dict, idp: IdentityProvider) -> str:
    """The one eduPersonPrincipalName of the answer, lower-cased, in one of the IdP's scopes."""
    values = answer_attributes.get(saml.EPPN) or []
    if len(values) != 1 or values[0].count("@") != 1:
        raise Refused(RefusalCode.FEDERATION_ATTRIBUTES, attribute=saml.EPPN)
    eppn = values[0].strip().lower()
    local, scope = eppn.split("@")
    if not local or scope not in idp.scope_list():
        raise Refused(RefusalCode.FEDERATION_ATTRIBUTES, attribute=saml.EPPN, scope=scope)
    return eppn


def _first(attributes: dict, name: str, limit: int) -> str:
    values = attributes.get(name) or []
    return str(values[0]).strip()[:limit] if values else ""


@transaction.atomic
def _answer_keep(answer: saml.CheckedAnswer) -> str:
    request = answer.request
    idp = request.idp
    # SECURITY: each request is answered once; a second answer (or the
    # same one again) finds it gone.
    if not OutstandingRequest.objects.filter(pk=request.pk).delete()[0]:
        raise Refused(RefusalCode.FEDERATION_REPLAYED, reason="InResponseToUsed")
    now = timezone.now()
    SeenAssertion.objects.filter(expires_at__lte=now).delete()
    try:
        # SECURITY: the primary key makes each assertion ID count once on
        # every app server, for as long as it could be accepted at all.
        with transaction.atomic():
            SeenAssertion.objects.create(
                assertion_id=answer.assertion_id, expires_at=answer.assertion_expires
            )
    except IntegrityError:
        raise Refused(RefusalCode.FEDERATION_REPLAYED, reason="AssertionSeen") from None
    subject = eppn_of(answer.attributes, idp)
    token = secrets.token_urlsafe(32)
    mfa = set(idp.mfa_list())
    VerifiedLogin.objects.create(
        token_hash=token_digest(token),
        idp=idp,
        browser_hash=request.browser_hash,
        subject=subject,
        email=_first(answer.attributes, saml.MAIL, 254),
        display_name=_first(answer.attributes, saml.DISPLAY_NAME, 200),
        two_factor=any(context in mfa for context in answer.contexts),
        next_path=request.next_path,
        expires_at=now + LOGIN_WAIT,
    )
    return token


@transaction.atomic
def verified_login_take(
    *, context: AuditContext, token: str, browser_key: str
) -> VerifiedLogin | None:
    """The verified answer for this browser, once; None if unknown, used,
    expired or started in another browser (that one audited: a verified
    answer was lost, or someone tried to finish another's login)."""
    VerifiedLogin.objects.filter(expires_at__lte=timezone.now()).delete()
    row = (
        VerifiedLogin.objects.select_for_update()
        .select_related("idp__huvudman")
        .filter(token_hash=token_digest(token))
        .first()
    )
    if row is None:
        return None
    row.delete()
    # SECURITY: a verified answer finishes only in the browser that asked
    # for it, so nobody can log a victim in to the attacker's account.
    if not secrets.compare_digest(row.browser_hash, token_digest(browser_key or "-")):
        login_refusal_audit(
            context=context,
            refused=Refused(RefusalCode.FEDERATION_INVALID, reason="OtherBrowser"),
            idp=row.idp,
            subject=row.subject,
        )
        return None
    return row


def identity_of(*, idp: IdentityProvider, subject: str) -> FederatedIdentity | None:
    return (
        FederatedIdentity.objects.select_related("user", "idp")
        .filter(idp=idp, subject=subject, user__removed_at__isnull=True)
        .first()
    )


def trusted_email_account(*, idp: IdentityProvider, email: str) -> User | None:
    """The one teacher account a principal of the IdP's own huvudman registered
    with `email`, when the huvudman trusts its IdP's e-mail; else None.

    SECURITY: never across huvudmän (a membership at one of the IdP's
    huvudman's own schools), never an account already linked at this IdP,
    and nothing when two accounts share the address.
    """
    if not (idp.trust_email and email):
        return None
    candidates = list(
        User.objects.filter(
            role=Role.TEACHER,
            email__iexact=email,
            is_active=True,
            removed_at__isnull=True,
            # SECURITY: confirmed, not merely live: a registration still
            # waiting for the teacher (of an account at another huvudman,
            # say) has shown nothing, and must not link that account.
            pk__in=Membership.objects.confirmed()
            .filter(school_unit__huvudman_id=idp.huvudman_id)
            .values("user_id"),
        ).exclude(federated_identities__idp=idp)[:2]
    )
    return candidates[0] if len(candidates) == 1 else None


@transaction.atomic
def identity_link(
    *, context: AuditContext, idp: IdentityProvider, subject: str, user: User, proof: str
) -> FederatedIdentity:
    """Link the school account `subject` at `idp` to `user`, proved by `proof`
    ("password", "email_code" or "trusted_email"). A teacher of a huvudman whose teachers do
    not keep their password loses it now (the account page says so)."""
    # A link left on an account removed since ("borttagen", waiting for its
    # purge) is no one's any more: the school account links anew.
    FederatedIdentity.objects.filter(
        idp=idp, subject=subject, user__removed_at__isnull=False
    ).delete()
    identity = FederatedIdentity.objects.create(
        idp=idp, subject=subject, user=user, proof=proof, last_login_at=timezone.now()
    )
    password_kept = keeps_password(user=user, idp=idp)
    if not password_kept and user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    audit_record(
        action=AuditAction.FEDERATED_IDENTITY_LINKED,
        context=context.acting(user) if context.actor is None else context,
        target=user.username,
        details={"idp": idp.entity_id, "proof": proof, "password_kept": password_kept},
        **home_scope(user),
    )
    return identity


def keeps_password(*, user, idp) -> bool:
    """Whether an account linked to a school account of `idp` keeps its
    password: staff always, a teacher only where the huvudman allows it."""
    return not (user.role == Role.TEACHER and not idp.teachers_keep_password)


@transaction.atomic
def identity_unlink(*, context: AuditContext, identity: FederatedIdentity) -> None:
    """Remove a link (its owner, or a principal at a school: the event is
    recorded there); the account keeps whatever password it has."""
    user = identity.user
    scope = {"school_unit": context.school_unit} if context.school_unit else home_scope(user)
    audit_record(
        action=AuditAction.FEDERATED_IDENTITY_UNLINKED,
        context=context,
        target=user.username,
        details={"idp": identity.idp.entity_id},
        **scope,
    )
    identity.delete()


@transaction.atomic
def identity_used(*, context: AuditContext, identity: FederatedIdentity) -> None:
    """A login with a linked school account. A teacher of a huvudman that has
    since switched off "teachers keep their password" loses it now, as at linking."""
    FederatedIdentity.objects.filter(pk=identity.pk).update(last_login_at=timezone.now())
    user, idp = identity.user, identity.idp
    if not keeps_password(user=user, idp=idp) and user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        audit_record(
            action=AuditAction.PASSWORD_CHANGED,
            context=context.acting(user) if context.actor is None else context,
            target=user.username,
            details={"idp": idp.entity_id, "password_kept": False},
            **home_scope(user),
        )


IDP_FIELDS = (
    "entity_id",
    "name",
    "eppn_scopes",
    "mfa_contexts",
    "trust_email",
    "teachers_keep_password",
    "is_active",
)


@transaction.atomic
def identity_provider_save(
    *, context: AuditContext, idp: IdentityProvider, details: dict | None = None
) -> None:
    """Save a huvudman's IdP (new or changed) with its audit event (and `details`)."""
    created = idp.pk is None
    changes = field_changes(instance=idp, fields=(*IDP_FIELDS, "metadata_xml"))
    if "metadata_xml" in changes:
        changes["metadata_xml"] = ["…", "…"]
    idp.save()
    audit_record(
        action=AuditAction.IDENTITY_PROVIDER_CHANGED,
        context=context,
        huvudman=idp.huvudman,
        target=idp.entity_id,
        details={
            "change": "created" if created else "updated",
            **({} if created else changes),
            **(details or {}),
        },
    )


@transaction.atomic
def identity_provider_delete(*, context: AuditContext, idp: IdentityProvider) -> None:
    audit_record(
        action=AuditAction.IDENTITY_PROVIDER_CHANGED,
        context=context,
        huvudman=idp.huvudman,
        target=idp.entity_id,
        details={"change": "removed"},
    )
    idp.delete()
