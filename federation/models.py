"""Identity providers per huvudman, the federated identities linked to
accounts, and what the service provider remembers between requests (its
outstanding requests, the assertions it has seen, verified logins waiting
for the browser's own session).

SECURITY: federation authenticates, it never authorises. A linked identity
is another way to prove who an account holder is; what the account may see
is decided by the gate (`permissions.policy`) exactly as after a password.
"""

import datetime
import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The REFEDS Multi-Factor Authentication Profile: the AuthnContextClassRef an
# IdP sends when two factors were used (Skolfederation's recommendation too).
REFEDS_MFA = "https://refeds.org/profile/mfa"


def token_digest(token: str) -> str:
    """How a browser-held token is stored: SHA-256 (it is random, 256 bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


def words(text: str) -> list[str]:
    """A list typed one per line, or separated by spaces or commas."""
    return [word for word in text.replace(",", " ").split() if word]


class IdentityProvider(models.Model):
    """A huvudman's SAML 2.0 identity provider (its staff's school accounts)."""

    huvudman = models.ForeignKey(
        "schools.Huvudman",
        on_delete=models.CASCADE,
        related_name="identity_providers",
        verbose_name=_("huvudman"),
    )
    entity_id = models.CharField(_("entity ID"), max_length=500, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    metadata_xml = models.TextField(_("metadata (XML)"))
    # The eduPersonPrincipalName scopes (the part after "@") this IdP may assert.
    eppn_scopes = models.TextField(
        _("eduPersonPrincipalName scopes"),
        help_text=_("One per line, e.g. skola.example.se. Other scopes are refused."),
    )
    mfa_contexts = models.TextField(
        _("two-factor AuthnContextClassRef values"),
        default=REFEDS_MFA,
        help_text=_("One per line. An assertion with one of them counts as two factors."),
    )
    trust_email = models.BooleanField(
        _("trust the IdP's e-mail"),
        default=False,
        help_text=_(
            "Link a teacher directly when the IdP's mail equals the address a principal of "
            "this huvudman registered. Never across huvudmän."
        ),
    )
    teachers_keep_password = models.BooleanField(
        _("teachers keep their password"),
        default=True,
        help_text=_(
            "Off: a teacher who links the school account loses the portal password and "
            "logs in only with the school account."
        ),
    )
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")
        ordering = ["huvudman__name", "entity_id"]

    def __str__(self) -> str:
        return self.name or self.entity_id

    def scope_list(self) -> list[str]:
        return [scope.lower() for scope in words(self.eppn_scopes)]

    def mfa_list(self) -> list[str]:
        return words(self.mfa_contexts)


class FederatedIdentity(models.Model):
    """One person's school account (IdP and eduPersonPrincipalName) linked to an account."""

    idp = models.ForeignKey(
        IdentityProvider,
        on_delete=models.CASCADE,
        related_name="identities",
        verbose_name=_("identity provider"),
    )
    # The eduPersonPrincipalName, lower-cased.
    subject = models.CharField(_("school account"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="federated_identities",
        verbose_name=_("account"),
    )
    # How the link was proved: "password" or "trusted_email".
    proof = models.CharField(_("proved with"), max_length=20)
    linked_at = models.DateTimeField(_("linked"), default=timezone.now)
    last_login_at = models.DateTimeField(_("last login"), null=True, blank=True)

    class Meta:
        verbose_name = _("linked school account")
        verbose_name_plural = _("linked school accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["idp", "subject"], name="federation_one_account_per_subject"
            ),
            models.UniqueConstraint(fields=["idp", "user"], name="federation_one_link_per_idp"),
        ]

    def __str__(self) -> str:
        return self.subject


class OutstandingRequest(models.Model):
    """An AuthnRequest this SP sent and has not yet had answered.

    SECURITY: the IdP posts its answer cross-site, without the browser's
    session cookie (SameSite=Lax), so the request is kept here, not in the
    session: the answer's InResponseTo must name one of these, from the IdP
    it was sent to, and each is answered once. `browser_hash` binds it to the
    browser that started it (a Lax cookie, read when the login is finished).
    """

    request_id = models.CharField(max_length=100, primary_key=True)
    idp = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    browser_hash = models.CharField(max_length=64)
    next_path = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.request_id


class SeenAssertion(models.Model):
    """An assertion ID already accepted: each is accepted once, on every app
    server, until it would have expired anyway."""

    assertion_id = models.CharField(max_length=200, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.assertion_id


class VerifiedLogin(models.Model):
    """A verified assertion waiting for the browser that asked for it.

    The ACS checks the response and stores what it said here; the browser
    is then sent (a same-site GET, carrying its Lax cookies) to finish the
    login in its own session, once, within a couple of minutes.
    """

    token_hash = models.CharField(max_length=64, primary_key=True)
    idp = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="+")
    browser_hash = models.CharField(max_length=64)
    subject = models.CharField(max_length=255)
    email = models.CharField(max_length=254, blank=True)
    display_name = models.CharField(max_length=200, blank=True)
    two_factor = models.BooleanField(default=False)
    next_path = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.subject


LOGIN_WAIT = datetime.timedelta(minutes=2)
REQUEST_WAIT = datetime.timedelta(minutes=15)
