"""The cohort builder and cohort pages: error answers in the count panel,
unknown terms and genes, term search, wording, Refine, empty cohorts, saved
definitions that open again, and the page and the API reading them alike."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditAction, AuditEvent
from cohorts import criteria as crit
from cohorts.forms import BuilderForm, builder_data
from cohorts.models import Cohort
from cohorts.services import cohort_create
from tests.factories.cohorts import CohortFactory
from tests.unit.cohorts.criteria_strategies import STRATEGIES

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(world):
    return world.approved_project


@pytest.fixture
def client(project, client_for):
    return client_for(project.owner)


@pytest.fixture
def api_client(project, api_client_for):
    return api_client_for(project.owner)


def _count(client, project, data, **headers):
    return client.post(reverse("cohorts:count", args=[project.pk]), data, **headers)


# --- defect 3: an error answer is the count panel, with its status ------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"consequence": ["loss_of_function"]}, "Name the gene (or the region) whose variants you are filtering."),
        ({"hpo_terms": "Seizure"}, "write HPO ids as HP: and seven digits"),
        ({"gene": "TTN", "max_population_af": "5"}, "An allele frequency is a fraction from 0 to 1"),
        ({"criteria_json": '{"include_all": [}'}, "This is not valid JSON"),
        ({"region": "chr17:7687550-7661779"}, "the region ends before it starts"),
    ],
)
@pytest.mark.parametrize("debug", [True, False])
def test_count_error_answers_with_its_status_and_the_panel_only(
    release, project, client, settings, data, message, debug
):
    settings.DEBUG = debug
    response = _count(client, project, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html.replace("&#x27;", "'")
    assert 'data-testid="count-errors"' in html
    assert "<html" not in html and "<nav" not in html  # a fragment for the panel, not a page


def test_builder_hands_its_own_error_answers_to_their_target(release, project, client):
    html = client.get(reverse("cohorts:builder", args=[project.pk])).content.decode()
    assert 'hx-target="#count"' in html
    assert 'addEventListener("htmx:beforeSwap"' in html and "shouldSwap = true" in html
    assert 'addEventListener("htmx:beforeOnLoad"' in html  # ahead of the development overlay (DEBUG on)


# --- defect 5: unknown terms and genes -----------------------------------------------------------------


def test_an_unknown_hpo_term_is_named_with_close_matches(release, project, client):
    response = _count(client, project, {"hpo_terms": "HP:0001205"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "HP:0001205 is not a term of the loaded HPO ontology" in html
    assert "HP:0001250 Seizure" in html


def test_an_unknown_gene_is_named_with_close_matches(release, project, client):
    response = _count(client, project, {"gene": "BRCA"})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"BRCA is not in the gene table of release {release.name}" in html
    assert "BRCA1" in html


def test_a_cohort_with_an_unknown_term_is_not_saved(release, project, client):
    response = client.post(reverse("cohorts:builder", args=[project.pk]), {"hpo_terms": "HP:9999999", "name": "X"})
    assert response.status_code == 400
    assert "HP:9999999 is not a term of the loaded HPO ontology" in response.content.decode()
    assert not Cohort.objects.exists()


# --- term search and gene suggestions ------------------------------------------------------------------


def test_term_search_finds_seizure_by_name_with_a_controlled_count(release, project, client):
    response = client.get(reverse("cohorts:terms", args=[project.pk]), {"q": "seizure"})
    assert response.status_code == 200
    html = response.content.decode()
    first = re.search(r'data-testid="term-match"><code>(HP:\d{7})</code> ([^<]+) <span[^>]*>([^<]+)</span>', html)
    assert first.group(1, 2) == ("HP:0001250", "Seizure")
    assert first.group(3) == "<5" or int(first.group(3).replace(",", "")) % 5 == 0
    event = AuditEvent.objects.get(action=AuditAction.COHORT_COUNTED)
    assert event.details["term_search"] == "seizure" and "HP:0001250" in event.details["terms"]


@pytest.mark.parametrize("query", ["epilepsy", "Epileptic seizure", "EPILEPTIC"])
def test_term_search_finds_seizure_by_synonym_and_names_the_synonym(release, project, client, query):
    response = client.get(reverse("cohorts:terms", args=[project.pk]), {"q": query})
    html = response.content.decode()
    match = r'term-match"><code>(HP:\d{7})</code> ([^<(]+?)(?: <span class="synonym">([^<]+)</span>)? <span'
    hits = re.findall(match, html)
    assert hits, html
    seizure = next(h for h in hits if h[0] == "HP:0001250")
    assert seizure[1] == "Seizure" and query.casefold() in seizure[2].casefold()
    if query == "Epileptic seizure":  # an exact synonym ranks before names that only hold its words
        assert hits[0][0] == "HP:0001250"


def test_term_search_ranks_a_name_match_before_a_synonym_match(release, project, client):
    from participants.selectors import hpo_terms_matching

    found = hpo_terms_matching("seizure", limit=10)
    assert found[0].term.pk == "HP:0001250" and found[0].synonym == ""
    assert all(not hit.synonym or "seizure" in hit.synonym.casefold() for hit in found)


def test_term_search_needs_three_letters_and_counts_nothing_before(release, project, client):
    html = client.get(reverse("cohorts:terms", args=[project.pk]), {"q": "se"}).content.decode()
    assert "Type at least 3 letters" in html
    assert not AuditEvent.objects.filter(action=AuditAction.COHORT_COUNTED).exists()


def test_gene_suggestions_come_from_the_release_gene_table(release, project, client):
    html = client.get(reverse("cohorts:genes", args=[project.pk]), {"gene": "brca"}).content.decode()
    assert '<option value="BRCA1">' in html and '<option value="BRCA2">' in html


# --- defect 7: wording ---------------------------------------------------------------------------------


def test_builder_labels_read_as_words(release, project, client):
    html = client.get(reverse("cohorts:builder", args=[project.pk])).content.decode()
    assert re.search(r'value="II"[^>]*>\s*II</label>', html) and "Ii<" not in html and "Iii" not in html
    assert "Haematological malignancy" in html and "Haemonc" not in html


def test_a_genotype_criterion_without_consequence_reads_as_a_sentence():
    criteria = crit.parse({"include_all": [{"type": "genotype", "gene": "PKD1"}]})
    assert crit.describe(criteria) == ["All of: carries a variant in gene PKD1, genotype any."]


# --- defects 1 and 11: what is saved opens again; no stale "saved" message -----------------------------


def test_cohorts_saved_with_empty_optional_lists_open_on_their_page_and_in_compare(release, project, client):
    breast = {"type": "tumour", "disease_types": ["BREAST"], "stages": [], "sample_types": []}
    brca2 = {"type": "genotype", "gene": "BRCA2", "region": None, "consequence_classes": [], "genotype": "any",
             "max_population_af": None, "max_cohort_af": None}  # fmt: skip
    saved = {"version": 1, "include_any": [], "exclude": []}
    tumour = CohortFactory(
        project=project, release=release, name="Breast", definition={**saved, "include_all": [breast]}
    )
    gene = CohortFactory(project=project, release=release, name="BRCA2", definition={**saved, "include_all": [brca2]})
    for cohort in (tumour, gene):
        assert client.get(reverse("cohorts:detail", args=[cohort.pk])).status_code == 200
    compare = client.get(reverse("cohorts:compare") + f"?a={tumour.pk}&b={gene.pk}")
    assert compare.status_code == 200
    assert 'data-testid="size-a">0<' in compare.content.decode()


def test_a_failed_save_leaves_no_saved_message_for_the_next_page(release, project, client):
    failed = client.post(reverse("cohorts:builder", args=[project.pk]), {"stage": ["II"], "name": ""})
    assert failed.status_code == 400
    later = client.get(reverse("cohorts:list"))
    assert not list(get_messages(later.wsgi_request))
    assert "saved on release" not in later.content.decode()


def test_a_saved_tumour_cohort_opens_with_its_message_once(release, project, client):
    response = client.post(reverse("cohorts:builder", args=[project.pk]), {"stage": ["II"], "name": "Stage II"},
                           follow=True)  # fmt: skip
    assert response.status_code == 200 and "saved on release" in response.content.decode()
    assert "saved on release" not in client.get(reverse("cohorts:list")).content.decode()


# --- an empty cohort is saved only when asked ----------------------------------------------------------


def test_saving_a_cohort_of_nobody_asks_first(release, project, client):
    nobody = {"programme": ["cancer"], "family_role": ["mother"], "name": "Nobody"}
    count = _count(client, project, nobody).content.decode()
    assert 'data-testid="empty-warning"' in count
    refused = client.post(reverse("cohorts:builder", args=[project.pk]), nobody)
    assert refused.status_code == 400 and "the cohort would be empty" in refused.content.decode()
    assert not Cohort.objects.exists()
    saved = client.post(reverse("cohorts:builder", args=[project.pk]), {**nobody, "save_empty": "on"})
    assert saved.status_code == 302 and Cohort.objects.get().member_count == 0


# --- Refine ---------------------------------------------------------------------------------------------


def test_refine_fills_every_field_and_saving_unchanged_gives_the_same_definition(release, project, client):
    form_data = {
        "programme": ["rare_disease"], "sex": ["female", "unknown"], "family_role": ["none"], "age_band": ["0-9"],
        "hpo_terms": "HP:0000707, HP:0000478", "hpo_match": "any", "exclude_hpo_terms": "HP:0001626",
        "gene": "TTN", "consequence": ["loss_of_function"], "max_population_af": "0.01", "genotype": "het",
        "name": "Refined", "save_empty": "on",
    }  # fmt: skip
    client.post(reverse("cohorts:builder", args=[project.pk]), form_data)
    first = Cohort.objects.get()
    page = client.get(reverse("cohorts:detail", args=[first.pk])).content.decode()
    refine = re.search(r'href="([^"]+)" data-testid="refine"', page).group(1).replace("&amp;", "&")
    opened = client.get(refine)
    assert opened.status_code == 200
    data = opened.context["form"].data
    assert not data.get("criteria_json"), "a builder-made cohort opens in the fields, not the JSON box"
    assert data["hpo_match"] == "any" and data["gene"] == "TTN" and data["family_role"] == ["none"]
    client.post(reverse("cohorts:builder", args=[project.pk]), {**data, "name": "Refined again", "save_empty": "on"})
    second = Cohort.objects.exclude(pk=first.pk).get()
    assert second.definition == first.definition


def test_refine_opens_other_definitions_in_the_json_box(release, project):
    criteria = crit.parse({"exclude": [{"type": "sex", "values": ["male"]}]})
    data = builder_data(criteria, release=release)
    form = BuilderForm(data, release=release)
    assert form.is_valid() and crit.parse(form.cleaned_data["criteria"]) == criteria
    assert json.loads(data["criteria_json"]) == criteria.as_json()


def test_refine_of_a_cohort_out_of_reach_is_404(release, world, project, client_for):
    cohort = cohort_create(by=project.owner, project=project, name="Mine", criteria_json={})
    other = world.other_domain_project
    response = client_for(other.owner).get(reverse("cohorts:builder", args=[other.pk]) + f"?from={cohort.pk}")
    assert response.status_code == 404


# --- the page and the API read a saved definition alike --------------------------------------------------

# Every type, with the HPO terms and genes of the loaded data (unknown ones are refused, as they should be).
_KNOWN_ONLY = ("hpo", "genotype", "recruiting_centre", "disease")
_SAVABLE = st.one_of(
    *(STRATEGIES[name] for name in STRATEGIES if name not in _KNOWN_ONLY),
    st.sampled_from(["HP:0000707", "HP:0001250", "HP:0000478"]).map(lambda t: {"type": "hpo", "term": t}),
    st.sampled_from(["BRCA1", "TTN"]).map(lambda g: {"type": "genotype", "gene": g, "consequence_classes": []}),
    st.just({"type": "disease", "field": "disease_group", "values": ["Cardiovascular disorders"]}),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(_SAVABLE, max_size=3), excluded=st.lists(_SAVABLE, max_size=1))
def test_saved_cohorts_read_the_same_on_the_page_and_in_the_api(release, project, client, api_client, parts, excluded):
    raw = {"include_all": parts, "exclude": excluded}
    cohort = cohort_create(by=project.owner, project=project, name="Property", criteria_json=raw)
    assert crit.parse(cohort.definition) == crit.parse(raw)
    page = client.get(reverse("cohorts:detail", args=[cohort.pk]))
    api = api_client.get(reverse("cohorts-api:detail", args=[cohort.pk]))
    assert page.status_code == 200 and api.status_code == 200
    from_api = crit.parse(api.json()["criteria"])
    assert from_api == crit.parse(cohort.definition)
    assert page.context["description"][0].split(":")[0] == crit.describe(from_api)[0].split(":")[0]
    assert all(line.replace("’", "'") in page.content.decode().replace("&#x27;", "'").replace("&amp;", "&")
               or "<" in line or ">" in line for line in page.context["description"])  # fmt: skip
