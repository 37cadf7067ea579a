import json
from pathlib import Path

import qrcode
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ADMIN_ROLES, User
from accounts.services.staff import totp_enroll
from audit.context import AuditContext


class Command(BaseCommand):
    help = (
        "Give a national admin or huvudman staff member a new TOTP key and print its "
        "otpauth:// URI and a QR code. Any earlier key stops working."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--png", type=Path, help="Also write the QR code to this PNG file.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print JSON for scripts."
        )

    def handle(self, *args, username: str, png: Path | None, as_json: bool, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if user.role not in ADMIN_ROLES:
            raise CommandError("Only national admins and huvudman staff log in with TOTP.")
        device = totp_enroll(user=user, context=AuditContext.system())
        uri = device.config_url
        if png is not None:
            qrcode.make(uri).save(png)
        if as_json:
            self.stdout.write(
                json.dumps({"username": user.username, "totp_uri": uri}, ensure_ascii=False)
            )
            return
        self.stdout.write(f"TOTP for {user.username}: {uri}")
        code = qrcode.QRCode(border=1)
        code.add_data(uri)
        code.print_ascii(out=self.stdout, invert=True)
        if png is not None:
            self.stdout.write(f"QR code written to {png}")
