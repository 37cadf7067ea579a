from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    NATIONAL_ADMIN = "national_admin", _("National administrator")
    HUVUDMAN_STAFF = "huvudman_staff", _("Huvudman staff")
    PRINCIPAL = "principal", _("Principal")
    TEST_ADMIN = "test_admin", _("Test administrator")
    TEACHER = "teacher", _("Teacher")


# Roles that log in to E-tjänster with password + matrix card.
ETJANSTER_ROLES = frozenset({Role.PRINCIPAL, Role.TEST_ADMIN})
# Roles that log in to an admin site with password + TOTP.
ADMIN_ROLES = frozenset({Role.NATIONAL_ADMIN, Role.HUVUDMAN_STAFF})


class AccountManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # `createsuperuser` makes national admins; nobody else is a superuser.
        extra_fields.setdefault("role", Role.NATIONAL_ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """One login. The role decides which door it opens; it never changes."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    huvudman = models.ForeignKey(
        "schools.Huvudman",
        verbose_name=_("huvudman"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("Only for huvudman staff: the huvudman whose data they manage."),
    )

    objects = AccountManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_role_valid",
                condition=Q(role__in=[choice.value for choice in Role]),
            ),
            # Huvudman staff belong to exactly one huvudman; nobody else has one.
            models.CheckConstraint(
                name="user_huvudman_iff_staff",
                condition=(Q(role=Role.HUVUDMAN_STAFF) & Q(huvudman__isnull=False))
                | (~Q(role=Role.HUVUDMAN_STAFF) & Q(huvudman__isnull=True)),
            ),
            # SECURITY: only national admins may ever reach /admin/ as superusers.
            models.CheckConstraint(
                name="user_superuser_is_national_admin",
                condition=Q(is_superuser=False) | Q(role=Role.NATIONAL_ADMIN),
            ),
        ]

    def __str__(self) -> str:
        full_name = self.get_full_name()
        return f"{full_name} ({self.username})" if full_name else self.username

    @property
    def is_national_admin(self) -> bool:
        return self.role == Role.NATIONAL_ADMIN

    @property
    def is_huvudman_staff(self) -> bool:
        return self.role == Role.HUVUDMAN_STAFF

    @property
    def is_principal(self) -> bool:
        return self.role == Role.PRINCIPAL

    @property
    def is_test_admin(self) -> bool:
        return self.role == Role.TEST_ADMIN

    @property
    def is_teacher(self) -> bool:
        return self.role == Role.TEACHER

    @property
    def uses_etjanster(self) -> bool:
        return self.role in ETJANSTER_ROLES
