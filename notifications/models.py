"""What the product tells people by mail, and each person's choice of the
optional notices."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """Every notice the product mails on its own (stored; never renamed)."""

    # To a school's principals and test administrators: a teacher confirmed
    # or declined the school's registration of an existing account.
    LINK_ANSWERED = "link_answered", _("A teacher confirmed or declined a registration")
    # To a test administrator's principals, or a principal's huvudman staff.
    CARD_LOCKED = "card_locked", _("A matrix card locked after wrong answers")
    # To a school's principals and test administrators, weekly, when anything changed.
    WEEKLY_DIGEST = "weekly_digest", _("Weekly summary of changes at the school")
    # To principals on 1 August, and again on 15 August if nothing was done.
    NEW_SCHOOL_YEAR = "new_school_year", _("Teachers waiting for reactivation in August")
    # To huvudman staff: a school unit has no active principal.
    UNIT_WITHOUT_PRINCIPAL = "unit_without_principal", _("A school unit without a principal")


# The notices a person may switch off. The others are not optional: a locked
# card may be someone guessing (security), and the August reminder comes at
# most twice a year about teachers who are locked out of material until the
# principal acts.
OPTIONAL_KINDS = (
    NotificationKind.LINK_ANSWERED,
    NotificationKind.WEEKLY_DIGEST,
    NotificationKind.UNIT_WITHOUT_PRINCIPAL,
)


class NotificationSetting(models.Model):
    """One person's switch for one optional notice; no row means on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    kind = models.CharField(_("notice"), max_length=40, choices=NotificationKind.choices)
    enabled = models.BooleanField(_("sent"), default=True)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notification setting")
        verbose_name_plural = _("notification settings")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notificationsetting_unique"),
            # Only the optional notices have a switch.
            models.CheckConstraint(
                name="notificationsetting_kind_optional",
                condition=Q(kind__in=[kind.value for kind in OPTIONAL_KINDS]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} {'on' if self.enabled else 'off'}"


class NotificationSent(models.Model):
    """A scheduled notice that went out, so it goes out once.

    `key` names the notice and its occasion ("new_school_year:1:2027:42":
    the first August mail of 2027 to user 42). `manage.py notify_due` inserts
    the row in the transaction that queues the mail, and the unique key makes
    a second run, on this server or another at the same moment, skip it.
    """

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("notice sent")
        verbose_name_plural = _("notices sent")
        indexes = [models.Index(fields=["kind", "sent_at"], name="notificationsent_kind")]

    def __str__(self) -> str:
        return self.key
