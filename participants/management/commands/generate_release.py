import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from participants.synthetic import generate_release


class Command(BaseCommand):
    help = "Write a synthetic data release bundle (format version 1) to a folder. Deterministic for a seed."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, type=Path, help="Folder to write the bundle into.")
        parser.add_argument("--participants", type=int, default=2000)
        parser.add_argument("--variants", type=int, default=20000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--name", help="Release name written into release.json (default synthetic-SEED).")
        parser.add_argument("--overwrite", action="store_true", help="Replace a non-empty folder.")
        parser.add_argument(
            "--strip-withdrawn",
            action="store_true",
            help="Leave withdrawn participants' clinical rows and somatic VCFs out of the bundle "
            "(by default they are in it, as providers deliver them, and ingest leaves them out).",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            summary = generate_release(
                options["out"],
                participants=options["participants"],
                variants=options["variants"],
                seed=options["seed"],
                name=options["name"],
                withdrawn_data=not options["strip_withdrawn"],
                overwrite=options["overwrite"],
            )
        except (ValueError, FileExistsError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(summary, indent=2))
        self.stdout.write(self.style.SUCCESS(f"Bundle written in {time.monotonic() - started:.1f} s."))
