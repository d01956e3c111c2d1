"""The release vocabularies: one spelling, one translation of the blank value."""

import pytest

from genomics import simulate
from participants import bundle as fmt
from participants import synthetic
from participants import vocabularies as vocab


def test_blank_value_is_written_as_a_word_in_criteria_and_stored_empty():
    assert vocab.FAMILY_ROLES.to_criterion("") == "none"
    assert vocab.FAMILY_ROLES.to_stored("none") == ""
    assert vocab.STAGES.stored(["I", "unknown"]) == ["I", ""]
    assert "unknown" in vocab.STAGES.criterion_values and "" not in vocab.STAGES.criterion_values
    assert vocab.SEXES.to_stored("unknown") == "unknown"  # a real value of its own, not a blank


def test_a_vocabulary_with_a_blank_needs_a_word_for_it():
    with pytest.raises(ValueError, match="blank value needs a word"):
        vocab.Vocabulary("broken", (("a", "A"), ("", "None")))


def test_labels_read_as_words_not_as_capitalised_codes():
    assert [label for _, label in vocab.STAGES.criterion_choices] == ["I", "II", "III", "IV", "Not recorded"]
    assert vocab.tumour_type_label("HAEMONC") == "Haematological malignancy"
    assert vocab.tumour_type_label("NEW_TYPE") == "New type"


def test_the_bundle_checks_cells_against_the_vocabularies():
    columns = fmt.TABLES[fmt.PARTICIPANTS].columns
    assert columns["genetic_ancestry"]("SAS") == "SAS"
    with pytest.raises(fmt.Invalid):
        columns["genetic_ancestry"]("XYZ")
    assert fmt.TABLES[fmt.TUMOURS].columns["stage"]("") == ""


def test_the_generator_and_the_simulator_speak_the_same_vocabularies():
    assert set(simulate.ANCESTRIES) == set(vocab.ANCESTRIES.values)
    assert set(synthetic.ANCESTRY_WEIGHTS) == set(vocab.ANCESTRIES.values)
    assert {name for name, _, _ in synthetic.CANCER_TYPES} == set(vocab.TUMOUR_TYPES.values)
    assert set(synthetic.STAGE_HAZARD) == set(vocab.STAGES.values)
    assert simulate.CONSEQUENCES == vocab.CONSEQUENCES
