from base64 import b32encode

from django.conf import settings
from django.core.management.base import BaseCommand
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.management.commands._demo import DEMO_USERS, refuse_unless_debug


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


class Command(BaseCommand):
    help = "Print the demo users, their password, TOTP secrets and current codes. Refused when DEBUG is off."

    def add_arguments(self, parser):
        parser.add_argument("--email", help="Only this user; print just the current code.")

    def handle(self, *args, **options):
        refuse_unless_debug("demo_credentials")
        emails = [options["email"]] if options["email"] else [email for email, *_ in DEMO_USERS]
        devices = {
            d.user.email: d
            for d in TOTPDevice.objects.filter(user__email__in=emails, confirmed=True).select_related("user")
        }
        if options["email"]:
            device = devices.get(options["email"])
            if device is None:
                self.stderr.write(f"No demo user {options['email']} with an authenticator.")
                raise SystemExit(1)
            self.stdout.write(current_code(device))
            return
        self.stdout.write(f"Demo password for every user: {settings.DEMO_PASSWORD}")
        self.stdout.write(f"{'user':<26} {'TOTP secret (base32)':<34} current code")
        for email in emails:
            device = devices.get(email)
            if device is None:
                continue
            secret = b32encode(device.bin_key).decode().rstrip("=")
            self.stdout.write(f"{email:<26} {secret:<34} {current_code(device)}")
        self.stdout.write(
            "Codes change every 30 seconds and each is accepted once: "
            "run `make demo-code USER_EMAIL=<e-mail>` for a fresh one."
        )
