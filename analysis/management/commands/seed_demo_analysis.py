from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis.demo import seed_demo_analysis


class Command(BaseCommand):
    help = "Give the demo researcher an approved project, saved cohorts and one job of each type (idempotent)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo_analysis writes demo data and is refused when DEBUG is off.")
        for line in seed_demo_analysis():
            self.stdout.write(line)
