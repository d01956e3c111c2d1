from django.core.management.base import BaseCommand

from domains.services import projects_close_ended


class Command(BaseCommand):
    help = "Close approved projects whose end date has passed (also the domains.close_ended_projects task)."

    def handle(self, *args, **options):
        closed = projects_close_ended()
        self.stdout.write(f"Closed {len(closed)} project(s).")
