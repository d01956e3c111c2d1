import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genomics.vcfzarr import DEFAULT_THREADS
from participants.bundle import left_out_lines
from participants.ontology import ontology_load, ontology_loaded
from participants.services import ReleaseRefused, release_ingest


class Command(BaseCommand):
    help = (
        "Validate a release bundle and load it as a new data release. Every problem is reported "
        "with file, line and column; nothing is loaded unless the whole bundle is valid. Data of "
        "participants marked withdrawn is left out, and the report says how much per file."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the release here, as data managers expect, replacing Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("bundle", type=Path, help="The bundle folder.")
        parser.add_argument("--version", dest="release_name", required=True, help="Release name, e.g. v19.")
        parser.add_argument(
            "--workers",
            type=int,
            default=DEFAULT_THREADS,
            help="Threads that parse and write the genotype store (default: one per core, at most 4).",
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        if not ontology_loaded():
            self.stdout.write("The HPO ontology is not loaded yet; loading it first.")
            ontology_load()
        try:
            result = release_ingest(
                bundle_path=options["bundle"], name=options["release_name"], workers=max(1, options["workers"])
            )
        except ReleaseRefused as refused:
            for problem in refused.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"Release {options['release_name']} refused: {len(refused.problems)} problem(s) listed above. "
                "Nothing was loaded."
            ) from None
        release = result.release
        counts = release.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Release {release.name} ingested in {time.monotonic() - started:.1f} s: "
                f"{counts['participants']} participants ({counts['consenting']} consenting), "
                f"{counts['genomes']} genomes, {counts['phenotypes']} phenotypes, {counts['tumours']} tumours; "
                f"{result.withdrawn_since_previous} withdrawn since the previous release."
            )
        )
        for line in left_out_lines(counts.get("left_out", {})):
            self.stdout.write(f"  {line}")
