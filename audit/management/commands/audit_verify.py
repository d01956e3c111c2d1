from django.core.management.base import BaseCommand, CommandError

from audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain. Exits 0 if intact, 1 naming the first broken event."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias to check.")

    def handle(self, *args, **options):
        report = audit_chain_verify(using=options["database"])
        if report.broken is None:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} event(s) verified."))
            return
        broken = report.broken
        raise CommandError(
            f"Audit chain broken at event seq={broken.seq} (id={broken.event_id}): {broken.reason}. "
            f"{report.checked} event(s) before it verified.",
            returncode=1,
        )
