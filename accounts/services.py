"""Writes about accounts and credentials. Each is atomic and audited."""

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from permissions.audit import AuditAction, audit_record


@transaction.atomic
def totp_enroll(*, user: User, actor: User | None = None, request=None) -> TOTPDevice:
    """Give an admin-site user a new authenticator key, replacing any old one.

    The key is shown once (as an otpauth:// URI or QR code); the old device
    stops working at once.
    """
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    audit_record(
        action=AuditAction.TOTP_ENROLLED,
        actor=actor,
        request=request,
        huvudman=user.huvudman,
        target=user.username,
    )
    return device
