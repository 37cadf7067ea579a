from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from schools.validators import validate_organisationsnummer, validate_skolenhetskod


class SchoolFormCode(models.TextChoices):
    GRUNDSKOLA = "grundskola", _("Grundskola")
    ANPASSAD_GRUNDSKOLA = "anpassad_grundskola", _("Anpassad grundskola")
    SPECIALSKOLA = "specialskola", _("Specialskola")
    SAMESKOLA = "sameskola", _("Sameskola")
    GYMNASIESKOLA = "gymnasieskola", _("Gymnasieskola")
    ANPASSAD_GYMNASIESKOLA = "anpassad_gymnasieskola", _("Anpassad gymnasieskola")
    INTRODUKTIONSPROGRAM = "introduktionsprogram", _("Introduktionsprogram")
    KOMMUNAL_VUXENUTBILDNING = "kommunal_vuxenutbildning", _("Kommunal vuxenutbildning")


class Huvudman(models.Model):
    """A school organizer: a municipality or an independent school company."""

    name = models.CharField(_("name"), max_length=200)
    organisationsnummer = models.CharField(
        _("organisation number"),
        max_length=11,
        unique=True,
        validators=[validate_organisationsnummer],
        help_text=_("Ten digits, written NNNNNN-NNNN."),
    )
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("huvudman")
        verbose_name_plural = _("huvudmän")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="huvudman_organisationsnummer_format",
                condition=Q(organisationsnummer__regex=r"^[0-9]{6}-[0-9]{4}$"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SchoolForm(models.Model):
    """A school form (skolform). The rows are fixed and seeded by a migration."""

    code = models.CharField(
        _("code"), max_length=40, primary_key=True, choices=SchoolFormCode.choices
    )

    class Meta:
        verbose_name = _("school form")
        verbose_name_plural = _("school forms")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="schoolform_code_known",
                condition=Q(code__in=SchoolFormCode.values),
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_code_display())


class SchoolUnit(models.Model):
    """A skolenhet, identified nationally by its eight-digit skolenhetskod."""

    code = models.CharField(
        _("skolenhetskod"),
        max_length=8,
        unique=True,
        validators=[validate_skolenhetskod],
    )
    name = models.CharField(_("name"), max_length=200)
    huvudman = models.ForeignKey(
        Huvudman,
        verbose_name=_("huvudman"),
        on_delete=models.PROTECT,
        related_name="school_units",
    )
    forms = models.ManyToManyField(
        SchoolForm, verbose_name=_("school forms"), related_name="school_units"
    )
    principals = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="PrincipalAssignment",
        verbose_name=_("principals"),
        related_name="led_school_units",
        blank=True,
    )

    class Meta:
        verbose_name = _("school unit")
        verbose_name_plural = _("school units")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="schoolunit_code_eight_digits",
                condition=Q(code__regex=r"^[0-9]{8}$"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PrincipalAssignment(models.Model):
    """A principal leads a school unit. Accounts they create belong to the unit."""

    school_unit = models.ForeignKey(
        SchoolUnit, on_delete=models.CASCADE, related_name="principal_assignments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="principal_assignments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("principal assignment")
        verbose_name_plural = _("principal assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["school_unit", "user"], name="principalassignment_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.school_unit}"


class Principal(User):
    """Principals as huvudman staff see them in /huvudman/: a proxy of the user
    with its own admin page, so staff never reach other kinds of accounts."""

    class Meta:
        proxy = True
        verbose_name = _("principal")
        verbose_name_plural = _("principals")
