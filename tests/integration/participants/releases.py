"""Small releases written by hand and loaded through the one loader, for tests
of what happens to participants across releases."""

from __future__ import annotations

from datetime import date

from participants import vocabularies as vocab
from participants.loader import ReleaseRows, release_load
from participants.models import DataRelease

EPILEPSY = "HP:0001250"  # Seizure: under the rolled-up HP:0000707 (nervous system)


def person(pid: str, **overrides) -> dict:
    return {
        "participant_id": pid,
        "programme": vocab.RARE_DISEASE,
        "sex": "female",
        "year_of_birth": 1980,
        "genetic_ancestry": "EUR",
        "recruiting_centre": "Wessex GMC",
        "consent_status": vocab.CONSENTING,
        "consent_month": "2018-05",
        "vital_status": vocab.ALIVE,
        "death_month": "",
        "family_id": "",
        "relationship_to_proband": "",
        "affection_status": "affected",
        **overrides,
    }


def load(name: str, people: list[dict], *, with_phenotypes: bool = True) -> DataRelease:
    """Load ``people`` as release ``name`` through the one loader; each consenting one has a seizure phenotype."""
    phenotypes = [
        {"participant_id": p["participant_id"], "hpo_id": EPILEPSY, "observed": True}
        for p in people
        if with_phenotypes and p["consent_status"] == vocab.CONSENTING
    ]
    diseases = [
        {"participant_id": p["participant_id"], "disease_group": "Neurology", "disease_subgroup": "Epilepsy",
         "specific_disease": "Genetic epilepsy syndromes"}
        for p in people if p["consent_status"] == vocab.CONSENTING
    ]  # fmt: skip
    rows = ReleaseRows(
        name=name, release_date=date(2025, 7, 1), genome_build="GRCh38", format_version=1, checksum="0" * 64,
        sample_index={}, participants=people, phenotypes=phenotypes, diseases=diseases,
    )  # fmt: skip
    return release_load(rows=rows).release
