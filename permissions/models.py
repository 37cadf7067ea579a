import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions.schoolyear import school_year_start


class MaterialLevel(models.TextChoices):
    GRUNDSKOLA = "grundskola", _("Grundskola")
    GYMNASIAL = "gymnasial", _("Upper secondary")

    @classmethod
    def phrases(cls) -> dict[str, str]:
        """Each level as running text ("material at upper secondary level")."""
        return {cls.GRUNDSKOLA: _("grundskola level"), cls.GYMNASIAL: _("upper secondary level")}


class Subject(models.Model):
    """A subject (ämne) of the national syllabi, with its official code."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=20, choices=MaterialLevel.choices)

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["level", "name"]
        constraints = [
            models.CheckConstraint(
                name="subject_level_known", condition=Q(level__in=MaterialLevel.values)
            ),
            models.CheckConstraint(name="subject_code_not_blank", condition=~Q(code="")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class LevelPolicy(models.Model):
    """One row of the access-policy table: this school form reaches this level.

    Data, not code, so that a national admin can change the rule (with an
    audit event) without a release. `permissions.policy` reads it.
    """

    school_form = models.ForeignKey(
        "schools.SchoolForm",
        verbose_name=_("school form"),
        on_delete=models.PROTECT,
        related_name="level_policies",
    )
    level = models.CharField(_("material level"), max_length=20, choices=MaterialLevel.choices)

    class Meta:
        verbose_name = _("access-policy rule")
        verbose_name_plural = _("access-policy rules")
        ordering = ["school_form", "level"]
        constraints = [
            models.UniqueConstraint(fields=["school_form", "level"], name="levelpolicy_unique"),
            models.CheckConstraint(
                name="levelpolicy_level_known", condition=Q(level__in=MaterialLevel.values)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_form} → {self.get_level_display()}"


def membership_live_q(prefix: str = "") -> Q:
    """Not removed. `prefix` reaches a membership through a relation
    ("membership__" from a subject grant), so joins spell the rule the same way."""
    return Q(**{f"{prefix}removed_at__isnull": True})


def membership_confirmed_q(prefix: str = "") -> Q:
    """Confirmed: created with a new account, or its teacher confirmed it.

    SECURITY: a membership that linked an existing account by e-mail grants
    nothing until the account's owner confirms it (SPEC), so every rule that
    opens something requires this.
    """
    return Q(**{f"{prefix}confirmed_at__isnull": False})


def membership_valid_q(day: datetime.date, prefix: str = "") -> Q:
    """Live, confirmed and valid on `day`: gate condition 2 (SPEC)."""
    return (
        membership_live_q(prefix)
        & membership_confirmed_q(prefix)
        & Q(**{f"{prefix}valid_until__gte": day})
    )


class MembershipQuerySet(models.QuerySet):
    """The rules about a membership's life, spelled once."""

    def live(self) -> "MembershipQuerySet":
        """Not removed (removed memberships stay as history while the account lives)."""
        return self.filter(membership_live_q())

    def valid_on(self, day: datetime.date) -> "MembershipQuerySet":
        return self.filter(membership_valid_q(day))

    def confirmed(self) -> "MembershipQuerySet":
        """Live and confirmed, valid or not: the schools that have the teacher.

        SECURITY: a school still waiting for the teacher's confirmation has
        not been shown to know the teacher, so it learns nothing through
        them (logins, other schools) and keeps nothing alive.
        """
        return self.live().filter(membership_confirmed_q())

    def pending(self) -> "MembershipQuerySet":
        """Live, waiting for its teacher's confirmation (grants nothing yet)."""
        return self.live().filter(~membership_confirmed_q())

    def expired_on(self, day: datetime.date) -> "MembershipQuerySet":
        """Live and confirmed, but its validity ended before `day`."""
        return self.live().filter(membership_confirmed_q(), valid_until__lt=day)

    def accounts_kept_besides(self, memberships) -> set[int]:
        """The users of `memberships` whose account outlives their removal:
        another confirmed membership keeps it (`Membership.other_schools_count`
        for many at once; a registration still waiting keeps nothing)."""
        return set(
            self.confirmed()
            .filter(user__in={membership.user_id for membership in memberships})
            .exclude(pk__in=[membership.pk for membership in memberships])
            .values_list("user_id", flat=True)
        )

    def reactivatable(self, today: datetime.date) -> "MembershipQuerySet":
        """Live, and valid only for an earlier school year: reactivation is open
        (`permissions.policy.reactivation_is_open`, the same rule for one row)."""
        return self.expired_on(school_year_start(today))


class Membership(models.Model):
    """A teacher's membership of one school unit: the unit of local access.

    Valid until the end of the school year in which it was registered or last
    reactivated. Removal ends it; the account goes with its last membership.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("teacher"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    school_unit = models.ForeignKey(
        "schools.SchoolUnit",
        verbose_name=_("school unit"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    valid_until = models.DateField(_("valid until"))
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    # None while an existing account linked by its e-mail address waits for
    # its owner's confirmation (`permissions.services.memberships.memberships_register`).
    confirmed_at = models.DateTimeField(
        _("confirmed by the teacher"), null=True, blank=True, default=timezone.now
    )
    # The name the registering school typed, kept while the membership has
    # never been confirmed (`permissions.policy.known_names`); empty for a new account's. The
    # database's own default too: a server still running the previous
    # release during a rolling deploy inserts memberships without them.
    typed_first_name = models.CharField(
        _("first name as registered"), max_length=150, blank=True, default="", db_default=""
    )
    typed_last_name = models.CharField(
        _("last name as registered"), max_length=150, blank=True, default="", db_default=""
    )
    subjects = models.ManyToManyField(
        Subject, through="SubjectGrant", related_name="memberships", blank=True
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            # One live membership per teacher and school; removed ones stay as history.
            models.UniqueConstraint(
                fields=["user", "school_unit"],
                condition=Q(removed_at__isnull=True),
                name="membership_one_live_per_school",
            ),
        ]
        indexes = [models.Index(fields=["school_unit", "valid_until"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.school_unit}"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def is_pending(self) -> bool:
        return not self.is_removed and self.confirmed_at is None

    def is_valid_on(self, day) -> bool:
        return not self.is_removed and self.confirmed_at is not None and self.valid_until >= day

    def other_schools_count(self) -> int:
        """The teacher's other schools that keep the account: live, confirmed
        memberships besides this one (0: removing this deletes the account)."""
        return (
            Membership.objects.confirmed().filter(user_id=self.user_id).exclude(pk=self.pk).count()
        )


class EmailCodePurpose(models.TextChoices):
    # The owner of an existing teacher account confirms (or declines) a school's registration.
    CONFIRM_MEMBERSHIP = "confirm_membership", _("Confirm a registration")
    # The owner of a teacher account chooses a new password (the account is shared by
    # schools the principal who sent it does not all administer).
    NEW_PASSWORD = "new_password", _("Choose a new password")
    # The owner forgot the password and asked for a code at the portal's login
    # ("Glömt lösenordet?"); it works for 30 minutes.
    RESET_PASSWORD = "reset_password", _("Reset a forgotten password")
    # The owner links a school account (federated login) to the account, proving
    # the address instead of typing the password; it works for 30 minutes.
    LINK_SCHOOL_ACCOUNT = "link_school_account", _("Link a school account")


class EmailCode(models.Model):
    """A one-time code mailed to a teacher account's e-mail address.

    SECURITY: an e-mail address is all a school types to find an existing
    account, so proof of that address is what the account's owner gives back.
    Only a keyed hash of the code is stored; a code works once, until
    `expires_at`, and wrong codes are throttled like passwords
    (`permissions.services.confirmations.email_code_redeem`).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_codes"
    )
    purpose = models.CharField(max_length=30, choices=EmailCodePurpose.choices)
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, null=True, blank=True, related_name="email_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("e-mailed code")
        verbose_name_plural = _("e-mailed codes")
        constraints = [
            models.CheckConstraint(
                name="emailcode_purpose_known",
                condition=Q(
                    purpose__in=[
                        "confirm_membership",
                        "new_password",
                        "reset_password",
                        "link_school_account",
                    ]
                ),
            ),
            models.CheckConstraint(
                name="emailcode_membership_iff_confirming",
                condition=(Q(purpose="confirm_membership") & Q(membership__isnull=False))
                | (
                    Q(purpose__in=["new_password", "reset_password", "link_school_account"])
                    & Q(membership__isnull=True)
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class SubjectGrant(models.Model):
    """A subject granted on one membership: one row per subject."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="grants")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="grants")
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("subject grant")
        verbose_name_plural = _("subject grants")
        constraints = [
            models.UniqueConstraint(fields=["membership", "subject"], name="subjectgrant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.membership}: {self.subject.code}"


class TestAdministrator(models.Model):
    """A provadministratör's appointment at one school unit.

    Time-limited like a teacher's membership and reactivated by the principal
    each school year. SECURITY: never deleted (PROTECT on the account), only
    deactivated, so that what it did stays attributable.
    """

    # Named "Test…" but no test class: pytest collects none from it.
    __test__ = False

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="test_admin_appointment",
    )
    school_unit = models.ForeignKey(
        "schools.SchoolUnit",
        verbose_name=_("school unit"),
        on_delete=models.PROTECT,
        related_name="test_administrators",
    )
    valid_until = models.DateField(_("valid until"))
    deactivated_at = models.DateTimeField(_("deactivated"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("test administrator")
        verbose_name_plural = _("test administrators")

    def __str__(self) -> str:
        return f"{self.user} @ {self.school_unit}"

    def is_valid_on(self, day) -> bool:
        return self.deactivated_at is None and self.valid_until >= day


class ImportPreview(models.Model):
    """A checked CSV file waiting for the principal's "Import".

    The form carries the token; applying needs the same person, the same
    school and a token that is still here. A new upload by the same person
    deletes the old preview (and a failed one leaves none), so what is
    applied is always the file that was last shown. The text holds names
    and e-mail addresses, no secrets; it is planned again when applied.
    """

    token = models.CharField(max_length=64, unique=True)
    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="+"
    )
    actor_id = models.BigIntegerField()
    text = models.TextField()
    mode = models.CharField(max_length=10)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["actor_id"], name="importpreview_actor")]

    def __str__(self) -> str:
        return f"import preview {self.pk} ({timezone.localtime(self.created_at):%Y-%m-%d %H:%M})"


class ImportPickup(models.Model):
    """The slips (with passwords) and the report of an applied import, until
    the principal downloads them.

    SECURITY: sealed (AES-GCM, `core.sealed`) under a random key that is
    not stored: it is in the result page only, and every download posts it
    back. The database alone never holds the new passwords in clear. Usable
    for `PICKUP_LIFETIME`; the next import deletes expired ones (unreadable
    anyway once the page with the key is gone).
    """

    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, related_name="+"
    )
    actor_id = models.BigIntegerField()
    sealed = models.BinaryField()
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"import pickup {self.pk} ({timezone.localtime(self.created_at):%Y-%m-%d %H:%M})"
