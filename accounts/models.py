import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.refusals import RefusalCode, Refused


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
    # SECURITY: raised by `accounts.services.access.access_end` whenever the account
    # loses access. It is part of the session auth hash, so every session
    # started before stays invalid for good, also after a reactivation.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)
    # An admin-site account issued with a one-time password: until it has
    # enrolled its authenticator app and chosen its own password (before this
    # moment), it opens nothing but the enrolment page.
    onboarding_until = models.DateTimeField(
        _("one-time password valid until"), null=True, blank=True, editable=False
    )
    # "Registrera mig som lärare": the principal's or test administrator's own
    # teacher account points to their E-tjänster account. SECURITY: such an
    # account is found through this link only, never by its e-mail address.
    etjanster_owner = models.OneToOneField(
        "self",
        verbose_name=_("E-tjänster account of its owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="own_teacher_account",
    )

    # "Borttagen": a teacher account whose last membership was removed. It
    # opens nothing (inactive, every session ended, its login answers as for
    # an unknown username) and is kept only so that its school can undo the
    # removal; `manage.py purge_removed_accounts` deletes it for good after
    # 30 days (`permissions.services.removal`).
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True, editable=False)

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
            # Only a teacher account is ever removed so, and it is inactive meanwhile.
            models.CheckConstraint(
                name="user_removed_is_inactive_teacher",
                condition=Q(removed_at__isnull=True) | (Q(role=Role.TEACHER) & Q(is_active=False)),
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

    def _get_session_auth_hash(self, secret=None):
        """Django's session hash (from the password hash), plus the session epoch.

        SECURITY: a session stores this hash at login and is valid only while
        it matches. Raising `session_epoch` therefore ends every session of
        the account at once and for good: reactivating the account, or
        setting the old password again, never brings one back. Epoch 0 gives
        Django's own hash, so sessions from before this field stay valid.
        """
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "accounts.User.session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

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


# --- The login matrix card -------------------------------------------------

CARD_COLUMNS = "ABCDEFGH"
CARD_ROWS = tuple(range(1, 11))
# Reading order on paper: row by row, A1 … H1, A2 … H10.
CARD_CELLS = tuple(f"{column}{row}" for row in CARD_ROWS for column in CARD_COLUMNS)
# No 0/O, 1/I/L: a cell copied off paper must not be ambiguous.
CARD_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CARD_CELL_LENGTH = 2
CHALLENGE_SIZE = 3
CHALLENGE_LIFETIME = timedelta(minutes=15)
# At most this many challenges a day without a successful answer.
DAILY_CHALLENGE_CAP = 10
# Consecutive wrong answers after which the card locks until the role above acts.
LOCK_AFTER_FAILURES = 5
SERIAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class AuthenticatorApp(TOTPDevice):
    """django-otp's TOTP device under a Swedish name for the admin site
    (django-otp's own verbose names and help texts are not translatable)."""

    class Meta:
        proxy = True
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")


class CardState(models.TextChoices):
    ACTIVE = "active", _("Active")
    LOCKED = "locked", _("Locked")
    REPLACED = "replaced", _("Replaced")


# A person's current card: a locked card stays current until it is replaced.
CURRENT_CARD_STATES = (CardState.ACTIVE, CardState.LOCKED)


def normalize_answer(text: str) -> str:
    """Answers are case-insensitive and ignore spaces (also non-breaking ones)."""
    return "".join(str(text).split()).upper()


def cell_mac(*, user_id: int, serial: str, cell: str, value: str) -> str:
    """HMAC-SHA256 of one cell under MATRIX_CARD_KEY.

    SECURITY: the key lives in the environment, not in the database and not
    in SECRET_KEY, so a stolen database dump alone cannot be brute-forced
    (each cell has only 32² = 1024 values). The user, the card's serial and
    the cell's name are part of the message, so equal values on two cards,
    or in two cells, never have equal MACs.
    """
    key = settings.MATRIX_CARD_KEY
    if not key:
        raise ImproperlyConfigured("MATRIX_CARD_KEY is not set.")
    message = f"{user_id}:{serial}:{cell}:{normalize_answer(value)}"
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


class MatrixCardDevice(ThrottlingMixin, Device):
    """A printed login matrix card: a django-otp device for E-tjänster's second step.

    The cells are kept only as HMACs. The pending challenge (three cells) is
    pinned here, on the card, not in a browser session: whoever knows the
    password sees the same three cells until they are answered or expire, so
    a thief cannot shop for cells they happen to know.
    """

    serial = models.CharField(_("serial number"), max_length=9, unique=True)
    issued_on = models.DateField(_("issue date"))
    state = models.CharField(
        _("state"), max_length=10, choices=CardState.choices, default=CardState.ACTIVE
    )
    cell_macs = models.JSONField(_("cell MACs"), default=dict, editable=False)
    challenge = models.CharField(_("pinned challenge"), max_length=20, blank=True, editable=False)
    challenge_issued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Challenges issued on `challenge_day` (local date) since the last success.
    challenge_day = models.DateField(null=True, blank=True, editable=False)
    challenges_on_day = models.PositiveSmallIntegerField(default=0, editable=False)
    locked_at = models.DateTimeField(_("locked"), null=True, blank=True)
    replaced_at = models.DateTimeField(_("replaced"), null=True, blank=True)
    # Re-authentication of a logged-in holder before a grave act: one cell,
    # pinned like the login challenge (accounts.services.reauth).
    reauth_cell = models.CharField(max_length=3, blank=True, editable=False)
    reauth_issued_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("matrix card")
        verbose_name_plural = _("matrix cards")
        constraints = [
            # One current card per person; a locked card is still the current one.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state__in=["active", "locked"]),
                name="matrixcard_one_current_per_user",
            ),
            models.CheckConstraint(
                name="matrixcard_state_valid",
                condition=Q(state__in=["active", "locked", "replaced"]),
            ),
            models.CheckConstraint(
                name="matrixcard_challenge_has_time",
                condition=(Q(challenge="") & Q(challenge_issued_at__isnull=True))
                | (~Q(challenge="") & Q(challenge_issued_at__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial} ({self.get_state_display()})"

    @classmethod
    def new_serial(cls) -> str:
        while True:
            raw = "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(8))
            serial = f"{raw[:4]}-{raw[4:]}"
            if not cls.objects.filter(serial=serial).exists():
                return serial

    def set_cells(self, cells: dict[str, str]) -> None:
        """Store the MACs of a full card; the clear values are not kept."""
        assert set(cells) == set(CARD_CELLS)
        self.cell_macs = {
            cell: cell_mac(user_id=self.user_id, serial=self.serial, cell=cell, value=value)
            for cell, value in cells.items()
        }

    @property
    def is_active(self) -> bool:
        return self.state == CardState.ACTIVE

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_MATRIX_THROTTLE_FACTOR", 1)

    # -- the pinned challenge -------------------------------------------

    def pinned_cells(self, now: datetime | None = None) -> tuple[str, ...] | None:
        """The pending challenge's cells, or None when there is none or it expired."""
        if not self.challenge or self.challenge_issued_at is None:
            return None
        now = now or timezone.now()
        if now - self.challenge_issued_at >= CHALLENGE_LIFETIME:
            return None
        return tuple(self.challenge.split(","))

    def generate_is_allowed(self):
        if self.state != CardState.ACTIVE:
            return False, {"reason": "card_not_active"}
        return super().generate_is_allowed()

    def generate_challenge(self) -> str:
        """Pin three distinct random cells, or return the ones already pinned.

        Call with the row locked (`select_for_update`). An abandoned challenge
        is no failure: it simply expires. Only DAILY_CHALLENGE_CAP new
        challenges may be issued in one day without a success.
        """
        now = timezone.now()
        pinned = self.pinned_cells(now)
        if pinned is not None:
            return ",".join(pinned)
        allowed, _data = self.generate_is_allowed()
        if not allowed:
            raise Refused(RefusalCode.CARD_NOT_ACTIVE)
        self._count_new_challenge(now)
        cells = secrets.SystemRandom().sample(CARD_CELLS, CHALLENGE_SIZE)
        self.challenge = ",".join(cells)
        self.challenge_issued_at = now
        self.save(
            update_fields=[
                "challenge",
                "challenge_issued_at",
                "challenge_day",
                "challenges_on_day",
            ]
        )
        return self.challenge

    def _count_new_challenge(self, now: datetime) -> None:
        """Count one more new challenge (login or re-authentication) today, or
        refuse: only DAILY_CHALLENGE_CAP a day without a success."""
        day = timezone.localdate(now)
        if self.challenge_day != day:
            self.challenge_day = day
            self.challenges_on_day = 0
        if self.challenges_on_day >= DAILY_CHALLENGE_CAP:
            raise Refused(RefusalCode.DAILY_CAP)
        self.challenges_on_day += 1

    # -- re-authentication: one pinned cell --------------------------------

    def pinned_reauth_cell(self, now: datetime | None = None) -> str | None:
        if not self.reauth_cell or self.reauth_issued_at is None:
            return None
        if (now or timezone.now()) - self.reauth_issued_at >= CHALLENGE_LIFETIME:
            return None
        return self.reauth_cell

    def generate_reauth_challenge(self) -> str:
        """Pin one random cell for a logged-in holder to answer, or return the pinned one.

        SECURITY: pinned on the card like the login challenge, so reloading
        the page never offers another cell; new cells count against the same
        daily cap. Call with the row locked (`select_for_update`).
        """
        now = timezone.now()
        pinned = self.pinned_reauth_cell(now)
        if pinned is not None:
            return pinned
        if self.state != CardState.ACTIVE:
            raise Refused(RefusalCode.CARD_NOT_ACTIVE)
        self._count_new_challenge(now)
        self.reauth_cell = secrets.choice(CARD_CELLS)
        self.reauth_issued_at = now
        self.save(
            update_fields=["reauth_cell", "reauth_issued_at", "challenge_day", "challenges_on_day"]
        )
        return self.reauth_cell

    def verify_reauth_token(self, token) -> bool:
        """The answer to the pinned re-authentication cell, under the card's throttle.

        As `verify_token`: throttled, constant-time, five wrong answers in a
        row (login or re-authentication alike) lock the card.
        """
        allowed, _data = self.verify_is_allowed()
        if not allowed:
            return False
        cell = self.pinned_reauth_cell()
        if cell is None:
            return False
        return self._judge_answer(
            (cell,), token, answered={"reauth_cell": "", "reauth_issued_at": None}
        )

    # -- verification ---------------------------------------------------

    def verify_is_allowed(self):
        if self.state != CardState.ACTIVE:
            return False, {"reason": "card_not_active", "state": self.state}
        return super().verify_is_allowed()

    def _answer_matches(self, cells: tuple[str, ...], answer: str) -> bool:
        # SECURITY: every cell is compared, in constant time, whatever the
        # others gave, so timing reveals neither which cell was wrong nor how
        # many were.
        ok = len(answer) == CARD_CELL_LENGTH * len(cells)
        padded = answer.ljust(CARD_CELL_LENGTH * len(cells), "?")
        for index, cell in enumerate(cells):
            value = padded[index * CARD_CELL_LENGTH : (index + 1) * CARD_CELL_LENGTH]
            expected = self.cell_macs.get(cell, "")
            given = cell_mac(user_id=self.user_id, serial=self.serial, cell=cell, value=value)
            ok &= hmac.compare_digest(expected, given)
        return bool(ok)

    def verify_token(self, token) -> bool:
        """The token is the answers to the pinned cells, in their order.

        Call through `django_otp.verify_token`, which locks the row, so that
        concurrent answers are serialized and each one sees the throttle.
        """
        allowed, _data = self.verify_is_allowed()
        if not allowed:
            return False
        cells = self.pinned_cells()
        if cells is None:
            # No pending challenge (or it expired): nothing was asked, so
            # nothing can be answered — and nothing is counted.
            return False
        return self._judge_answer(
            cells, token, answered={"challenge": "", "challenge_issued_at": None}
        )

    def _judge_answer(self, cells: tuple[str, ...], token, *, answered: dict) -> bool:
        """Compare the answer, then throttle, count or clear as django-otp's devices do.

        A right answer resets the throttle and the day's count of new
        challenges and clears the challenge (`answered`: its fields' empty
        values); a wrong one counts, and five in a row (login or
        re-authentication alike) lock the card.
        """
        if self._answer_matches(cells, normalize_answer(token or "")):
            self.throttle_reset(commit=False)
            for name, value in answered.items():
                setattr(self, name, value)
            self.challenges_on_day = 0
            self.save()
            return True
        self.throttle_increment(commit=False)
        if self.throttling_failure_count >= LOCK_AFTER_FAILURES:
            self.state = CardState.LOCKED
            self.locked_at = timezone.now()
        self.save()
        return False


class PasswordFailure(models.Model):
    """One wrong password (or unknown username) at either login.

    Rows, not cache entries or process memory, so every app server counts
    the same failures. Keyed by the username as typed (normalized), not by
    account, so an unknown username is throttled exactly like a known one.
    """

    username = models.CharField(max_length=150)
    address = models.GenericIPAddressField(null=True, blank=True)
    # The keyed hash of the trusted-device cookie's id when the browser had
    # logged in to this username before; "" for any other browser.
    device = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("failed password attempt")
        verbose_name_plural = _("failed password attempts")
        indexes = [
            models.Index(fields=["username", "created_at"], name="pwfail_username_time"),
            models.Index(fields=["address", "created_at"], name="pwfail_address_time"),
            models.Index(fields=["created_at"], name="pwfail_time"),
        ]

    def __str__(self) -> str:
        moment = timezone.localtime(self.created_at)
        return f"{self.username} from {self.address} at {moment:%Y-%m-%d %H:%M}"


class ThrottleBurst(models.Model):
    """Attempts refused by the password throttle, counted while the burst lasts.

    SECURITY: a refused attempt is not written to the append-only audit log
    one by one (a flood would fill it); each burst becomes one audit event
    with its count once it has been quiet a while
    (`accounts.throttle.throttle_bursts_flush`).
    """

    key = models.CharField(max_length=200, unique=True)
    reason = models.CharField(max_length=20)
    target = models.CharField(max_length=200, blank=True)
    door = models.CharField(max_length=20, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    school_unit = models.ForeignKey(
        "schools.SchoolUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    huvudman = models.ForeignKey(
        "schools.Huvudman", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()
    last_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("burst of throttled attempts")
        verbose_name_plural = _("bursts of throttled attempts")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


# --- The mail outbox --------------------------------------------------------------


class Session(AbstractBaseSession):
    """Django's database session with the logged-in user's id as a column.

    PERFORMANCE: a logged-in request reads its session and its user with one
    statement (accounts/session_store.py joins the user row in), and
    `accounts.sessions.sessions_end_many` finds an account's sessions by this
    indexed column instead of decoding every live session. The store fills
    the column from the session's own data at every save, so it always names
    the user the signed data names (or none). SECURITY: the column is never
    trusted on its own: Django's `get_user` still takes the user id, the
    backend and the session hash from the signed data, and a joined row is
    used only when its id is that one (accounts/backends.py).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        # Deleting a user deletes its sessions (through the ORM), but the
        # database does not insist: a request still running for a user just
        # deleted may save its session after, and must not fail for it (the
        # user id then finds nobody, as before).
        db_constraint=False,
    )
    # The matrix card the session was verified with (E-tjänster), read with
    # the session in the same statement; filled like `user` at every save
    # from the session's own data (django-otp's device id). No constraint and
    # no index: nothing looks sessions up by it, and a card deleted since
    # joins nothing (django-otp then finds no device, as before).
    card_device = models.ForeignKey(
        "accounts.MatrixCardDevice",
        verbose_name=_("matrix card"),
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_constraint=False,
        db_index=False,
    )

    class Meta(AbstractBaseSession.Meta):
        db_table = "accounts_session"

    @classmethod
    def get_session_store_class(cls):
        # The configured engine (accounts.session_store): the one store that
        # writes this model. Looked up by the setting rather than imported,
        # since that module reads this one (no import cycle, also not a lazy
        # one); `get_decoded()` and the manager's `encode()` use it.
        return import_module(settings.SESSION_ENGINE).SessionStore
