"""provisioning's models: a huvudman's SS 12000 source, the mirror of what it
said (ids kept so that a renamed person stays the same person), and the
proposals a principal approves.

Privacy: only what the gate needs is kept (names, the school e-mail, the
source's ids, duty roles and dates, subject codes). A civic number is never
read into a row ([privacy](../docs/privacy.md)).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The duty roles (SS 12000 `dutyRole`) that make a teacher, unless a source says otherwise.
TEACHING_ROLES = ["Lärare", "Förstelärare", "Speciallärare/specialpedagog"]


def default_teaching_roles() -> list[str]:
    return list(TEACHING_ROLES)


class AuthKind(models.TextChoices):
    BEARER = "bearer", _("Bearer token")
    CLIENT_CREDENTIALS = "client_credentials", _("OAuth 2 client credentials")


class Source(models.Model):
    """One huvudman's SS 12000 API. The token (or client secret) is stored
    sealed (`provisioning.secrets`), never in clear."""

    huvudman = models.OneToOneField(
        "schools.Huvudman",
        verbose_name=_("huvudman"),
        on_delete=models.CASCADE,
        related_name="ss12000_source",
    )
    base_url = models.URLField(_("address of the SS 12000 API"), max_length=500)
    auth_kind = models.CharField(
        _("authentication"), max_length=20, choices=AuthKind.choices, default=AuthKind.BEARER
    )
    client_id = models.CharField(_("client id"), max_length=200, blank=True)
    token_url = models.URLField(_("token address"), max_length=500, blank=True)
    sealed_secret = models.BinaryField(editable=False)
    teaching_roles = models.JSONField(_("teaching duty roles"), default=default_teaching_roles)
    # The start of the last successful pull: the next one asks only for what
    # changed after it (`meta.modified.after`).
    synced_through = models.DateTimeField(null=True, blank=True)
    # "Synka nu": the next run of `ss12000_sync` takes this source at once.
    sync_requested_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(_("last successful sync"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # In Swedish, as the source's page shows it; empty after a success.
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SS 12000 source")
        verbose_name_plural = _("SS 12000 sources")

    def __str__(self) -> str:
        return f"{self.huvudman} ({self.host})"

    @property
    def host(self) -> str:
        return self.base_url.split("//", 1)[-1].split("/", 1)[0]


class MirroredPerson(models.Model):
    """A person as the source last said, with our account once one is linked."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="persons")
    ext_id = models.CharField(_("id at the source"), max_length=100)
    given_name = models.CharField(max_length=150, blank=True)
    family_name = models.CharField(max_length=150, blank=True)
    email = models.CharField(max_length=254, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The school units whose membership of `user` came from this source (an
    # approved proposal): where an ended or moved duty proposes a removal.
    linked_units = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "ext_id"], name="mirrored_person_once")
        ]

    def __str__(self) -> str:
        return f"{self.given_name} {self.family_name} ({self.ext_id})"


class MirroredDuty(models.Model):
    """A duty (tjänstgöring) at one of the huvudman's school units, any role;
    `active` is False once it ended or the source deleted it."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="duties")
    ext_id = models.CharField(_("id at the source"), max_length=100)
    person_id = models.CharField(max_length=100)
    # The organisation's id at the source; the school unit when it is one of ours.
    organisation_id = models.CharField(max_length=100)
    role = models.CharField(max_length=100, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    deleted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "ext_id"], name="mirrored_duty_once")
        ]

    def __str__(self) -> str:
        return f"{self.role} ({self.ext_id})"


class MirroredActivity(models.Model):
    """An activity (undervisning): who teaches it (duty ids) and its subject code."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="activities")
    ext_id = models.CharField(_("id at the source"), max_length=100)
    subject_code = models.CharField(max_length=20, blank=True)
    duty_ids = models.JSONField(default=list)
    deleted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "ext_id"], name="mirrored_activity_once")
        ]

    def __str__(self) -> str:
        return f"{self.subject_code} ({self.ext_id})"


class MirroredOrganisation(models.Model):
    """The source's organisations with a skolenhetskod (to match our school units)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="organisations")
    ext_id = models.CharField(_("id at the source"), max_length=100)
    school_unit_code = models.CharField(max_length=20, blank=True)
    display_name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "ext_id"], name="mirrored_org_once")
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.school_unit_code})"


class ProposalKind(models.TextChoices):
    NEW = "new", _("New teacher")
    LINKED = "linked", _("Existing account")
    SUBJECTS = "subjects", _("Subjects changed")
    REMOVAL = "removal", _("Removal")


class Proposal(models.Model):
    """What the source says should change at one school, waiting for its
    principal: one row per person and school. Rewritten by each sync
    (`provisioning.planner`), deleted once applied."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="proposals")
    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="ss12000_proposals"
    )
    person = models.ForeignKey(MirroredPerson, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(max_length=10, choices=ProposalKind.choices)
    # The account a LINKED, SUBJECTS or REMOVAL proposal is about.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    membership = models.ForeignKey(
        "permissions.Membership", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.CharField(max_length=254, blank=True)
    # Subject codes: the whole set wanted, and what that adds and removes.
    subjects = models.JSONField(default=list)
    subjects_added = models.JSONField(default=list)
    subjects_removed = models.JSONField(default=list)
    # Codes the source gave that are not among our subjects: listed, never guessed.
    unknown_codes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["school_unit", "person"], name="proposal_one_per_person_and_school"
            ),
            models.CheckConstraint(
                name="proposal_kind_has_membership",
                condition=Q(kind__in=["new", "linked"]) | Q(membership__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{self.get_kind_display()}: {name}"

    def signature(self) -> tuple:
        """What the proposal says (equal signatures: nothing new to propose)."""
        return (
            self.kind,
            self.user_id,
            self.membership_id,
            self.first_name,
            self.last_name,
            self.email,
            sorted(self.subjects),
            sorted(self.subjects_added),
            sorted(self.subjects_removed),
            sorted(self.unknown_codes),
        )


class SchoolSetting(models.Model):
    """A school's own choice: approve new teachers from the source by itself.
    Removals always wait for a person."""

    school_unit = models.OneToOneField(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="ss12000_setting"
    )
    auto_approve = models.BooleanField(_("approve new teachers automatically"), default=False)

    def __str__(self) -> str:
        return f"{self.school_unit}: {self.auto_approve}"
