"""A realistic synthetic data release, written as a release bundle.

Plain Python (no Django): families of the rare-disease programme (probands
with both parents, some singletons), cancer participants with tumour/normal
pairs, HPO phenotypes drawn from the real ontology's gene annotations (the
packaged HPO release), pathogenic variants in genes that explain probands' phenotypes, de novo
variants in some probands, somatic variants enriched in cancer genes, survival
data, consent withdrawals, and genotypes from a coalescent simulation
(genomics.simulate). Deterministic for a seed.

Participants marked withdrawn keep their clinical rows and somatic VCFs in
the bundle by default, as a real provider delivers them (ingest leaves them
out); ``withdrawn_data=False`` writes the stripped form, which is the default
bundle less those rows and files, draw for draw.

``truth.json`` beside the bundle's files records what was planted (spiked
variants, de novo variants, the case-control signal). It is for tests and
demonstrations only: ingest ignores it and no real provider would send it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from genomics.genes import GeneTable, default_gene_table
from genomics.simulate import CaseControlSignal, SampleSpec, SpikedVariant, simulate_genotypes
from genomics.vcf import simulate_somatic_variants, write_germline_vcf, write_somatic_vcf
from participants import bundle as fmt
from participants import vocabularies as vocab

DATA_CUTOFF = (2025, 6)  # last month of follow-up in the synthetic clinical data

RECRUITING_CENTRES = (
    "East of England GMC", "Greater Manchester GMC", "North East and North Cumbria GMC", "North Thames GMC",
    "North West Coast GMC", "Oxford GMC", "South London GMC", "South West Peninsula GMC", "Wessex GMC",
    "West London GMC", "West Midlands GMC", "West of England GMC", "Yorkshire and Humber GMC",
)  # fmt: skip

ANCESTRY_WEIGHTS = {"EUR": 0.80, "SAS": 0.07, "AFR": 0.05, "EAS": 0.03, "AMR": 0.02, "OTH": 0.03}


@dataclass(frozen=True)
class RareDisease:
    group: str
    subgroup: str
    specific: str
    genes: tuple[str, ...]
    weight: float


RARE_DISEASES: tuple[RareDisease, ...] = (
    RareDisease("Neurology and neurodevelopmental disorders", "Epilepsy", "Genetic epilepsy syndromes",
                ("SCN1A", "KCNQ2", "CDKL5", "CHD2", "SCN2A", "GRIN2A"), 0.14),
    RareDisease("Neurology and neurodevelopmental disorders", "Neurodevelopmental disorders", "Intellectual disability",
                ("MECP2", "FOXG1", "UBE3A", "TCF4", "SHANK3", "ARID1B"), 0.20),
    RareDisease("Neurology and neurodevelopmental disorders", "Neuromuscular disorders", "Congenital myopathy",
                ("LAMA2", "DMD", "RYR1", "NEB", "DNM2"), 0.06),
    RareDisease("Neurology and neurodevelopmental disorders", "Movement disorders", "Early onset Parkinson disease",
                ("PINK1", "PRKN", "SNCA", "LRRK2"), 0.04),
    RareDisease("Cardiovascular disorders", "Cardiomyopathy", "Hypertrophic cardiomyopathy",
                ("MYH7", "MYBPC3", "MYH6", "TTN"), 0.08),
    RareDisease("Cardiovascular disorders", "Arrhythmias", "Long QT syndrome", ("KCNQ1", "KCNH2", "SCN5A"), 0.04),
    RareDisease("Cardiovascular disorders", "Connective tissue disorders", "Thoracic aortic aneurysm or dissection",
                ("FBN1", "TGFBR2", "COL3A1"), 0.04),
    RareDisease("Renal and urinary tract disorders", "Cystic kidney disease", "Cystic kidney disease",
                ("PKD1", "PKD2", "PKHD1"), 0.07),
    RareDisease("Ophthalmological disorders", "Posterior segment abnormalities", "Rod-cone dystrophy",
                ("RHO", "USH2A", "CDH23"), 0.07),
    RareDisease("Skeletal disorders", "Skeletal dysplasia", "Skeletal dysplasia",
                ("COL1A1", "COL2A1", "FGFR3", "SOX9", "COL11A2"), 0.07),
    RareDisease("Haematological and immunological disorders", "Immune disorders", "Primary immunodeficiency",
                ("STAT3", "ATM", "NBN"), 0.05),
    RareDisease("Metabolic disorders", "Inborn errors of metabolism", "Inborn errors of metabolism",
                ("PAH", "OTC", "CPS1", "FAH", "HEXA", "NPC1"), 0.07),
    RareDisease("Hearing and ear disorders", "Hearing loss", "Congenital hearing impairment",
                ("GJB2", "CDH23", "WFS1"), 0.07),
)  # fmt: skip

# Cancer disease types: (name, weight, sexes it occurs in)
CANCER_TYPES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("BREAST", 0.24, ("female", "female", "female", "female", "female", "female", "female", "female", "male")),
    ("COLORECTAL", 0.17, ("female", "male")),
    ("LUNG", 0.12, ("female", "male")),
    ("RENAL", 0.09, ("female", "male")),
    ("PROSTATE", 0.08, ("male",)),
    ("OVARIAN", 0.06, ("female",)),
    ("ENDOMETRIAL", 0.05, ("female",)),
    ("SARCOMA", 0.06, ("female", "male")),
    ("HAEMONC", 0.06, ("female", "male")),
    ("BLADDER", 0.04, ("female", "male")),
    ("MELANOMA", 0.03, ("female", "male")),
)
# Monthly hazard of death by stage (survival data that a Kaplan-Meier plot can separate).
STAGE_HAZARD = {"I": 0.002, "II": 0.005, "III": 0.012, "IV": 0.035, "": 0.008}

SIGNAL_DISEASE = "Hypertrophic cardiomyopathy"
SIGNAL_GENE = "MYBPC3"


@dataclass
class Person:
    participant_id: str
    programme: str
    sex: str
    year_of_birth: int
    ancestry: str
    centre: str
    consent: str
    consent_month: str
    vital: str = vocab.ALIVE
    death_month: str = ""
    family_id: str = ""
    relationship: str = ""
    affection: str = "unknown"
    mother: str | None = None
    father: str | None = None
    de_novo: bool = False


def _month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _add_months(ym: str, months: int) -> str:
    year, month = map(int, ym.split("-"))
    total = year * 12 + (month - 1) + months
    return _month(total // 12, total % 12 + 1)


def _months_until_cutoff(ym: str) -> int:
    year, month = map(int, ym.split("-"))
    return (DATA_CUTOFF[0] * 12 + DATA_CUTOFF[1]) - (year * 12 + month)


class _Terms:
    """HPO terms annotated to each gene (direct annotations), from the packaged HPO release."""

    def __init__(self) -> None:
        from participants.hpo_files import ROOT, read_ontology

        hpo = read_ontology()
        current = {t for t, fields in hpo.terms.items() if not fields["is_obsolete"]}
        by_gene: dict[str, set[str]] = {}
        for term, symbol in hpo.genes:
            if term in current:
                by_gene.setdefault(symbol, set()).add(term)
        self.by_gene = {symbol: sorted(terms) for symbol, terms in by_gene.items()}
        self.all_terms = sorted(current - {ROOT})

    def for_gene(self, symbol: str) -> list[str]:
        return self.by_gene.get(symbol, [])


def generate_release(
    out: str | Path,
    *,
    participants: int,
    variants: int,
    seed: int,
    name: str | None = None,
    release_date: date | None = None,
    withdrawn_fraction: float = 0.005,
    withdrawn_data: bool = True,
    somatic_variants_per_tumour: int = 25,
    genes: GeneTable | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write a bundle of about ``participants`` people and ``variants`` germline
    sites to ``out``; return a summary (counts, planted truth).

    ``withdrawn_data``: keep withdrawn participants' phenotypes, diseases,
    tumours and somatic VCFs in the bundle (the default, as providers deliver
    them), or leave them out (the stripped form)."""
    if participants < 10:
        raise ValueError("A release needs at least 10 participants.")
    if variants < 100:
        raise ValueError("A release needs at least 100 variants.")
    final = Path(out)
    if final.exists() and any(final.iterdir()) and not overwrite:
        raise FileExistsError(f"{final} exists and is not empty; choose another folder or allow overwriting.")
    final.parent.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
    try:
        summary = _generate(
            out,
            participants=participants,
            variants=variants,
            seed=seed,
            name=name,
            release_date=release_date,
            withdrawn_fraction=withdrawn_fraction,
            withdrawn_data=withdrawn_data,
            somatic_variants_per_tumour=somatic_variants_per_tumour,
            genes=genes,
        )
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    os.rename(out, final)
    summary["path"] = str(final)
    return summary


def _generate(
    out: Path,
    *,
    participants: int,
    variants: int,
    seed: int,
    name: str | None,
    release_date: date | None,
    withdrawn_fraction: float,
    withdrawn_data: bool,
    somatic_variants_per_tumour: int,
    genes: GeneTable | None,
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    genes = genes or default_gene_table()
    terms = _Terms()
    people, cancer_types = _make_people(participants, rng, withdrawn_fraction)
    rd_diseases = [d for d in RARE_DISEASES if any(g in genes for g in d.genes)]

    phenotypes: list[tuple[str, str, str]] = []
    diseases: list[tuple[str, str, str, str]] = []
    tumours: list[dict[str, str]] = []
    spikes: list[SpikedVariant] = []
    planted: list[dict[str, Any]] = []
    by_id = {p.participant_id: p for p in people}
    weights = np.array([d.weight for d in rd_diseases])
    signal_cases: set[str] = set()

    for person in people:
        # Withdrawn participants' clinical data is drawn like anyone's (and
        # written unless the stripped form is asked for); nothing genomic is
        # planted in them, since they have no genome in the germline VCF.
        consenting = person.consent == vocab.CONSENTING
        if person.programme == vocab.RARE_DISEASE and person.relationship in ("proband", ""):
            disease = rd_diseases[int(rng.choice(len(rd_diseases), p=weights / weights.sum()))]
            diseases.append((person.participant_id, disease.group, disease.subgroup, disease.specific))
            candidates = [g for g in disease.genes if g in genes]
            gene = str(rng.choice(candidates))
            gene_terms = terms.for_gene(gene) or terms.all_terms
            n_terms = min(int(rng.integers(3, 9)), len(gene_terms))
            chosen = [str(t) for t in rng.choice(gene_terms, size=n_terms, replace=False)]
            noise = [str(t) for t in rng.choice(terms.all_terms, size=int(rng.integers(0, 3)), replace=False)]
            chosen += [t for t in noise if t not in chosen]
            phenotypes.extend((person.participant_id, term, "yes") for term in chosen)
            absent = [t for t in gene_terms if t not in chosen]
            for term in rng.choice(absent, size=min(len(absent), int(rng.integers(0, 3))), replace=False):
                phenotypes.append((person.participant_id, str(term), "no"))
            if disease.specific == SIGNAL_DISEASE and consenting:
                signal_cases.add(person.participant_id)
            if consenting and rng.random() < 0.25:  # solved: a pathogenic variant in the causal gene
                carriers = {person.participant_id: 1}
                inherited_from = None
                if person.mother and person.father and rng.random() < 0.4:
                    parent = person.mother if rng.random() < 0.5 else person.father
                    if by_id[parent].consent == vocab.CONSENTING:
                        inherited_from = parent
                        carriers[parent] = 1
                consequence = str(
                    rng.choice(["stop_gained", "frameshift_variant", "splice_donor_variant", "missense_variant"])
                )
                spikes.append(SpikedVariant(gene=gene, genotypes=carriers, consequence=consequence, popaf=0.0))
                planted.append(
                    {
                        "kind": "pathogenic",
                        "participant_id": person.participant_id,
                        "gene": gene,
                        "consequence": consequence,
                        "inherited_from": inherited_from,
                    }
                )
        elif person.programme == vocab.RARE_DISEASE and person.affection == "affected":
            for term in rng.choice(terms.all_terms, size=int(rng.integers(1, 3)), replace=False):
                phenotypes.append((person.participant_id, str(term), "yes"))
        elif person.programme == vocab.CANCER:
            tumours.extend(_make_tumours(person, cancer_types[person.participant_id], rng))

    # Deaths of cancer participants follow their tumours' stage.
    for person in people:
        if person.programme == vocab.CANCER and person.consent == vocab.CONSENTING:
            first = min(
                (t for t in tumours if t["participant_id"] == person.participant_id), key=lambda t: t["diagnosis_month"]
            )
            follow_up = _months_until_cutoff(first["diagnosis_month"])
            months_to_death = int(rng.exponential(1 / STAGE_HAZARD[first["stage"]]))
            if 0 < months_to_death <= follow_up:
                person.vital = vocab.DECEASED
                person.death_month = _add_months(first["diagnosis_month"], months_to_death)
        elif person.consent == vocab.CONSENTING and rng.random() < 0.01:
            person.vital = vocab.DECEASED
            person.death_month = _add_months(person.consent_month, int(rng.integers(1, 60)))
            if _months_until_cutoff(person.death_month) < 0:
                person.vital, person.death_month = vocab.ALIVE, ""

    genomes = [p for p in people if p.consent == vocab.CONSENTING]
    samples = [
        SampleSpec(
            p.participant_id,
            p.ancestry,
            mother_id=p.mother if p.mother in by_id and by_id[p.mother].consent == vocab.CONSENTING else None,
            father_id=p.father if p.father in by_id and by_id[p.father].consent == vocab.CONSENTING else None,
            de_novo=p.de_novo,
            sex=p.sex,
        )
        for p in genomes
    ]
    # A parent who withdrew drops out of the pedigree: keep trios complete or drop both.
    samples = [s if (s.mother_id and s.father_id) else SampleSpec(s.sample_id, s.ancestry, sex=s.sex) for s in samples]
    signals = []
    if SIGNAL_GENE in genes and len(signal_cases) >= 2:
        signals.append(
            CaseControlSignal(
                gene=SIGNAL_GENE,
                case_ids=frozenset(signal_cases),
                case_af=0.30,
                control_af=0.02,
                consequence="missense_variant",
                popaf=0.02,
            )
        )
    simulation = simulate_genotypes(samples, variants, genes=genes, seed=seed, spikes=spikes, signals=signals)
    write_germline_vcf(out / fmt.GERMLINE, simulation.sample_ids, simulation.contigs, simulation.chunks())

    withdrawn = {p.participant_id for p in people if p.consent == vocab.WITHDRAWN}
    dropped: dict[str, int] = dict.fromkeys((fmt.PHENOTYPES, fmt.DISEASES, fmt.TUMOURS, fmt.SOMATIC_DIR), 0)
    (out / fmt.SOMATIC_DIR).mkdir(exist_ok=True)
    for i, tumour in enumerate(tumours):  # seeded by place among all tumours, so both forms agree
        if not withdrawn_data and tumour["participant_id"] in withdrawn:
            dropped[fmt.SOMATIC_DIR] += 1
            continue
        calls = simulate_somatic_variants(genes, seed=seed * 1_000_003 + i, n_variants=somatic_variants_per_tumour)
        write_somatic_vcf(out / fmt.somatic_vcf(tumour["tumour_sample_id"]), calls, contigs=genes.contigs)
    written: dict[str, list[Any]] = {
        fmt.PHENOTYPES: phenotypes,
        fmt.DISEASES: diseases,
        fmt.TUMOURS: [list(t.values()) for t in tumours],
    }
    withdrawn_rows = {
        name: sum(row[0] in withdrawn for row in rows) for name, rows in written.items()
    }  # rows of withdrawn participants in the default form
    withdrawn_rows[fmt.SOMATIC_DIR] = sum(t["participant_id"] in withdrawn for t in tumours)
    if not withdrawn_data:
        for name, rows in written.items():
            written[name] = [row for row in rows if row[0] not in withdrawn]
            dropped[name] = withdrawn_rows[name]

    _write_tsv(
        out / fmt.PARTICIPANTS, list(fmt.TABLES[fmt.PARTICIPANTS].columns), [_participant_row(p) for p in people]
    )
    _write_tsv(out / fmt.PHENOTYPES, ["participant_id", "hpo_id", "observed"], written[fmt.PHENOTYPES])
    _write_tsv(
        out / fmt.DISEASES,
        ["participant_id", "disease_group", "disease_subgroup", "specific_disease"],
        written[fmt.DISEASES],
    )
    _write_tsv(out / fmt.TUMOURS, list(fmt.TABLES[fmt.TUMOURS].columns), written[fmt.TUMOURS])
    _write_tsv(
        out / fmt.GENES,
        ["symbol", "chrom", "start", "end", "strand"],
        [(g.symbol, g.chrom, g.start, g.end, g.strand) for g in genes],
    )
    release = {
        "name": name or f"synthetic-{seed}",
        "date": (release_date or date(2025, 7, 1)).isoformat(),
        "genome_build": "GRCh38",
        "format_version": fmt.FORMAT_VERSION,
    }
    (out / fmt.RELEASE_JSON).write_text(json.dumps(release, indent=2) + "\n")

    truth = {
        "seed": seed,
        "pathogenic": planted,
        "injected": [
            {"kind": v.kind, "chrom": v.chrom, "pos": v.pos, "ref": v.ref, "alt": v.alt, "gene": v.gene,
             "consequence": v.consequence, "sample_ids": list(v.sample_ids)}
            for v in simulation.injected
        ],
        "case_control_signal": {
            "gene": SIGNAL_GENE, "cases": "probands with specific_disease " + SIGNAL_DISEASE,
            "case_af": 0.30, "control_af": 0.02, "n_cases": len(signal_cases),
        } if signals else None,
    }  # fmt: skip
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    return {
        "path": str(out),
        "participants": len(people),
        "withdrawn": sum(p.consent == vocab.WITHDRAWN for p in people),
        "genomes": len(genomes),
        "phenotype_rows": len(written[fmt.PHENOTYPES]),
        "tumours": len(written[fmt.TUMOURS]),
        # rows (somatic/: files) of withdrawn participants in the bundle, per file
        "withdrawn_rows": {name: n - dropped[name] for name, n in withdrawn_rows.items()},
        "variants": variants,
        "planted": len(planted),
        "de_novo": sum(1 for v in simulation.injected if v.kind == "de_novo"),
    }


def _make_people(n: int, rng: np.random.Generator, withdrawn_fraction: float) -> tuple[list[Person], dict[str, str]]:
    """The people of the release, and the cancer type of each cancer participant."""
    names = list(ANCESTRY_WEIGHTS)
    p_anc = np.array(list(ANCESTRY_WEIGHTS.values()))
    p_anc = p_anc / p_anc.sum()
    people: list[Person] = []
    cancer_types: dict[str, str] = {}
    counter = iter(range(1, 10**9))

    def new_id() -> str:
        return f"GEL{next(counter):07d}"

    def consent_month() -> str:
        return _month(int(rng.integers(2015, 2020)), int(rng.integers(1, 13)))

    n_rare = int(round(n * 0.55))
    family_number = iter(range(1, 10**9))
    while len(people) < n_rare:
        ancestry = str(rng.choice(names, p=p_anc))
        centre = str(rng.choice(RECRUITING_CENTRES))
        month = consent_month()
        proband_year = int(rng.integers(1975, 2021))
        sex = str(rng.choice(["female", "male"]))
        room = n_rare - len(people)
        if room >= 3 and rng.random() < 0.7:  # trio
            family = f"FAM{next(family_number):06d}"
            mother = Person(
                new_id(),
                vocab.RARE_DISEASE,
                "female",
                proband_year - int(rng.integers(20, 41)),
                ancestry,
                centre,
                vocab.CONSENTING,
                month,
                family_id=family,
                relationship="mother",
                affection="affected" if rng.random() < 0.08 else "unaffected",
            )
            father = Person(
                new_id(),
                vocab.RARE_DISEASE,
                "male",
                proband_year - int(rng.integers(20, 46)),
                ancestry,
                centre,
                vocab.CONSENTING,
                month,
                family_id=family,
                relationship="father",
                affection="affected" if rng.random() < 0.08 else "unaffected",
            )
            proband = Person(
                new_id(),
                vocab.RARE_DISEASE,
                sex,
                proband_year,
                ancestry,
                centre,
                vocab.CONSENTING,
                month,
                family_id=family,
                relationship="proband",
                affection="affected",
                mother=mother.participant_id,
                father=father.participant_id,
                de_novo=bool(rng.random() < 0.35),
            )
            people.extend([proband, mother, father])
        else:  # singleton
            people.append(
                Person(
                    new_id(),
                    vocab.RARE_DISEASE,
                    sex,
                    proband_year,
                    ancestry,
                    centre,
                    vocab.CONSENTING,
                    month,
                    affection="affected",
                )
            )
    while len(people) < n:
        ancestry = str(rng.choice(names, p=p_anc))
        cancer_type_index = int(rng.choice(len(CANCER_TYPES), p=_cancer_weights()))
        sex = str(rng.choice(CANCER_TYPES[cancer_type_index][2]))
        person = Person(
            new_id(),
            vocab.CANCER,
            sex,
            int(rng.integers(1930, 1995)),
            ancestry,
            str(rng.choice(RECRUITING_CENTRES)),
            vocab.CONSENTING,
            consent_month(),
            affection="affected",
        )
        cancer_types[person.participant_id] = CANCER_TYPES[cancer_type_index][0]
        people.append(person)
    for person in people:
        if rng.random() < withdrawn_fraction:
            person.consent = vocab.WITHDRAWN
    return people, cancer_types


def _cancer_weights() -> np.ndarray:
    w = np.array([c[1] for c in CANCER_TYPES])
    return w / w.sum()


def _make_tumours(person: Person, cancer_type: str, rng: np.random.Generator) -> list[dict[str, str]]:
    diagnosis = _add_months(person.consent_month, -int(rng.integers(0, 6)))
    stage = str(rng.choice(vocab.STAGES.values, p=[0.22, 0.30, 0.25, 0.15, 0.08]))
    rows = [{
        "participant_id": person.participant_id, "tumour_sample_id": f"{person.participant_id}-T1",
        "disease_type": cancer_type, "stage": stage, "sample_type": "primary", "diagnosis_month": diagnosis,
    }]  # fmt: skip
    if rng.random() < 0.08:
        rows.append({
            "participant_id": person.participant_id, "tumour_sample_id": f"{person.participant_id}-T2",
            "disease_type": cancer_type, "stage": "IV", "sample_type": "metastatic",
            "diagnosis_month": _add_months(diagnosis, int(rng.integers(3, 30))),
        })  # fmt: skip
    return rows


def _participant_row(p: Person) -> list[Any]:
    return [p.participant_id, p.programme, p.sex, p.year_of_birth, p.ancestry, p.centre, p.consent, p.consent_month,
            p.vital, p.death_month, p.family_id, p.relationship, p.affection]  # fmt: skip


def _write_tsv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
