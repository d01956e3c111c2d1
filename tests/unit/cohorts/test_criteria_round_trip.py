"""Whatever parse accepts, saved as as_json writes it (and as the database's
JSON column keeps it), parses again to the same criteria."""

import json

from hypothesis import given, settings

from cohorts import criteria as crit
from tests.unit.cohorts.criteria_strategies import STRATEGIES, criteria_json


def test_every_criterion_type_has_a_strategy():
    assert set(STRATEGIES) == set(crit.TYPES)


@settings(max_examples=200, deadline=None)
@given(raw=criteria_json)
def test_saved_criteria_parse_back_to_the_same_criteria(raw):
    parsed = crit.parse(raw)
    saved = json.loads(json.dumps(parsed.as_json()))
    assert crit.parse(saved) == parsed
    assert crit.parse(saved).as_json() == saved
    assert crit.describe(crit.parse(saved)) == crit.describe(parsed)


def test_a_definition_saved_with_empty_optional_lists_opens_again():
    saved = {
        "version": 1,
        "include_all": [
            {"type": "tumour", "disease_types": ["BREAST"], "stages": [], "sample_types": []},
            {"type": "genotype", "gene": "BRCA2", "region": None, "consequence_classes": [], "genotype": "any",
             "max_population_af": None, "max_cohort_af": None},
        ],
        "include_any": [],
        "exclude": [],
    }  # fmt: skip
    criteria = crit.parse(saved)
    assert criteria.include_all[0].params["stages"] == []
    assert crit.describe(criteria) == ["All of: has a tumour: BREAST; carries a variant in gene BRCA2, genotype any."]


def test_each_type_publishes_a_schema_with_its_own_fields():
    schema = crit.json_schema()
    variants = schema["properties"]["include_all"]["items"]["oneOf"]
    assert [v["properties"]["type"]["enum"][0] for v in variants] == list(crit.TYPES)
    tumour = next(v for v in variants if v["properties"]["type"]["enum"] == ["tumour"])
    assert tumour["properties"]["stages"]["items"]["enum"] == ["I", "II", "III", "IV", "unknown"]
    assert tumour["properties"]["stages"]["minItems"] == 0
