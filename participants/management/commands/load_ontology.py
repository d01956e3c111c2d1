import time

from django.core.management.base import BaseCommand

from participants.ontology import ontology_load


class Command(BaseCommand):
    help = "Load or refresh the HPO ontology (terms, is-a closure, gene annotations) from the copy bundled in hpo3."

    def handle(self, *args, **options):
        started = time.monotonic()
        loaded = ontology_load()
        self.stdout.write(
            self.style.SUCCESS(
                f"HPO {loaded.version}: {loaded.n_terms} terms, {loaded.n_ancestor_links} ancestor links, "
                f"{loaded.n_gene_links} gene links loaded in {time.monotonic() - started:.1f} s."
            )
        )
