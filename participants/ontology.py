"""Loading the Human Phenotype Ontology into tables (terms, synonyms, the is-a
closure with distances, gene annotations) from an HPO release's files, read by
participants/hpo_files.py. Loaded once by a command, never per request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditAction
from audit.services import record
from participants.bulk import bulk_insert
from participants.hpo_files import HpoRelease, read_ontology
from participants.models import (
    DataRelease,
    HpoAncestor,
    HpoGene,
    HpoSynonym,
    HpoTerm,
    OntologyVersion,
    Participant,
    Phenotype,
    PhenotypeAncestor,
)
from participants.selectors import release_usable

BATCH = 5000


@transaction.atomic
def ontology_load(*, by: Any = None, obo: Path | str | None = None, genes: Path | str | None = None) -> OntologyVersion:
    """Load (or refresh) the HPO tables in one transaction from an HPO release's
    files (default: the packaged copy), and audit it."""
    loaded = ontology_write_tables(read_ontology(obo, genes))
    record(
        action=AuditAction.ONTOLOGY_LOADED,
        by=by,
        target=loaded,
        details={
            "version": loaded.version,
            "source": loaded.source,
            "terms": loaded.n_terms,
            "synonyms": loaded.n_synonyms,
            "ancestor_links": loaded.n_ancestor_links,
            "gene_links": loaded.n_gene_links,
        },
    )
    return loaded


def ontology_write_tables(hpo: HpoRelease | None = None) -> OntologyVersion:
    """Write the tables (inside the caller's transaction) from ``hpo`` (default:
    the packaged release). Terms are upserted, never deleted, since phenotypes
    refer to them; the synonyms, the closure, the gene links and every
    release's phenotype rollup are rebuilt."""
    hpo = hpo or read_ontology()
    terms, closure, genes = hpo.terms, hpo.closure, hpo.genes
    HpoTerm.objects.bulk_create(
        [HpoTerm(id=tid, **fields) for tid, fields in terms.items()],
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["name", "is_obsolete", "depth", "n_descendants", "rolled_up"],
    )
    HpoSynonym.objects.all().delete()
    bulk_insert(HpoSynonym, ["term", "name", "scope"], hpo.synonyms)
    HpoAncestor.objects.all().delete()
    bulk_insert(HpoAncestor, ["term", "ancestor", "distance"], closure)
    HpoGene.objects.all().delete()
    bulk_insert(HpoGene, ["term", "gene_symbol"], genes)
    PhenotypeAncestor.objects.all().delete()
    for release in DataRelease.objects.all():
        phenotype_rollup_build(release)
    return OntologyVersion.objects.create(
        source=hpo.source,
        version=hpo.version,
        loaded_at=timezone.now(),
        n_terms=len(terms),
        n_ancestor_links=len(closure),
        n_gene_links=len(genes),
        n_synonyms=len(hpo.synonyms),
    )


def phenotype_rollup_build(release: DataRelease) -> int:
    """Fill PhenotypeAncestor for ``release`` from its usable participants'
    phenotypes and the closure (inside the caller's transaction); returns the
    rows written."""
    rollup, phenotype, participant = PhenotypeAncestor._meta.db_table, Phenotype._meta.db_table, Participant._meta
    closure, term = HpoAncestor._meta.db_table, HpoTerm._meta.db_table
    usable, params = release_usable(release).values("pk").query.sql_with_params()
    # Table names come from model metadata; the release and the usable
    # participants' query are bound parameters and compiled SQL.
    sql = (
        f"INSERT INTO {rollup} (release_id, ancestor_id, observed, participant_id) "  # noqa: S608
        f"SELECT DISTINCT p.release_id, a.ancestor_id, ph.observed, ph.participant_id FROM {phenotype} ph "
        f"JOIN {participant.db_table} p ON p.id = ph.participant_id "
        f"JOIN {closure} a ON a.term_id = ph.term_id "
        f"JOIN {term} t ON t.id = a.ancestor_id "
        f"WHERE p.release_id = %s AND t.rolled_up AND p.id IN ({usable}) "
        "ORDER BY 1, 2, 3, 4"  # in primary-key order
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [release.pk, *params])
        written = cursor.rowcount
        if connection.vendor == "postgresql":
            # Fresh statistics, so the first count queries on the release get a good plan.
            for table in (participant.db_table, phenotype, rollup):
                cursor.execute(f"ANALYZE {table}")
    return written


def phenotype_rollup_forget(release: DataRelease, participants: QuerySet[Participant]) -> int:
    """Remove ``participants`` (withdrawn since ``release`` was loaded) from
    its rollup, so it holds what :func:`phenotype_rollup_build` would write
    now; returns the rows removed."""
    rows = PhenotypeAncestor.objects.filter(release=release, participant__in=participants.values("pk"))
    removed, _ = rows.delete()
    return removed


def ontology_loaded() -> bool:
    return OntologyVersion.objects.exists()
