"""Infrastructure's own rows: the mail outbox, spent form tokens, rate-limit
hits and the national admins' site notices.

These models came from `accounts` and `portal` and keep those apps' tables
(`db_table`): moving code moved no row (migration `core 0001`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    # Nothing to send: a deferred mail whose composer found no recipient (the
    # huvudman look-up that matched nobody).
    DISCARDED = "discarded", _("Nothing to send")
    FAILED = "failed", _("Gave up")


class OutboxMessage(models.Model):
    """One mail waiting to be sent by `manage.py send_queued_mail`.

    Written in the same transaction as the change that causes it (a rolled
    back change mails nobody), sent by the worker with retries and a growing
    delay, so no request waits on SMTP or fails with it.

    SECURITY: the message (recipients, subject, body, attachments such as a
    slip with a password) is kept only sealed (`core.sealed`, AES-GCM
    under a key derived from MATRIX_CARD_KEY) and erased once it was sent or
    given up: what stays is that a mail of this kind existed, and its fate.
    """

    kind = models.CharField(_("kind"), max_length=40)
    payload = models.BinaryField(_("sealed message"), editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("queued"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        db_table = "accounts_outboxmessage"
        verbose_name = _("outgoing mail")
        verbose_name_plural = _("outgoing mail")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="queued"),
                name="outbox_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="outbox_status_valid",
                condition=Q(status__in=["queued", "sent", "discarded", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"


class SpentFormToken(models.Model):
    """A confirmation form's one-time token, spent by the act it confirmed
    (`core.once`). The unique pair makes a second spend fail inside the
    second act's own transaction, however the two requests were spread over
    app servers. Kept a day: after that no session that saw the form lives."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64)
    spent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "accounts_spentformtoken"
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="spent_form_token_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.spent_at:%Y-%m-%d %H:%M}"


class SiteNoticeQuerySet(models.QuerySet):
    def active_at(self, moment) -> "SiteNoticeQuerySet":
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)


class SiteNotice(models.Model):
    """A notice shown on every page between its start and its end."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=1000, blank=True)
    # The English site shows these; left empty, the Swedish text, marked as Swedish.
    title_en = models.CharField(
        _("title in English"), max_length=200, blank=True, default="", db_default=""
    )
    body_en = models.TextField(
        _("text in English"), max_length=1000, blank=True, default="", db_default=""
    )
    starts_at = models.DateTimeField(_("shown from"))
    ends_at = models.DateTimeField(_("shown until"))

    objects = SiteNoticeQuerySet.as_manager()

    class Meta:
        db_table = "portal_sitenotice"
        verbose_name = _("site notice")
        verbose_name_plural = _("site notices")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                name="sitenotice_ends_after_start",
                condition=Q(ends_at__gt=models.F("starts_at")),
                violation_error_message=_("The notice must end after it starts."),
            ),
        ]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="sitenotice_period")]

    def __str__(self) -> str:
        return self.title

    def in_language(self, language: str | None) -> tuple[str, str, str]:
        """Title, text and their language code for a page in `language`:
        the English text on the English site when there is one, else the
        Swedish (the page marks it `lang="sv"`, WCAG 3.1.2)."""
        if language == "en" and self.title_en:
            return self.title_en, self.body_en, "en"
        return self.title, self.body, "sv"


class RateLimitHit(models.Model):
    """One counted attempt at a rate-limited public form.

    SECURITY: rows, not cache or process memory, so that every app server
    counts the same attempts (CACHES is a DummyCache on purpose).
    """

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "portal_ratelimithit"
        indexes = [
            models.Index(fields=["scope", "key", "created_at"], name="ratelimit_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"


class KeyCheck(models.Model):
    """A check value of a key that lives outside the database, stored the
    first time a server asks whether it is ready (`core.keys`).

    The matrix cards are stored only as HMACs under MATRIX_CARD_KEY, so a
    server started with another key (a typo, a restored database beside the
    wrong secret) accepts no card and cannot open the outbox. It looks
    healthy, and every principal's login fails. With the check value stored,
    /readyz compares its own key's value with it and says "not ready" and why.

    SECURITY: the value is an HMAC under a key derived for this purpose
    alone; it tells nothing about the key that the card MACs beside it do
    not already tell.
    """

    name = models.CharField(max_length=40, unique=True)
    value = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "key check"

    def __str__(self) -> str:
        return self.name
