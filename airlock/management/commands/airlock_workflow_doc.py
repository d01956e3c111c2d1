from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from airlock.policies import workflow_document

DOC_PATH = Path(settings.BASE_DIR) / "docs" / "airlock-workflow.md"


class Command(BaseCommand):
    help = "Write docs/airlock-workflow.md (the output request state diagram) from airlock/policies.py."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit 1 if the document is out of date.")

    def handle(self, *args, **options):
        text = workflow_document()
        if options["check"]:
            current = DOC_PATH.read_text() if DOC_PATH.exists() else ""
            if current != text:
                self.stderr.write(f"{DOC_PATH} is out of date: run manage.py airlock_workflow_doc.")
                raise SystemExit(1)
            self.stdout.write("The workflow document is up to date.")
            return
        DOC_PATH.write_text(text)
        self.stdout.write(self.style.SUCCESS(f"Wrote {DOC_PATH}."))
