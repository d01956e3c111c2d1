from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.management.commands._demo import DEMO_USERS, refuse_unless_debug
from accounts.models import CURRENT_AGREEMENT_VERSION, ResearcherProfile, Role, User


class Command(BaseCommand):
    help = "Create the demo users (idempotent). Refused when DEBUG is off."

    @transaction.atomic
    def handle(self, *args, **options):
        refuse_unless_debug("seed_demo")
        created = 0
        for email, full_name, roles, accredited in DEMO_USERS:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = services.user_create(
                    email=email,
                    password=settings.DEMO_PASSWORD,
                    full_name=full_name,
                    is_staff=email.startswith("admin@"),
                )
                if email.startswith("admin@"):
                    user.is_superuser = True
                    user.save(update_fields=["is_superuser"])
                created += 1
            held = set(user.role_assignments.values_list("role", flat=True))
            for role in roles:
                if role not in held:
                    services.role_grant(user=user, role=Role(role), by=None)
            if accredited:
                profile = ResearcherProfile.objects.get(user=user)
                if not profile.is_accredited():
                    profile.institution = "Demo University"
                    profile.training_completed_on = timezone.localdate() - timedelta(days=30)
                    profile.agreement_version = CURRENT_AGREEMENT_VERSION
                    profile.agreement_accepted_at = timezone.now()
                    profile.save()
            if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
        self.stdout.write(self.style.SUCCESS(f"Demo users ready ({created} created)."))
        from domains.demo import seed_demo_domains

        domains_created = seed_demo_domains()
        self.stdout.write(self.style.SUCCESS(f"Research domains ready ({domains_created} created)."))
