from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from permissions.models import MaterialLevel
from portal.validators import validate_pdf


class MaterialKind(models.TextChoices):
    BEDOMNINGSSTOD = "bedomningsstod", _("Assessment support (bedömningsstöd)")
    DIAGNOSTISKT = "diagnostiskt", _("Diagnostic material")
    NATIONELLT_PROV = "nationellt_prov", _("Earlier national test")
    KARTLAGGNING = "kartlaggning", _("Mapping material (kartläggningsmaterial)")
    OVRIGT = "ovrigt", _("Other material")


class ProtectionReason(models.TextChoices):
    PROVSEKRETESS = "provsekretess", _("Test secrecy (provsekretess)")
    UPPHOVSRATT = "upphovsratt", _("Copyright")
    PERSONUPPGIFTER = "personuppgifter", _("Personal data")


class Material(models.Model):
    """One item of Bedömningsportalen: open to all, or protected behind the gate.

    The file lives under MEDIA_ROOT, which no URL pattern serves: the only way
    to its bytes is `portal.views.catalogue.material_file`, through the gate.
    """

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    subject = models.ForeignKey(
        "permissions.Subject",
        verbose_name=_("subject"),
        on_delete=models.PROTECT,
        related_name="materials",
    )
    level = models.CharField(_("level"), max_length=20, choices=MaterialLevel.choices)
    kind = models.CharField(_("kind"), max_length=30, choices=MaterialKind.choices)
    is_protected = models.BooleanField(
        _("protected"),
        default=False,
        help_text=_("Protected material opens only for teachers granted its subject."),
    )
    protection_reason = models.CharField(
        _("reason for protection"),
        max_length=20,
        choices=ProtectionReason.choices,
        blank=True,
    )
    file = models.FileField(
        _("PDF file"), upload_to="material/%Y/", validators=[validate_pdf], max_length=200
    )
    published_on = models.DateField(_("published"), default=timezone.localdate)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("material")
        ordering = ["-published_on", "title"]
        constraints = [
            models.CheckConstraint(
                name="material_protected_iff_reason",
                condition=(Q(is_protected=True) & ~Q(protection_reason=""))
                | (Q(is_protected=False) & Q(protection_reason="")),
                violation_error_message=_(
                    "A protected item needs a reason for protection, and an open item none."
                ),
            ),
            models.CheckConstraint(
                name="material_level_known", condition=Q(level__in=MaterialLevel.values)
            ),
            models.CheckConstraint(
                name="material_kind_known", condition=Q(kind__in=MaterialKind.values)
            ),
            models.CheckConstraint(
                name="material_reason_known",
                condition=Q(protection_reason__in=["", *ProtectionReason.values]),
            ),
        ]
        indexes = [models.Index(fields=["level", "subject"], name="material_level_subject")]

    def __str__(self) -> str:
        return self.title

    @property
    def download_name(self) -> str:
        return f"{self.slug}.pdf"


class TicketCategory(models.TextChoices):
    QUESTION = "question", _("A question")
    LOGIN = "login", _("Login or credentials")
    ACCESS = "access", _("Access to material")
    # The accessibility statement sends people here (lagen om tillgänglighet
    # till digital offentlig service: a way to report inaccessible content).
    ACCESSIBILITY = "accessibility", _("Accessibility problem")
    OTHER = "other", _("Something else")


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class SupportTicket(models.Model):
    """A message sent through the contact form; support also gets it by e-mail.

    National admins work it in /admin/: status, who handles it, answers by
    e-mail through the outbox; every change is in its history
    (`SupportTicketEntry`) and in the audit log.
    """

    category = models.CharField(
        _("category"),
        max_length=20,
        choices=TicketCategory.choices,
        default=TicketCategory.QUESTION,
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    message = models.TextField(_("message"), max_length=5000)
    created_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("support ticket")
        verbose_name_plural = _("support tickets")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="supportticket_category_known",
                condition=Q(category__in=TicketCategory.values),
            ),
            models.CheckConstraint(
                name="supportticket_status_known",
                condition=Q(status__in=["new", "in_progress", "answered", "closed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M} {self.subject}"


class TicketEntryKind(models.TextChoices):
    STATUS = "status", _("Status changed")
    ASSIGNED = "assigned", _("Handler changed")
    ANSWER = "answer", _("Answer sent")


class SupportTicketEntry(models.Model):
    """One step in a ticket's history: a status change, a new handler or an answer."""

    ticket = models.ForeignKey(SupportTicket, on_delete=models.CASCADE, related_name="entries")
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    actor_username = models.CharField(_("by"), max_length=150, blank=True)
    kind = models.CharField(_("what"), max_length=20, choices=TicketEntryKind.choices)
    text = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.created_at):%Y-%m-%d %H:%M} {self.get_kind_display()}"
