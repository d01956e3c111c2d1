"""The management command that writes (or, with ``--check``, checks) a workflow's generated
document in ``docs/``: written once here; each app's ``<app>_workflow_doc`` names its document."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def document_command(module: str, document_name: str, source: str, document: Callable[[], str], what: str):
    """The ``Command`` class of the management command ``module`` (its ``__name__``), which writes
    ``docs/<document_name>`` ("what", drawn from ``source``) from ``document()``."""
    command = module.rsplit(".", 1)[-1]

    class Command(BaseCommand):
        help = f"Write docs/{document_name} ({what}) from {source}."

        def add_arguments(self, parser):
            parser.add_argument("--check", action="store_true", help="Exit 1 if the document is out of date.")

        def handle(self, *args, **options):
            path = Path(settings.BASE_DIR) / "docs" / document_name
            text = document()
            if options["check"]:
                current = path.read_text() if path.exists() else ""
                if current != text:
                    self.stderr.write(f"{path} is out of date: run manage.py {command}.")
                    raise SystemExit(1)
                self.stdout.write("The workflow document is up to date.")
                return
            path.write_text(text)
            self.stdout.write(self.style.SUCCESS(f"Wrote {path}."))

    return Command
