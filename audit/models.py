"""The audit event: who did what, at which school, when, from where.

It came from `permissions` and keeps its table, `permissions_auditevent`,
with the PostgreSQL trigger that refuses UPDATE and DELETE (permissions
migrations 0003 and 0004). The school unit and huvudman are foreign keys
named by string, so this app imports no domain app."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.display import action_label


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")


class AuditEvent(models.Model):
    """Who did what, at which school, when, from where. Append-only.

    No foreign key to the user: removing a teacher deletes the account, and
    its history must survive without being rewritten (SET_NULL would be an
    UPDATE, which the database refuses on PostgreSQL).
    """

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True)
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    actor_role = models.CharField(_("actor role"), max_length=20, blank=True)
    huvudman = models.ForeignKey(
        "schools.Huvudman",
        verbose_name=_("huvudman"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    school_unit = models.ForeignKey(
        "schools.SchoolUnit",
        verbose_name=_("school unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    target = models.CharField(_("target"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table = "permissions_auditevent"
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["school_unit", "-created_at"], name="audit_school_time"),
            models.Index(fields=["huvudman", "-created_at"], name="audit_huvudman_time"),
        ]

    def __str__(self) -> str:
        # Local time (Europe/Stockholm), as every list beside it shows; the
        # admin uses this as the page title.
        moment = timezone.localtime(self.created_at)
        return f"{moment:%Y-%m-%d %H:%M} {action_label(self.action)} {self.actor_username}".strip()

    # SECURITY: append-only at the ORM level; PostgreSQL also refuses UPDATE
    # and DELETE with a trigger (migration 0003), so raw SQL cannot either.
    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")
