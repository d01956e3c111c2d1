import pytest

from cohorts.criteria import CriteriaError, describe, json_schema, parse


def test_empty_criteria_mean_every_consenting_participant():
    assert describe(parse({})) == ["Every consenting participant of the release."]


def test_parse_normalises_and_round_trips():
    raw = {"include_all": [{"type": "sex", "values": ["male", "female", "male"]}],
           "exclude": [{"type": "hpo", "term": "HP:0001250"}]}  # fmt: skip
    criteria = parse(raw)
    assert criteria.include_all[0].params == {"values": ["female", "male"]}
    assert criteria.exclude[0].params == {"term": "HP:0001250", "observed": True, "include_descendants": True}
    assert parse(criteria.as_json()) == criteria


def test_every_problem_is_listed_with_its_path():
    with pytest.raises(CriteriaError) as error:
        parse({
            "version": 2,
            "include_all": [{"type": "age_band", "values": ["5-15"]}, {"type": "genotype"}, "nonsense"],
            "include_any": [{"type": "hpo", "term": "HP:1", "colour": "red"}],
            "extra": [],
        })  # fmt: skip
    assert set(error.value.errors) == {
        "$.version", "$.extra", "$.include_all[0].values", "$.include_all[1]", "$.include_all[2]",
        "$.include_any[0].term", "$.include_any[0].colour",
    }  # fmt: skip
    assert "choose from 0-9" in error.value.errors["$.include_all[0].values"]


def test_genotype_needs_exactly_one_of_gene_or_region():
    with pytest.raises(CriteriaError, match="a gene or a region"):
        parse({"include_all": [{"type": "genotype", "gene": "BRCA2", "region": "chr13:1-100"}]})
    with pytest.raises(CriteriaError, match="ends before it starts"):
        parse({"include_all": [{"type": "genotype", "region": "chr13:500-100"}]})
    ok = parse({"include_all": [{"type": "genotype", "region": "chr13:32315508-32400268", "genotype": "het",
                                 "max_population_af": 0.001}]})  # fmt: skip
    assert ok.include_all[0].params["region"] == "chr13:32315508-32400268"


def test_fractions_must_be_between_zero_and_one():
    with pytest.raises(CriteriaError, match="from 0 to 1"):
        parse({"include_all": [{"type": "genotype", "gene": "TTN", "max_cohort_af": 2}]})


def test_description_reads_like_a_sentence():
    criteria = parse({
        "include_all": [{"type": "programme", "values": ["rare_disease"]},
                        {"type": "genotype", "gene": "PKD1", "consequence_classes": ["loss_of_function"],
                         "max_population_af": 0.01}],
        "exclude": [{"type": "tumour", "disease_types": ["BREAST"], "stages": ["IV"]}],
    })  # fmt: skip
    assert describe(criteria) == [
        "All of: programme is rare disease; carries a loss-of-function variant in gene PKD1, genotype any "
        "(population AF ≤ 0.01).",
        "Excluding: has a tumour: BREAST, stage IV.",
    ]


def test_json_schema_lists_every_criterion_type():
    schema = json_schema()
    kinds = {v["properties"]["type"]["enum"][0] for v in schema["properties"]["include_all"]["items"]["oneOf"]}
    assert {"programme", "hpo", "genotype", "tumour", "disease"} <= kinds
