import signal
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from participants.models import DataRelease, HpoSynonym
from participants.ontology import ontology_load, ontology_loaded
from participants.services import ReleaseRefused, release_ingest
from participants.synthetic import generate_release

DEMO_RELEASE = "demo-v1"


class Command(BaseCommand):
    help = "Generate and ingest the demo data release if there is none yet (idempotent). Refused when DEBUG is off."

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=2000)
        parser.add_argument("--variants", type=int, default=10000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        # Stopping `make run` sends SIGTERM: turn it into an exit so temporary files are cleaned up.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        if not settings.DEBUG:
            raise CommandError("seed_demo_release writes synthetic demo data and is refused when DEBUG is off.")
        if not ontology_loaded() or not HpoSynonym.objects.exists():  # a demo made before synonyms were loaded
            self.stdout.write("Loading the HPO ontology...")
            ontology_load()
        if DataRelease.objects.exists():
            self.stdout.write("A data release is already loaded; nothing to do.")
            return
        bundle = Path(settings.VAR_DIR) / "demo-bundle"
        if not (bundle / "release.json").exists():
            self.stdout.write(f"Generating a synthetic release of {options['participants']} participants...")
            generate_release(
                bundle,
                participants=options["participants"],
                variants=options["variants"],
                seed=options["seed"],
                name=DEMO_RELEASE,
                overwrite=True,
            )
        self.stdout.write("Ingesting it...")
        try:
            result = release_ingest(bundle_path=bundle, name=DEMO_RELEASE)
        except ReleaseRefused as refused:
            raise CommandError("\n".join(str(p) for p in refused.problems)) from None
        self.stdout.write(self.style.SUCCESS(f"Demo release {result.release.name} is ready."))
