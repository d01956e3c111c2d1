"""Benchmark: cohort-builder count requests on a release of 100,000 participants.

    python -m bench.cohort_counts                  # build the release (a few minutes on 2 cores), then measure
    python -m bench.cohort_counts --keep           # reuse the database and genotype store of an earlier run
    python -m bench.cohort_counts --participants 20000 --phenotypes 300000   # reduced

Set-up (everything under ``bench/out/cohort_counts/``, which git ignores, and in
one PostgreSQL database of its own, ``bench_cohorts`` by default; a database
of that name that this benchmark did not create is refused, never touched):

1. Environment for the portal (DEBUG off, DATA_ROOT in bench/out, the count
   limit per hour raised), migrations, and the HPO ontology
   (``participants.ontology.ontology_write_tables``).
2. A synthetic release from seeded numpy draws, loaded by the portal's own
   loader (``participants.loader.release_load``, COPY on PostgreSQL); the
   full generator and the bundle's validation are far too slow at this size. The vocabulary is the
   synthetic generator's (``participants.synthetic``): rare-disease families
   (55% of participants: trios, quads with a sibling, mother-proband duos,
   singletons) and cancer participants (45%), sexes, years of birth, genetic
   ancestries, recruiting centres, consent months 2015-2019, 0.5% withdrawn,
   deaths (cancer by stage). One disease per rare-disease proband, one
   tumour per cancer participant (8% a second, metastatic). Phenotypes are
   real HPO terms below "Phenotypic abnormality" (depth 3 or more), ranked by
   how many genes they annotate so that Zipf weights make terms such as
   "Seizure" or "Global developmental delay" common and deep terms rare;
   terms are drawn without replacement (Gumbel top-k). A proband's come
   from the terms annotated to the genes of their disease (the first ones
   observed, a few more recorded as excluded, observed = false), plus a few
   from all annotated terms; affected relatives get a few of the family's
   disease terms, unaffected ones the odd excluded term. A cancer
   participant has the term of their cancer type (e.g. "Breast carcinoma"),
   sometimes more terms below their organ's neoplasm term, common
   comorbidities (pain, fatigue, hypertension, anaemia, ...) and a few other
   terms. Mean counts are scaled to give about ``--phenotypes`` rows.
3. A genotype store for every consenting participant (``simulate_genotypes``
   with trios, GT only, ``write_germline_vcf``, ``import_vcf``) restricted to
   20 genes (BRCA2, TTN, PKD1, MYBPC3, ...), with recurrent pathogenic
   variants planted in solved probands of the matching diseases, BRCA1/2
   carriers among breast and ovarian cancers, and TTN truncating variants in
   0.5% of everyone. ``sample_index`` comes from the store's sample order.
   Tumours name somatic VCFs that are not written (counts never read them).
4. An accredited researcher on an approved project in a domain, with an API
   token.

Measurements (each shape warmed up, then ``--repeats`` runs, round-robin):

- API: POST /api/v1/cohorts/count through ``django.test.Client`` in process
  (middleware, token authentication, DRF, the service with all its queries,
  the rate-limit check and the audit event, JSON): server time without
  network or WSGI server, on one persistent database connection.
  "first" clears the server's memory of each criterion's own count and of
  carrier lookups before the request (criteria nobody has used in this
  release yet); "repeat" is the same request straight after (a researcher
  editing one criterion among others, or anyone using criteria already seen).
- count(): ``compile_criteria(...).count()``: the one query for the total (and
  for a genotype criterion, the carrier lookup in DuckDB, cleared each time).

Then, per shape, every SQL statement (and DuckDB call) of a traced API request
with its time (the median of 5 requests), and ``EXPLAIN (ANALYZE, BUFFERS)`` of
the slowest shape's queryset.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import secrets
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

if TYPE_CHECKING:
    from participants.models import DataRelease

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out" / "cohort_counts"
DATA_ROOT = OUT / "data"
RELEASE = "bench-cohorts"
STORE_PATH = f"releases/{RELEASE}/store"  # relative to DATA_ROOT, as participants.services lays it out
DB_MARKER = "bench.cohort_counts: synthetic release for the cohort count benchmark; safe to drop"
SEED = 20261122

GENES = (
    "BRCA2", "TTN", "PKD1", "MYBPC3", "BRCA1", "TP53", "APC", "MLH1", "ATM", "MYH7",
    "SCN1A", "DMD", "RYR1", "NEB", "FBN1", "KCNQ1", "PKD2", "USH2A", "COL1A1", "LDLR",
)  # fmt: skip

# Cohort definitions measured; targets are p95 of the API request.
SHAPES: dict[str, dict[str, Any]] = {
    "(a) demographics": {
        "version": 1,
        "include_all": [
            {"type": "programme", "values": ["rare_disease"]},
            {"type": "sex", "values": ["female"]},
            {"type": "age_band", "values": ["0-9", "10-19"]},
            {"type": "ancestry", "values": ["EUR", "SAS"]},
        ],
    },
    "(b) HPO + disease + sex": {
        "version": 1,
        "include_all": [
            {"type": "hpo", "term": "HP:0000707"},  # Abnormality of the nervous system, or a descendant
            {"type": "disease", "field": "disease_group", "values": ["Neurology and neurodevelopmental disorders"]},
            {"type": "sex", "values": ["female"]},
        ],
    },
}
SHAPES["(c) (b) + TTN LoF carriers"] = {
    **SHAPES["(b) HPO + disease + sex"],
    "include_all": [
        *SHAPES["(b) HPO + disease + sex"]["include_all"],
        {"type": "genotype", "gene": "TTN", "consequence_classes": ["loss_of_function"], "max_population_af": 0.01},
    ],
}
TARGET_MS = {"(a) demographics": 100.0, "(b) HPO + disease + sex": 100.0, "(c) (b) + TTN LoF carriers": 300.0}

# HPO term recorded for each cancer type of participants.synthetic.CANCER_TYPES.
CANCER_HPO = {
    "BREAST": "HP:0003002",  # Breast carcinoma
    "COLORECTAL": "HP:0003003",  # Colon cancer
    "LUNG": "HP:0100526",  # Neoplasm of the lung
    "RENAL": "HP:0005584",  # Renal cell carcinoma
    "PROSTATE": "HP:0012125",  # Prostate cancer
    "OVARIAN": "HP:0100615",  # Ovarian neoplasm
    "ENDOMETRIAL": "HP:0012114",  # Endometrial carcinoma
    "SARCOMA": "HP:0100242",  # Sarcoma
    "HAEMONC": "HP:0001909",  # Leukemia
    "BLADDER": "HP:0009725",  # Bladder neoplasm
    "MELANOMA": "HP:0002861",  # Melanoma
}
# Neoplasm terms of the organ of each cancer type: a participant's further tumour terms come from below it.
CANCER_ORGAN_HPO = {
    "BREAST": "HP:0100013",  # Neoplasm of the breast
    "COLORECTAL": "HP:0100834",  # Neoplasm of the large intestine
    "LUNG": "HP:0100526",  # Neoplasm of the lung
    "RENAL": "HP:0009726",  # Renal neoplasm
    "PROSTATE": "HP:0100787",  # Prostate neoplasm
    "OVARIAN": "HP:0100615",  # Ovarian neoplasm
    "ENDOMETRIAL": "HP:0010784",  # Uterine neoplasm
    "SARCOMA": "HP:0100242",  # Sarcoma
    "HAEMONC": "HP:0004377",  # Hematological neoplasm
    "BLADDER": "HP:0009725",  # Bladder neoplasm
    "MELANOMA": "HP:0008069",  # Neoplasm of the skin
}
# Common features and comorbidities recorded for adults with cancer, most frequent first.
COMORBIDITIES = (
    "HP:0012531", "HP:0012378", "HP:0000822", "HP:0001903", "HP:0001824", "HP:0002018", "HP:0002019",
    "HP:0000739", "HP:0000716", "HP:0005978", "HP:0001513", "HP:0003124", "HP:0004936", "HP:0009830",
    "HP:0012622", "HP:0005110", "HP:0006510", "HP:0002099", "HP:0000939", "HP:0001004",
)  # fmt: skip
PHENOTYPIC_ABNORMALITY = "HP:0000118"
DATA_CUTOFF = 2025 * 12 + 5  # June 2025, as months since year 0


def log(message: str) -> None:
    print(message, flush=True)


@dataclass
class Timer:
    steps: dict[str, float] = field(default_factory=dict)

    def step(self, name: str) -> _Step:
        return _Step(self, name)


class _Step:
    def __init__(self, timer: Timer, name: str) -> None:
        self.timer, self.name = timer, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()
        log(f"  {self.name} ...")

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self.start
        self.timer.steps[self.name] = seconds
        log(f"  {self.name}: {seconds:.1f} s")


# --------------------------------------------------------------------------
# Database and environment (before django.setup())


def build_params(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "participants": args.participants,
        "phenotypes": args.phenotypes,
        "variants": args.variants,
        "genes": list(GENES),
        "seed": SEED,
        "format": 6,  # bump when the rows or their tables change, so --keep rebuilds
    }


def configure_environment(database_url: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DATA_ROOT"] = str(DATA_ROOT)
    os.environ["PORTAL_VAR_DIR"] = str(OUT / "var")
    (OUT / "var" / "static").mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing STATIC_ROOT
    os.environ["DEBUG"] = "false"
    os.environ["SECRET_KEY"] = "bench-only-" + secrets.token_urlsafe(48)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["COHORT_COUNT_LIMIT_PER_HOUR"] = "1000000"
    os.environ.setdefault("LOG_LEVEL", "WARNING")


def _split_database_url(url: str) -> tuple[str, str]:
    """(database name, URL of the server's maintenance database)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SystemExit("--database-url must be a postgres:// URL: the benchmark measures PostgreSQL")
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"database name {name!r}: use lower-case letters, digits and '_'")
    return name, urlunsplit(parts._replace(path="/postgres"))


def prepare_database(url: str, params: dict[str, Any], *, keep: bool) -> bool:
    """Create the benchmark database if missing (or drop and re-create one this
    benchmark made, unless ``keep`` and it already holds a release built with
    the same parameters). Returns True when the rows must be built."""
    import psycopg2

    name, admin_url = _split_database_url(url)
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name])
            row = cur.fetchone()
            if row is not None and row[0] != DB_MARKER:
                raise SystemExit(
                    f"Database {name} exists and was not made by this benchmark; it is left alone. "
                    "Choose another name with --database-url."
                )
            if row is not None and keep and _holds_release(url, params):
                log(f"Reusing database {name} (same build parameters).")
                return False
            if row is not None:
                log(f"Dropping benchmark database {name} to rebuild it.")
                cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{name}"')
            cur.execute(f"COMMENT ON DATABASE \"{name}\" IS '{DB_MARKER}'")
            log(f"Created database {name}.")
            return True
    finally:
        admin.close()


def _holds_release(url: str, params: dict[str, Any]) -> bool:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('participants_datarelease') IS NOT NULL")
            if not cur.fetchone()[0]:
                return False
            cur.execute("SELECT counts FROM participants_datarelease WHERE name = %s AND status = 'current'", [RELEASE])
            row = cur.fetchone()
            return row is not None and row[0].get("bench") == params
    finally:
        conn.close()


# --------------------------------------------------------------------------
# Synthetic participants (numpy, no Django)


@dataclass
class People:
    pid: np.ndarray  # participant ids, object
    programme: np.ndarray
    sex: np.ndarray
    yob: np.ndarray
    ancestry: np.ndarray
    centre: np.ndarray
    consenting: np.ndarray  # bool
    consent_t: np.ndarray  # consent month as year*12 + month-1
    deceased: np.ndarray  # bool
    death_t: np.ndarray
    family: np.ndarray  # unit number for family members, -1 otherwise
    role: np.ndarray  # "proband", "mother", "father", "sibling", "" (not in a family)
    affected: np.ndarray  # bool
    mother: np.ndarray  # index or -1
    father: np.ndarray
    disease: np.ndarray  # index into RARE_DISEASES for the family (rare disease), else -1
    cancer_type: np.ndarray  # index into CANCER_TYPES, else -1
    # tumours
    t_person: np.ndarray
    t_second: np.ndarray  # bool: metastatic second sample
    t_stage: np.ndarray
    t_diag: np.ndarray

    def __len__(self) -> int:
        return len(self.pid)

    @property
    def is_proband(self) -> np.ndarray:
        """Rare-disease index cases: probands of families and singletons."""
        return (self.programme == "rare_disease") & np.isin(self.role, ["proband", ""])


def _months(t: np.ndarray) -> list[str]:
    return [f"{v // 12:04d}-{v % 12 + 1:02d}" for v in t.tolist()]


def make_people(n: int, rng: np.random.Generator) -> People:
    from participants.synthetic import ANCESTRY_WEIGHTS, CANCER_TYPES, RARE_DISEASES, RECRUITING_CENTRES, STAGE_HAZARD

    anc_names = np.array(list(ANCESTRY_WEIGHTS), dtype=object)
    anc_p = np.array(list(ANCESTRY_WEIGHTS.values()))
    anc_p /= anc_p.sum()
    centres = np.array(RECRUITING_CENTRES, dtype=object)
    centre_p = rng.dirichlet(np.full(len(centres), 4.0))  # some centres recruit more than others
    rd_p = np.array([d.weight for d in RARE_DISEASES])
    rd_p /= rd_p.sum()

    # Rare disease: units of 1 (singleton), 3 (trio), 4 (trio + sibling), 2 (proband + mother).
    n_rd = round(n * 0.55)
    unit_type = rng.choice(4, size=n_rd, p=[0.30, 0.55, 0.07, 0.08])
    sizes = np.array([1, 3, 4, 2])[unit_type]
    n_units = int(np.searchsorted(np.cumsum(sizes), n_rd, side="right"))
    leftover = n_rd - int(sizes[:n_units].sum())
    unit_type = np.concatenate([unit_type[:n_units], np.zeros(leftover, dtype=int)])
    sizes = np.array([1, 3, 4, 2])[unit_type]
    units = len(unit_type)
    u_of = np.repeat(np.arange(units), sizes)
    starts = np.cumsum(sizes) - sizes
    pos = np.arange(n_rd) - starts[u_of]  # 0 proband, 1 mother, 2 father (duo: none), 3 sibling
    single = unit_type[u_of] == 0
    role = np.array(["proband", "mother", "father", "sibling"], dtype=object)[pos]
    role[single] = ""

    u_anc = rng.choice(anc_names, size=units, p=anc_p)
    u_centre = rng.choice(centres, size=units, p=centre_p)
    u_consent = rng.integers(2015, 2020, units) * 12 + rng.integers(0, 12, units)
    u_disease = rng.choice(len(RARE_DISEASES), size=units, p=rd_p)
    paediatric = rng.random(units) < 0.65
    proband_age = np.where(paediatric, rng.integers(0, 18, units), rng.integers(18, 80, units))
    u_proband_yob = u_consent // 12 - proband_age

    yob_rd = u_proband_yob[u_of].copy()
    yob_rd[pos == 1] -= rng.integers(18, 43, int((pos == 1).sum()))
    yob_rd[pos == 2] -= rng.integers(18, 49, int((pos == 2).sum()))
    sib = pos == 3
    yob_rd[sib] = np.minimum(yob_rd[sib] + rng.integers(-10, 11, int(sib.sum())), u_consent[u_of][sib] // 12)
    sex_rd = rng.choice(np.array(["female", "male", "unknown"], dtype=object), size=n_rd, p=[0.4975, 0.4975, 0.005])
    sex_rd[pos == 1] = "female"
    sex_rd[pos == 2] = "male"
    affected_rd = np.where(pos == 0, True, rng.random(n_rd) < np.where(pos == 3, 0.35, 0.08))
    mother_rd = np.where(((pos == 0) | (pos == 3)) & (unit_type[u_of] != 0), starts[u_of] + 1, -1)
    father_rd = np.where(((pos == 0) | (pos == 3)) & np.isin(unit_type[u_of], [1, 2]), starts[u_of] + 2, -1)

    # Cancer participants.
    n_c = n - n_rd
    c_p = np.array([c[1] for c in CANCER_TYPES])
    c_type = rng.choice(len(CANCER_TYPES), size=n_c, p=c_p / c_p.sum())
    sex_c = np.array([CANCER_TYPES[t][2][rng.integers(len(CANCER_TYPES[t][2]))] for t in c_type], dtype=object)
    consent_c = rng.integers(2015, 2020, n_c) * 12 + rng.integers(0, 12, n_c)
    age_c = np.clip(np.round(rng.normal(66, 12, n_c)), 20, 95).astype(int)

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])

    people = People(
        pid=np.array([f"GEL{i:07d}" for i in range(1, n + 1)], dtype=object),
        programme=cat(np.full(n_rd, "rare_disease", dtype=object), np.full(n_c, "cancer", dtype=object)),
        sex=cat(sex_rd, sex_c),
        yob=cat(yob_rd, consent_c // 12 - age_c),
        ancestry=cat(u_anc[u_of], rng.choice(anc_names, size=n_c, p=anc_p)),
        centre=cat(u_centre[u_of], rng.choice(centres, size=n_c, p=centre_p)),
        consenting=rng.random(n) >= 0.005,
        consent_t=cat(u_consent[u_of], consent_c),
        deceased=np.zeros(n, dtype=bool),
        death_t=np.zeros(n, dtype=int),
        family=cat(np.where(single, -1, u_of), np.full(n_c, -1)),
        role=cat(role, np.full(n_c, "", dtype=object)),
        affected=cat(affected_rd, np.ones(n_c, dtype=bool)),
        mother=cat(mother_rd, np.full(n_c, -1)),
        father=cat(father_rd, np.full(n_c, -1)),
        disease=cat(u_disease[u_of], np.full(n_c, -1)),
        cancer_type=cat(np.full(n_rd, -1), c_type),
        t_person=np.zeros(0, dtype=int),
        t_second=np.zeros(0, dtype=bool),
        t_stage=np.zeros(0, dtype=object),
        t_diag=np.zeros(0, dtype=int),
    )

    # Tumours of consenting cancer participants, and deaths by stage (as participants.synthetic does).
    cancer = np.flatnonzero((people.programme == "cancer") & people.consenting)
    stage = rng.choice(
        np.array(["I", "II", "III", "IV", ""], dtype=object), cancer.size, p=[0.22, 0.30, 0.25, 0.15, 0.08]
    )
    diag = people.consent_t[cancer] - rng.integers(0, 6, cancer.size)
    second = rng.random(cancer.size) < 0.08
    diag2 = diag + rng.integers(3, 30, cancer.size)
    people.t_person = np.concatenate([cancer, cancer[second]])
    people.t_second = np.concatenate([np.zeros(cancer.size, dtype=bool), np.ones(int(second.sum()), dtype=bool)])
    people.t_stage = np.concatenate([stage, np.full(int(second.sum()), "IV", dtype=object)])
    people.t_diag = np.concatenate([diag, diag2[second]])
    hazard = np.array([STAGE_HAZARD[s] for s in stage])
    to_death = rng.exponential(1 / hazard).astype(int)
    dies = (to_death > 0) & (to_death <= DATA_CUTOFF - diag)
    people.deceased[cancer[dies]] = True
    people.death_t[cancer[dies]] = diag[dies] + to_death[dies]
    rare = np.flatnonzero((people.programme == "rare_disease") & people.consenting)
    rd_death = people.consent_t[rare] + rng.integers(1, 60, rare.size)
    dies = (rng.random(rare.size) < 0.01) & (rd_death <= DATA_CUTOFF)
    people.deceased[rare[dies]] = True
    people.death_t[rare[dies]] = rd_death[dies]
    return people


# --------------------------------------------------------------------------
# Genotype store


def planted_variants(people: People, rng: np.random.Generator) -> list[Any]:
    """Recurrent pathogenic variants in solved probands (and a parent they
    inherited it from), BRCA1/2 carriers among breast and ovarian cancers,
    and TTN truncating variants in 0.5% of everyone."""
    from genomics.simulate import SpikedVariant
    from participants.synthetic import CANCER_TYPES, RARE_DISEASES

    consenting = people.consenting
    ids = people.pid
    kinds = ("stop_gained", "frameshift_variant", "splice_donor_variant", "missense_variant")
    slot_p = np.array([0.45, 0.25, 0.18, 0.12])
    spikes: list[SpikedVariant] = []
    carriers: dict[tuple[str, int], dict[str, int]] = defaultdict(dict)
    probands = np.flatnonzero(people.is_proband & consenting)
    for d, disease in enumerate(RARE_DISEASES):
        genes = [g for g in disease.genes if g in GENES]
        if not genes:
            continue
        mine = probands[people.disease[probands] == d]
        solved = mine[rng.random(mine.size) < 0.2]
        for person in solved:
            gene = genes[int(rng.integers(len(genes)))]
            slot = int(rng.choice(4, p=slot_p))
            carriers[(gene, slot)][ids[person]] = 1
            parent = people.mother[person] if rng.random() < 0.5 else people.father[person]
            if parent >= 0 and consenting[parent] and rng.random() < 0.4:
                carriers[(gene, slot)][ids[parent]] = 1
    for (gene, slot), genotypes in sorted(carriers.items()):
        spikes.append(SpikedVariant(gene=gene, genotypes=genotypes, consequence=kinds[slot], popaf=0.0001))
    type_names = [c[0] for c in CANCER_TYPES]
    brca = np.flatnonzero(
        consenting & np.isin(people.cancer_type, [type_names.index("BREAST"), type_names.index("OVARIAN")])
    )
    brca = brca[rng.random(brca.size) < 0.06]
    for k, gene in enumerate(("BRCA1", "BRCA2")):
        mine = brca[k::2]
        for slot in range(3):
            spikes.append(
                SpikedVariant(gene=gene, genotypes={ids[i]: 1 for i in mine[slot::3]}, consequence=kinds[slot],
                              popaf=0.0002)
            )  # fmt: skip
    everyone = np.flatnonzero(consenting)
    ttn = everyone[rng.random(everyone.size) < 0.005]
    for slot in range(3):
        spikes.append(
            SpikedVariant(gene="TTN", genotypes={ids[i]: 1 for i in ttn[slot::3]}, consequence=kinds[slot],
                          popaf=0.0008)
        )  # fmt: skip
    return spikes


def build_store(people: People, n_variants: int, store: Path, timer: Timer) -> None:
    from genomics.genes import default_gene_table
    from genomics.simulate import SampleSpec, simulate_genotypes
    from genomics.store import import_vcf
    from genomics.vcf import write_germline_vcf

    rng = np.random.default_rng(SEED + 1)
    genes = default_gene_table().subset(symbols=GENES)
    missing = set(GENES) - {g.symbol for g in genes}
    if missing:
        raise SystemExit(f"genes not in the default gene table: {', '.join(sorted(missing))}")
    ok = people.consenting
    samples = []
    for i in np.flatnonzero(ok):
        m, f = people.mother[i], people.father[i]
        if m >= 0 and f >= 0 and ok[m] and ok[f]:  # complete trios only, as participants.synthetic does
            samples.append(
                SampleSpec(people.pid[i], people.ancestry[i], mother_id=people.pid[m], father_id=people.pid[f])
            )
        else:
            samples.append(SampleSpec(people.pid[i], people.ancestry[i]))
    spikes = planted_variants(people, rng)
    work = OUT / "work"
    work.mkdir(parents=True, exist_ok=True)
    vcf = work / "germline.vcf.gz"
    with timer.step(f"simulate + write VCF ({len(samples):,} samples x {n_variants:,} sites, GT)"):
        sim = simulate_genotypes(
            samples, n_variants, genes=genes, seed=SEED, spikes=spikes, format_fields=False, chunk_size=500
        )
        write_germline_vcf(vcf, sim.sample_ids, sim.contigs, sim.chunks(), format_fields=("GT",), compress_level=1)
    with timer.step("import_vcf (VCF Zarr, variant table, carrier index)"):
        summary = import_vcf(vcf, store, workers=2, overwrite=True)
    log(
        f"    store: {summary.n_samples:,} samples, {summary.n_variants:,} variants, "
        f"{summary.n_carrier_rows:,} carrier rows; " + ", ".join(f"{k} {v:.1f} s" for k, v in summary.seconds.items())
    )
    shutil.rmtree(work)


# --------------------------------------------------------------------------
# Rows (Django)


def _gumbel_top_k(
    rng: np.random.Generator, log_w: np.ndarray, ks: np.ndarray, chunk: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """For each row i, ks[i] distinct pool positions drawn without replacement
    with probabilities proportional to exp(log_w) (Gumbel top-k), in draw
    order. Returns (row, position) pairs."""
    size = len(log_w)
    ks = np.minimum(ks, size)
    rows, cols = [], []
    for s in range(0, len(ks), chunk):
        kk = ks[s : s + chunk]
        top_k = int(kk.max(initial=0))
        if top_k == 0:
            continue
        keys = rng.gumbel(size=(len(kk), size)) + log_w
        top = np.argpartition(-keys, top_k - 1, axis=1)[:, :top_k]
        order = np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        keep = np.arange(top_k)[None, :] < kk[:, None]
        rows.append(np.broadcast_to(np.arange(s, s + len(kk))[:, None], top.shape)[keep])
        cols.append(top[keep])
    if not rows:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return np.concatenate(rows), np.concatenate(cols)


def _zipf_log_weights(n: int, exponent: float = 1.0) -> np.ndarray:
    return -exponent * np.log(np.arange(1, n + 1))


def _overdispersed(rng: np.random.Generator, mean: float, n: int, shape: float = 3.0) -> np.ndarray:
    return rng.poisson(rng.gamma(shape, mean / shape, n))


def make_phenotypes(people: People, n_target: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(person index, term id, observed) rows; see the module docstring. The
    mean counts are scaled once, then corrected after a first draw so that the
    rows left after removing repeated terms come close to ``n_target``."""
    from participants.models import HpoAncestor, HpoGene, HpoTerm
    from participants.synthetic import CANCER_TYPES, RARE_DISEASES

    abnormal = set(HpoAncestor.objects.filter(ancestor_id=PHENOTYPIC_ABNORMALITY).values_list("term_id", flat=True))
    usable = set(HpoTerm.objects.filter(is_obsolete=False, depth__gte=3).values_list("id", flat=True)) & abnormal
    genes_of: dict[str, set[str]] = defaultdict(set)
    terms_of_gene: dict[str, set[str]] = defaultdict(set)
    for term, gene in HpoGene.objects.values_list("term_id", "gene_symbol"):
        if term in usable:
            genes_of[term].add(gene)
            terms_of_gene[gene].add(term)
    # Ranks for the Zipf weights: annotated terms, most widely annotated first, then the rest.
    ranked = sorted(usable, key=lambda t: (-len(genes_of.get(t, ())), t))
    rank = {t: i for i, t in enumerate(ranked)}
    term_ids = np.array(ranked, dtype=object)

    def pool(terms: set[str] | list[str], limit: int | None = None) -> np.ndarray:
        positions = np.array(sorted(rank[t] for t in terms if t in rank), dtype=int)
        return positions[:limit] if limit else positions

    def descendants(term: str) -> set[str]:
        return set(HpoAncestor.objects.filter(ancestor_id=term).values_list("term_id", flat=True))

    global_pool = pool(set(genes_of), 6000)  # gene-annotated terms
    disease_pools = [pool({t for g in d.genes for t in terms_of_gene.get(g, ())}) for d in RARE_DISEASES]
    type_term = [CANCER_HPO[c[0]] for c in CANCER_TYPES]
    organ_pools = [pool(descendants(CANCER_ORGAN_HPO[c[0]])) for c in CANCER_TYPES]
    comorbidity = np.array([rank[t] for t in COMORBIDITIES if t in rank], dtype=int)  # in order of frequency

    ok = people.consenting
    probands = np.flatnonzero(people.is_proband & ok)
    relatives = np.flatnonzero((people.programme == "rare_disease") & ~people.is_proband & ok)
    rel_aff = relatives[people.affected[relatives]]
    rel_unaff = relatives[~people.affected[relatives]]
    cancer = np.flatnonzero((people.programme == "cancer") & ok)
    # Base means per person (beyond a cancer participant's tumour term), all scaled together.
    base = {"observed": 20.0, "excluded": 4.0, "noise": 3.0, "relative": 6.0, "unaffected": 1.0,
            "organ": 1.5, "comorbid": 3.0, "other": 2.0}  # fmt: skip
    expected = (
        probands.size * (base["observed"] + base["excluded"] + base["noise"])
        + rel_aff.size * base["relative"]
        + rel_unaff.size * base["unaffected"]
        + cancer.size * (1 + base["organ"] + base["comorbid"] + base["other"])
    )

    def draw(scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        mean = {k: v * scale for k, v in base.items()}
        persons: list[np.ndarray] = []
        terms: list[np.ndarray] = []
        observed: list[np.ndarray] = []

        def add(who: np.ndarray, positions: np.ndarray, obs: bool | np.ndarray) -> None:
            persons.append(who)
            terms.append(term_ids[positions])
            observed.append(np.broadcast_to(np.asarray(obs), who.shape).copy())

        # Rare disease: the terms of the family's disease genes; the first k observed, the rest excluded.
        for d, positions in enumerate(disease_pools):
            if positions.size == 0:
                positions = global_pool
            log_w = _zipf_log_weights(positions.size)
            mine = probands[people.disease[probands] == d]
            k_obs = 1 + _overdispersed(rng, mean["observed"] - 1, mine.size)
            k_exc = rng.poisson(mean["excluded"], mine.size)
            row, col = _gumbel_top_k(rng, log_w, k_obs + k_exc)
            first = np.concatenate([[0], np.cumsum(np.minimum(k_obs + k_exc, positions.size))[:-1]])
            add(mine[row], positions[col], (np.arange(row.size) - first[row]) < k_obs[row])
            kin = np.concatenate([rel_aff[people.disease[rel_aff] == d], rel_unaff[people.disease[rel_unaff] == d]])
            n_aff = int((people.disease[rel_aff] == d).sum())
            k_rel = np.concatenate(
                [1 + rng.poisson(mean["relative"] - 1, n_aff), rng.poisson(mean["unaffected"], kin.size - n_aff)]
            )
            row, col = _gumbel_top_k(rng, log_w, k_rel)
            add(kin[row], positions[col], row < n_aff)
        flatter = _zipf_log_weights(global_pool.size, 0.8)  # the whole ontology: skewed, but no term in everyone
        row, col = _gumbel_top_k(rng, flatter, rng.poisson(mean["noise"], probands.size))
        add(probands[row], global_pool[col], True)

        # Cancer: the tumour's term, more terms of its organ, common comorbidities, a few others.
        persons.append(cancer)
        terms.append(np.array([type_term[t] for t in people.cancer_type[cancer]], dtype=object))
        observed.append(np.ones(cancer.size, dtype=bool))
        for t, positions in enumerate(organ_pools):
            mine = cancer[people.cancer_type[cancer] == t]
            row, col = _gumbel_top_k(rng, _zipf_log_weights(positions.size), rng.poisson(mean["organ"], mine.size))
            add(mine[row], positions[col], True)
        k = np.minimum(_overdispersed(rng, mean["comorbid"], cancer.size), comorbidity.size // 2)
        row, col = _gumbel_top_k(rng, _zipf_log_weights(comorbidity.size, 0.7), k)
        add(cancer[row], comorbidity[col], True)
        row, col = _gumbel_top_k(rng, flatter, rng.poisson(mean["other"], cancer.size))
        add(cancer[row], global_pool[col], True)

        person = np.concatenate(persons)
        term = np.concatenate(terms)
        obs = np.concatenate(observed)
        # One row per (participant, term); an observed term wins over the same term excluded.
        codes = {t: i for i, t in enumerate(sorted(set(term.tolist())))}
        key = person.astype(np.int64) * len(codes) + np.array([codes[t] for t in term.tolist()], dtype=np.int64)
        order = np.lexsort((~obs, key))
        _, first = np.unique(key[order], return_index=True)
        keep = order[first]
        return person[keep], term[keep], obs[keep]

    scale = n_target / max(expected, 1)
    rows = draw(scale)
    return draw(scale * n_target / max(rows[0].size, 1))


def load_rows(people: People, args: argparse.Namespace, params: dict[str, Any], timer: Timer) -> None:
    """The release's rows, loaded by the portal's own loader (``participants.loader``)."""
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection, transaction

    from genomics.genes import default_gene_table
    from genomics.store import GenotypeStore
    from participants import bundle as fmt
    from participants import vocabularies as vocab
    from participants.loader import ReleaseRows, release_load
    from participants.models import (
        DataRelease,
        Disease,
        HpoAncestor,
        HpoGene,
        HpoTerm,
        Participant,
        Phenotype,
        PhenotypeAncestor,
        Tumour,
    )
    from participants.ontology import ontology_write_tables
    from participants.synthetic import CANCER_TYPES, RARE_DISEASES

    with timer.step("migrate"):
        call_command("migrate", interactive=False, verbosity=0)
    with timer.step("HPO ontology (ontology_write_tables)"), transaction.atomic():
        version = ontology_write_tables()
    log(f"    {version.source} {version.version}: {version.n_terms:,} terms, {version.n_ancestor_links:,} closure rows")

    store = GenotypeStore(DATA_ROOT / STORE_PATH)
    sample_index = {sid: i for i, sid in enumerate(store.sample_ids)}
    missing = [p for p, c in zip(people.pid, people.consenting, strict=True) if c and p not in sample_index]
    if missing:
        raise SystemExit(
            f"{len(missing)} consenting participants are not in the genotype store; rebuild without --keep"
        )

    with timer.step("phenotype draws (numpy)"):
        ph_person, ph_term, ph_obs = make_phenotypes(people, args.phenotypes, SEED + 2)

    n = len(people)
    consent_month = _months(people.consent_t)
    death_month = _months(people.death_t)
    diag = _months(people.t_diag)
    pid = people.pid.tolist()
    participants = (
        {
            "participant_id": pid[i],
            "programme": people.programme[i],
            "sex": people.sex[i],
            "year_of_birth": int(people.yob[i]),
            "genetic_ancestry": people.ancestry[i],
            "recruiting_centre": people.centre[i],
            "consent_status": vocab.CONSENTING if people.consenting[i] else vocab.WITHDRAWN,
            "consent_month": consent_month[i],
            "vital_status": vocab.DECEASED if people.deceased[i] else vocab.ALIVE,
            "death_month": death_month[i] if people.deceased[i] else "",
            "family_id": f"FAM{people.family[i]:06d}" if people.family[i] >= 0 else "",
            "relationship_to_proband": people.role[i],
            "affection_status": "affected" if people.affected[i] else "unaffected",
        }
        for i in range(n)
    )
    diseases = (
        {"participant_id": pid[i], "disease_group": d.group, "disease_subgroup": d.subgroup,
         "specific_disease": d.specific}
        for i in np.flatnonzero(people.is_proband & people.consenting)
        for d in (RARE_DISEASES[people.disease[i]],)
    )  # fmt: skip
    tumours = (
        {"participant_id": pid[i], "tumour_sample_id": f"{pid[i]}-T{2 if second else 1}",
         "disease_type": CANCER_TYPES[people.cancer_type[i]][0], "stage": stage,
         "sample_type": "metastatic" if second else "primary", "diagnosis_month": diag[k]}
        for k, (i, second, stage) in enumerate(zip(people.t_person, people.t_second, people.t_stage, strict=True))
    )  # fmt: skip
    phenotypes = (
        {"participant_id": pid[i], "hpo_id": term, "observed": observed}
        for i, term, observed in zip(ph_person.tolist(), ph_term.tolist(), ph_obs.tolist(), strict=True)
    )
    genes = (
        {"symbol": g.symbol, "chrom": g.chrom, "start": g.start, "end": g.end, "strand": g.strand}
        for g in default_gene_table().subset(GENES)
    )
    rows = ReleaseRows(
        name=RELEASE,
        release_date=dt.date(2025, 7, 1),
        genome_build="GRCh38",
        format_version=fmt.FORMAT_VERSION,
        checksum="0" * 64,
        sample_index=sample_index,
        store_path=STORE_PATH,
        participants=participants,
        phenotypes=phenotypes,
        diseases=diseases,
        tumours=tumours,
        genes=genes,
        extra_counts={"bench": params},
    )
    with timer.step(f"release_load ({n:,} participants, {ph_person.size:,} phenotypes)"), transaction.atomic():
        loaded = release_load(rows=rows)
    log(f"    {PhenotypeAncestor.objects.filter(release=loaded.release).count():,} rollup rows")
    with timer.step("VACUUM ANALYZE"), connection.cursor() as cursor:
        tables = (
            Participant,
            Phenotype,
            PhenotypeAncestor,
            Disease,
            Tumour,
            DataRelease,
            HpoTerm,
            HpoAncestor,
            HpoGene,
        )
        for model in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        cursor.execute("ANALYZE")


# --------------------------------------------------------------------------
# Researcher, project, token


def researcher() -> tuple[Any, Any, str]:
    """An accredited member of an approved project, and a fresh API token."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import CURRENT_AGREEMENT_VERSION, ApiToken, ResearcherProfile, User
    from accounts.services import api_token_create
    from domains.models import Domain, MembershipApplication, MembershipStatus, Project, ProjectMember, ProjectStatus

    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        lead, _ = User.objects.get_or_create(email="bench.lead@example.org", defaults={"full_name": "Benchmark Lead"})
        user, _ = User.objects.get_or_create(
            email="bench.researcher@example.org", defaults={"full_name": "Benchmark Researcher"}
        )
        ResearcherProfile.objects.update_or_create(
            user=user,
            defaults={
                "institution": "Benchmark University",
                "training_completed_on": today - dt.timedelta(days=30),
                "agreement_version": CURRENT_AGREEMENT_VERSION,
                "agreement_accepted_at": now,
            },
        )
        domain, _ = Domain.objects.get_or_create(
            slug="bench-neurology",
            defaults={"name": "Benchmark neurology", "programme": "rare_disease", "description": "For benchmarks."},
        )
        MembershipApplication.objects.get_or_create(
            domain=domain,
            applicant=user,
            status=MembershipStatus.APPROVED,
            defaults={"justification": "Benchmark.", "decided_at": now, "decided_by": lead},
        )
        project, _ = Project.objects.update_or_create(
            domain=domain,
            owner=user,
            title="Cohort count benchmark",
            defaults={
                "lay_summary": "Timing cohort counts.",
                "aims": "Timing.",
                "data_needed": "Phenotypes and genotypes.",
                "planned_outputs": "A table of timings.",
                "end_date": today + dt.timedelta(days=365),
                "status": ProjectStatus.APPROVED,
                "decided_at": now,
                "decided_by": lead,
                "approved_on": today,
            },
        )
        ProjectMember.objects.get_or_create(project=project, user=user, defaults={"added_by": user})
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        _, key = api_token_create(by=user, name="cohort count benchmark", lifetime_days=30)
    return user, project, key


# --------------------------------------------------------------------------
# Measuring


@dataclass
class Shape:
    name: str
    criteria: dict[str, Any]
    target_ms: float
    api: list[float] = field(default_factory=list)
    repeat: list[float] = field(default_factory=list)
    orm: list[float] = field(default_factory=list)
    total: str = ""

    def p(self, series: str, q: float) -> float:
        return float(np.percentile(getattr(self, series), q))


def _release() -> DataRelease:
    """The current release; the benchmark loads one first."""
    from participants.selectors import release_current

    release = release_current()
    if release is None:
        raise SystemExit("no current release: the benchmark loads its own before measuring")
    return release


def _ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def measure(shapes: list[Shape], repeats: int, warmup: int, project: Any, key: str) -> None:
    from django.core.cache import cache
    from django.test import Client

    from cohorts import criteria as crit
    from cohorts.compiler import compile_criteria
    from cohorts.genotypes import genotype_store

    client = Client()
    headers = {"Authorization": f"Token {key}"}
    release = _release()

    def api(shape: Shape) -> Any:
        response = client.post(
            "/api/v1/cohorts/count",
            data=json.dumps({"project": project.pk, "criteria": shape.criteria}),
            content_type="application/json",
            secure=True,
            headers=headers,
        )
        if response.status_code != 200:
            raise SystemExit(f"{shape.name}: HTTP {response.status_code}: {response.content[:500]!r}")
        return response.json()

    def forget() -> None:
        cache.clear()
        genotype_store(release).forget_carriers()

    def orm(shape: Shape) -> int:
        return compile_criteria(crit.parse(shape.criteria), release).count()

    for shape in shapes:
        for _ in range(warmup):
            shape.total = api(shape)["total"]["display"]
            orm(shape)
    for _ in range(repeats):
        for shape in shapes:
            forget()
            shape.api.append(_ms(functools.partial(api, shape))[0])
            shape.repeat.append(_ms(functools.partial(api, shape))[0])
        for shape in shapes:
            forget()
            shape.orm.append(_ms(functools.partial(orm, shape))[0])


@dataclass
class Traced:
    """One API request with each SQL statement and genotype store call timed."""

    total_ms: float
    steps: list[tuple[float, str]]  # (ms, SQL or "DuckDB: ...")

    @property
    def sql_ms(self) -> float:
        return sum(ms for ms, what in self.steps if not what.startswith("DuckDB"))

    @property
    def duckdb_ms(self) -> float:
        return sum(ms for ms, what in self.steps if what.startswith("DuckDB"))


def trace(shape: Shape, project: Any, key: str) -> Traced:
    """A first request (nothing remembered), every statement timed."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from cohorts.genotypes import genotype_store
    from genomics.store import GenotypeStore

    cache.clear()
    genotype_store(_release()).forget_carriers()

    seen: list[tuple[float, str]] = []
    original = GenotypeStore.carriers

    def counted(self: GenotypeStore, **kwargs: Any) -> set[int]:
        ms, result = _ms(lambda: original(self, **kwargs))
        seen.append((ms, "DuckDB: GenotypeStore.carriers(...)"))
        return result

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        ms, result = _ms(lambda: execute(sql, params, many, context))
        seen.append((ms, sql))
        return result

    client = Client()
    GenotypeStore.carriers = counted  # type: ignore[method-assign]
    try:
        with connection.execute_wrapper(timed):
            total, _ = _ms(
                lambda: client.post(
                    "/api/v1/cohorts/count",
                    data=json.dumps({"project": project.pk, "criteria": shape.criteria}),
                    content_type="application/json",
                    secure=True,
                    HTTP_AUTHORIZATION=f"Token {key}",
                )
            )
    finally:
        GenotypeStore.carriers = original  # type: ignore[method-assign]
    return Traced(total, seen)


def _label(sql: str) -> str:
    """One line for a statement: short select list, the table, and what the filter touches."""
    full = " ".join(sql.split())
    label = full
    if full.startswith("SELECT ") and " FROM " in full:
        columns, rest = full[7:].split(" FROM ", 1)
        columns = columns if len(columns) <= 40 else columns[:37] + "..."
        label = f"SELECT {columns} FROM {rest.split(' ', 1)[0]}"  # noqa: S608 - printed, never executed
    tags = {
        "participants_phenotype": "hpo",
        "participants_disease": "disease",
        '"sample_index" IN': "genotype",
        "GROUP BY": "group by",
    }
    found = [tag for needle, tag in tags.items() if needle in full]
    return label[:110] + (f"  [{', '.join(found)}]" if found else "")


def connection_setup_ms() -> float:
    """A new database connection and its first query (what DB_CONN_MAX_AGE=0 pays on every request)."""
    from django.db import connection

    connection.close()
    ms, _ = _ms(lambda: connection.cursor().execute("SELECT 1"))
    return ms


def print_table(shapes: list[Shape]) -> None:
    log(
        "| shape | result | API first p50 | API first p95 | pass | API repeat p50 | API repeat p95 | pass "
        "| target p95 | count() p50 | count() p95 |"
    )
    log("| --- | ---: | ---: | ---: | :---: | ---: | ---: | :---: | ---: | ---: | ---: |")
    for s in shapes:
        first = "pass" if s.p("api", 95) < s.target_ms else "FAIL"
        repeat = "pass" if s.p("repeat", 95) < s.target_ms else "FAIL"
        log(
            f"| {s.name} | {s.total} | {s.p('api', 50):.1f} | {s.p('api', 95):.1f} | {first} "
            f"| {s.p('repeat', 50):.1f} | {s.p('repeat', 95):.1f} | {repeat} | < {s.target_ms:.0f} "
            f"| {s.p('orm', 50):.1f} | {s.p('orm', 95):.1f} |"
        )
    log("(milliseconds)")


def explain(shape: Shape) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the two participant queries of a first
    request: the total with its breakdowns, then each criterion's own count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cohorts import criteria as crit
    from cohorts.compiler import count_cells, count_each
    from cohorts.genotypes import genotype_store

    release = _release()
    criteria = crit.parse(shape.criteria)
    genotype_store(release).forget_carriers()
    with CaptureQueriesContext(connection) as seen:
        count_cells(criteria, release)
        count_each(criteria.all_criteria(), release)
    plans = []
    with connection.cursor() as cursor:
        for query in seen.captured_queries:
            if "participants_participant" not in query["sql"]:
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            sql = re.sub(r"\(((?:\d+, ){8})[\d, ]+\)", lambda m: f"({m.group(1)}...)", query["sql"])
            plans.append(sql + "\n\n" + "\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(plans)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--phenotypes", type=int, default=1_500_000, help="about this many phenotype rows")
    parser.add_argument("--variants", type=int, default=5_000, help="sites in the genotype store (20 genes)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_cohorts")
    parser.add_argument("--keep", action="store_true", help="reuse the database and store of an earlier run")
    args = parser.parse_args(argv)
    params = build_params(args)
    started = time.perf_counter()
    timer = Timer()

    configure_environment(args.database_url)
    store = DATA_ROOT / STORE_PATH
    stamp = store.parent / "build.json"
    store_ok = args.keep and (store / "manifest.json").exists() and stamp.exists()
    store_ok = store_ok and json.loads(stamp.read_text()) == params
    build_rows = prepare_database(args.database_url, params, keep=args.keep and store_ok)

    log(f"Synthetic release: {args.participants:,} participants, about {args.phenotypes:,} phenotype rows")
    with timer.step("participants (numpy)"):
        people = make_people(args.participants, np.random.default_rng(SEED))
    if store_ok:
        log(f"Reusing genotype store {store.relative_to(REPO)}.")
    else:
        stamp.unlink(missing_ok=True)
        build_store(people, args.variants, store, timer)
        stamp.write_text(json.dumps(params) + "\n")

    import django

    django.setup()
    if build_rows:
        load_rows(people, args, params, timer)
    else:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    build_seconds = time.perf_counter() - started

    from participants.models import DataRelease, Phenotype

    release = DataRelease.objects.get(name=RELEASE)
    if not build_rows:
        from participants.marginals import consenting_by

        release.counts["consenting_by"] = consenting_by(release)  # as the current code keeps them
        release.save(update_fields=["counts"])
    user, project, key = researcher()
    log(
        f"\nRelease {release.name}: {release.counts['participants']:,} participants "
        f"({release.counts['consenting']:,} consenting, {release.counts['programmes']}), "
        f"{Phenotype.objects.filter(participant__release=release).count():,} phenotype rows, "
        f"{release.counts['diseases']:,} diseases, {release.counts['tumours']:,} tumours, "
        f"{release.counts['genomes']:,} genomes. Set-up {build_seconds:.0f} s."
    )

    shapes = [Shape(name, criteria, TARGET_MS[name]) for name, criteria in SHAPES.items()]
    log(f"\nMeasuring: {args.warmup} warm-up and {args.repeats} timed runs per shape and path, round-robin ...")
    load_before = os.getloadavg()[0]
    measure(shapes, args.repeats, args.warmup, project, key)
    log(
        f"\n{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; {platform.platform()}; "
        f"Python {platform.python_version()}; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after the timed runs\n"
    )
    print_table(shapes)
    log(f"\nNew database connection + first query: {connection_setup_ms():.1f} ms")

    for shape in shapes:
        traces = sorted((trace(shape, project, key) for _ in range(5)), key=lambda t: t.total_ms)
        median = traces[2]
        n_sql = sum(1 for _, what in median.steps if not what.startswith("DuckDB"))
        log(
            f"\n{shape.name}: the median of 5 traced API requests took {median.total_ms:.1f} ms: "
            f"{median.sql_ms:.1f} ms in {n_sql} SQL statements, {median.duckdb_ms:.1f} ms in DuckDB, "
            f"{median.total_ms - median.sql_ms - median.duckdb_ms:.1f} ms in Python"
        )
        for ms, sql in median.steps:
            log(f"  {ms:7.1f} ms  {_label(sql)}")

    slowest = max(shapes, key=lambda s: s.p("api", 95))
    log(f"\nEXPLAIN (ANALYZE, BUFFERS) of the slowest shape, {slowest.name}:\n")
    log(explain(slowest))

    log(f"\nTotal run time {time.perf_counter() - started:.0f} s.")


if __name__ == "__main__":
    main()
