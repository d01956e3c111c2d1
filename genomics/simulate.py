"""Synthetic germline genotypes for data releases.

Founders are simulated with msprime under a human out-of-Africa demography
(Gutenkunst et al. 2009, three populations, extended here with South Asian,
admixed American and "other" groups), so the allele-frequency spectrum and
local linkage look like real data. Children of trios are then made by Mendelian
transmission from their parents' haplotypes (with crossovers), and de novo
variants may be injected in chosen children. Forced genotypes (spiked
pathogenic variants, a case-control signal) are placed at reserved sites.

Everything streams in chunks of sites, so 10,000 samples x 100,000 sites runs
in bounded memory. Output is deterministic for a given seed and chunk size.

Typical use::

    sim = simulate_genotypes(samples, n_variants=5_000, seed=1)
    for chunk in sim.chunks():
        ...  # chunk.gt is int8 (n_sites, n_samples, 2), -1 = missing
    sim.injected  # truth for de novo / spiked / signal sites, filled while streaming
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import msprime
import numpy as np

from genomics.genes import CONTIG_LENGTHS, GeneTable, contig_sort_key, default_gene_table
from participants import vocabularies as vocab

# Genetic ancestries a sample may have, and the most severe consequence
# terms (Sequence Ontology) this package emits: the release's vocabularies.
ANCESTRIES: tuple[str, ...] = vocab.ANCESTRIES.values
LOSS_OF_FUNCTION: tuple[str, ...] = vocab.LOSS_OF_FUNCTION
CONSEQUENCES: tuple[str, ...] = vocab.CONSEQUENCES
# Relative weights of consequences for a variant inside a gene (rare variant).
_GENIC_CSQ = ("intron_variant", "synonymous_variant", "missense_variant", *LOSS_OF_FUNCTION)
_GENIC_WEIGHTS = np.array([0.78, 0.08, 0.11, 0.012, 0.008, 0.004, 0.004, 0.002])
_SNV_ONLY = {"synonymous_variant", "missense_variant", "stop_gained", "start_lost"}

# Pseudo-autosomal regions of GRCh38 chrX (1-based, inclusive): diploid in everyone.
X_PAR = ((10_001, 2_781_479), (155_701_383, 156_030_895))

# Site kinds carried with each chunk.
KIND_SIMULATED = 0
KIND_SPIKE = 1
KIND_SIGNAL = 2

MUTATION_RATE = 1.29e-8  # per bp per generation
RECOMBINATION_RATE = 1.0e-8  # per bp per generation (~1 cM/Mb)
_BLOCK_LENGTH = 1_000_000  # bp simulated per msprime run
_BASES = np.array(list("ACGT"))
_TRANSITION = {"A": "G", "G": "A", "C": "T", "T": "C"}


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """One output sample (a participant's germline genome).

    ``mother_id``/``father_id`` name other samples; a parent that is named but
    not among the samples is simulated as a hidden founder of the same ancestry.
    ``de_novo`` asks for de novo variants in this child (needs both parents).
    ``sex``: a male carries one X outside the pseudo-autosomal regions, so his
    chrX calls there are homozygous (written diploid, 0/0 or 1/1, as callers
    run with ploidy 2 write them), inherited from his mother; a father passes
    his X to daughters only. ``female`` and ``unknown`` are diploid.
    """

    sample_id: str
    ancestry: str = "EUR"
    mother_id: str | None = None
    father_id: str | None = None
    de_novo: bool = False
    sex: str = "unknown"

    @property
    def is_child(self) -> bool:
        return self.mother_id is not None or self.father_id is not None


@dataclass(frozen=True, slots=True)
class SpikedVariant:
    """A variant placed inside ``gene`` with forced genotypes.

    ``genotypes`` maps sample id to alt allele count (1 het, 2 hom-alt); every
    other sample is hom-ref. Used for known pathogenic variants in probands.
    """

    gene: str
    genotypes: Mapping[str, int]
    consequence: str = "stop_gained"
    popaf: float | None = None


@dataclass(frozen=True, slots=True)
class CaseControlSignal:
    """A variant in ``gene`` whose alt allele frequency is raised in ``case_ids``.

    Each sample's alt count is drawn Binomial(2, case_af) for cases and
    Binomial(2, control_af) for everyone else (independently of relatives).
    """

    gene: str
    case_ids: frozenset[str]
    case_af: float
    control_af: float
    consequence: str = "missense_variant"
    popaf: float | None = None


@dataclass(frozen=True, slots=True)
class InjectedVariant:
    """Truth record for a site whose genotypes were forced or mutated."""

    kind: str  # "de_novo" | "spike" | "signal"
    chrom: str
    pos: int
    ref: str
    alt: str
    gene: str
    consequence: str
    sample_ids: tuple[str, ...]


@dataclass(slots=True)
class SiteChunk:
    """A block of consecutive sites with genotypes for every output sample.

    String columns are numpy object arrays; ``gene`` is ``""`` outside genes;
    ``popaf`` is NaN where absent. ``gt`` is int8 (n_sites, n_samples, 2) with
    -1 for a missing allele. ``ad`` (n_sites, n_samples, 2), ``dp`` and ``gq``
    (n_sites, n_samples) are int16 with -1 where missing, or None when the
    simulation was asked for GT only.
    """

    chrom: np.ndarray
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    gene: np.ndarray
    csq: np.ndarray
    popaf: np.ndarray
    kind: np.ndarray
    gt: np.ndarray
    ad: np.ndarray | None = None
    dp: np.ndarray | None = None
    gq: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.pos)


# --------------------------------------------------------------------------
# Demography


def out_of_africa_demography() -> msprime.Demography:
    """Gutenkunst et al. (2009) out-of-Africa model with three added groups.

    AFR, EUR and EAS follow the published three-population model (YRI, CEU,
    CHB). SAS is modelled as a population formed 600 generations ago from the
    EUR and EAS lineages; AMR as a recent (12 generations) three-way admixture;
    OTH as a very recent mixture of the others. Sizes are diploid, times in
    generations (25 years).
    """
    generation_time = 25
    n_a, n_b, n_af = 7300, 2100, 12300
    n_eu0, n_as0 = 1000, 510
    r_eu, r_as = 0.004, 0.0055
    t_af = 220e3 / generation_time
    t_b = 140e3 / generation_time
    t_eu_as = 21.2e3 / generation_time
    n_eu = n_eu0 / math.exp(-r_eu * t_eu_as)
    n_as = n_as0 / math.exp(-r_as * t_eu_as)

    dem = msprime.Demography()
    # AFR is the ancestral side of the out-of-Africa split but exists from the present on.
    dem.add_population(name="AFR", initial_size=n_af, description="African (YRI-like)", initially_active=True)
    dem.add_population(name="EUR", initial_size=n_eu, growth_rate=r_eu, description="European")
    dem.add_population(name="EAS", initial_size=n_as, growth_rate=r_as, description="East Asian")
    dem.add_population(name="SAS", initial_size=30_000, growth_rate=0.004, description="South Asian")
    dem.add_population(name="AMR", initial_size=20_000, description="Admixed American")
    dem.add_population(name="OTH", initial_size=10_000, description="Other / mixed")
    dem.add_population(name="OOA", initial_size=n_b, description="Out-of-Africa bottleneck")
    dem.set_symmetric_migration_rate(["AFR", "EUR"], 3e-5)
    dem.set_symmetric_migration_rate(["AFR", "EAS"], 1.9e-5)
    dem.set_symmetric_migration_rate(["EUR", "EAS"], 9.6e-5)
    dem.add_admixture(time=4, derived="OTH", ancestral=["AFR", "EUR", "EAS", "SAS"], proportions=[0.25] * 4)
    dem.add_admixture(time=12, derived="AMR", ancestral=["AFR", "EUR", "EAS"], proportions=[1 / 6, 1 / 3, 1 / 2])
    dem.add_admixture(time=600, derived="SAS", ancestral=["EUR", "EAS"], proportions=[0.6, 0.4])
    dem.add_population_split(time=t_eu_as, derived=["EUR", "EAS"], ancestral="OOA")
    dem.add_symmetric_migration_rate_change(time=t_eu_as, populations=["AFR", "OOA"], rate=25e-5)
    dem.add_population_split(time=t_b, derived=["OOA"], ancestral="AFR")
    dem.add_population_parameters_change(time=t_af, initial_size=n_a, population="AFR")
    dem.sort_events()
    return dem


# --------------------------------------------------------------------------
# Pedigree


def _haploid_in_males(chrom: np.ndarray | str, pos: np.ndarray | int) -> np.ndarray:
    """True where a male has one copy: chrX outside the pseudo-autosomal regions."""
    chrom, pos = np.asarray(chrom), np.asarray(pos)
    in_par = np.zeros(pos.shape, dtype=bool)
    for lo, hi in X_PAR:
        in_par |= (pos >= lo) & (pos <= hi)
    return (chrom == "chrX") & ~in_par


@dataclass(slots=True)
class _Pedigree:
    """Individuals = output samples followed by hidden founders."""

    n_output: int
    ancestry: list[str]
    mother: np.ndarray  # index or -1
    father: np.ndarray
    generations: list[np.ndarray]  # children grouped so parents come first
    founders: np.ndarray  # indices of founders (output and hidden)
    male: np.ndarray  # bool per individual: one X outside the PARs

    @property
    def n_total(self) -> int:
        return len(self.ancestry)


def _build_pedigree(samples: Sequence[SampleSpec]) -> _Pedigree:
    ids = [s.sample_id for s in samples]
    if len(set(ids)) != len(ids):
        raise ValueError("sample ids must be unique")
    index = {sid: i for i, sid in enumerate(ids)}
    ancestry = [s.ancestry for s in samples]
    male = [s.sex == "male" for s in samples]
    for s in samples:
        if s.sex not in vocab.SEXES.values:
            raise ValueError(f"sample {s.sample_id!r}: unknown sex {s.sex!r}; expected female, male or unknown")
    for a in ancestry:
        if a not in ANCESTRIES:
            raise ValueError(f"unknown ancestry {a!r}; expected one of {', '.join(ANCESTRIES)}")
    mother = np.full(len(samples), -1, dtype=np.int64)
    father = np.full(len(samples), -1, dtype=np.int64)
    hidden: dict[str, int] = {}

    def parent_index(pid: str | None, child: SampleSpec, is_father: bool) -> int:
        if pid is None:
            # A single named parent: the other is a hidden founder.
            key = f"__hidden_parent_of_{child.sample_id}"
        elif pid in index:
            return index[pid]
        else:
            key = pid
        if key not in hidden:
            hidden[key] = len(ancestry)
            ancestry.append(child.ancestry)
            male.append(is_father)
        return hidden[key]

    mothers: list[int] = [int(x) for x in mother]
    fathers: list[int] = [int(x) for x in father]
    for i, s in enumerate(samples):
        if s.is_child:
            mothers[i] = parent_index(s.mother_id, s, is_father=False)
            fathers[i] = parent_index(s.father_id, s, is_father=True)
    n_total = len(ancestry)
    mother = np.array(mothers + [-1] * (n_total - len(samples)), dtype=np.int64)
    father = np.array(fathers + [-1] * (n_total - len(samples)), dtype=np.int64)

    depth = np.full(n_total, -1)

    def get_depth(i: int, trail: tuple[int, ...] = ()) -> int:
        if depth[i] >= 0:
            return int(depth[i])
        if i in trail:
            raise ValueError(f"pedigree has a cycle through sample {ids[i]!r}")
        if mother[i] < 0:
            depth[i] = 0
        else:
            depth[i] = 1 + max(get_depth(int(mother[i]), trail + (i,)), get_depth(int(father[i]), trail + (i,)))
        return int(depth[i])

    for i in range(n_total):
        get_depth(i)
    generations = [np.flatnonzero(depth == d) for d in range(1, int(depth.max()) + 1)]
    return _Pedigree(
        n_output=len(samples),
        ancestry=ancestry,
        mother=mother,
        father=father,
        generations=generations,
        founders=np.flatnonzero(depth == 0),
        male=np.array(male, dtype=bool),
    )


# --------------------------------------------------------------------------
# Founder haplotypes from msprime


def _founder_haplotype_blocks(
    founder_ancestry: Sequence[str], seed_seq: np.random.SeedSequence
) -> Iterator[np.ndarray]:
    """Yield blocks of founder haplotypes: int8 (n_sites, 2 * n_founders).

    Independent segments (1 Mb, shorter for very large cohorts) are simulated
    one after the other, each its own msprime run, so memory is bounded by one
    segment's tree sequence and genotype block.
    Monomorphic sites (after back-mutation) are dropped.
    """
    demography = out_of_africa_demography()
    counts = dict.fromkeys(ANCESTRIES, 0)
    for a in founder_ancestry:
        counts[a] += 1
    present = [a for a in ANCESTRIES if counts[a] > 0]
    # Individuals in the tree sequence come in SampleSet order; map founders to them.
    first = {}
    offset = 0
    for a in present:
        first[a] = offset
        offset += counts[a]
    seen = dict.fromkeys(ANCESTRIES, 0)
    order = np.empty(len(founder_ancestry), dtype=np.int64)
    for j, a in enumerate(founder_ancestry):
        order[j] = first[a] + seen[a]
        seen[a] += 1
    node_cols = np.stack([2 * order, 2 * order + 1], axis=1).ravel()
    sample_sets = [msprime.SampleSet(counts[a], population=a, ploidy=2) for a in present]

    # About 7 sites per kb: keep a block near 2 x 10^8 haplotype-sites at most.
    n_hap = 2 * len(founder_ancestry)
    block_length = int(np.clip(2e10 / max(n_hap, 1), 100_000, _BLOCK_LENGTH))
    while True:
        ancestry_seed, mutation_seed = (int(s.generate_state(1)[0]) % (2**31 - 1) + 1 for s in seed_seq.spawn(2))
        ts = msprime.sim_ancestry(
            samples=sample_sets,
            demography=demography,
            sequence_length=block_length,
            recombination_rate=RECOMBINATION_RATE,
            random_seed=ancestry_seed,
        )
        ts = msprime.sim_mutations(
            ts, rate=MUTATION_RATE, model=msprime.BinaryMutationModel(), random_seed=mutation_seed
        )
        out = np.empty((ts.num_sites, n_hap), dtype=np.int8)
        k = 0
        for var in ts.variants():
            g = var.genotypes
            ac = int(g.sum())
            if 0 < ac < n_hap:
                out[k] = g[node_cols]
                k += 1
        del ts
        yield out[:k]


def _founder_site_stream(
    founder_ancestry: Sequence[str], seed_seq: np.random.SeedSequence, chunk: int
) -> Iterator[np.ndarray]:
    """Regroup segment blocks into blocks of exactly ``chunk`` sites."""
    pending: list[np.ndarray] = []
    have = 0
    for block in _founder_haplotype_blocks(founder_ancestry, seed_seq):
        pending.append(block)
        have += len(block)
        while have >= chunk:
            joined = np.concatenate(pending)
            yield joined[:chunk]
            rest = joined[chunk:]
            pending = [rest]
            have = len(rest)


# --------------------------------------------------------------------------
# Site layout


@dataclass(slots=True)
class _Layout:
    chrom: np.ndarray  # object
    pos: np.ndarray  # int64
    gene: np.ndarray  # object, "" outside genes
    reserved: np.ndarray  # int64: -1 simulated, else index into the reserved list


def _plan_layout(
    n_variants: int,
    genes: GeneTable,
    reserved_genes: Sequence[str],
    rng: np.random.Generator,
    genic_fraction: float = 0.55,
    flank: int = 500_000,
) -> _Layout:
    """Choose sorted unique positions: about half inside genes, the rest between."""
    if n_variants < len(reserved_genes):
        raise ValueError("n_variants is smaller than the number of forced variants")
    contigs = genes.contigs
    taken: set[tuple[str, int]] = set()
    picks: list[tuple[str, int, int]] = []  # chrom, pos, reserved index

    for r, symbol in enumerate(reserved_genes):
        g = genes.get(symbol)
        while True:
            p = int(rng.integers(g.start, g.end + 1))
            if (g.chrom, p) not in taken:
                taken.add((g.chrom, p))
                picks.append((g.chrom, p, r))
                break

    n_free = n_variants - len(reserved_genes)
    n_genic = int(round(n_free * genic_fraction))
    n_inter = n_free - n_genic

    # Genic: genes chosen with weight sqrt(length) so huge genes do not dominate.
    weights = np.sqrt(np.array([g.length for g in genes], dtype=float))
    weights /= weights.sum()
    spans = []
    for c in contigs:
        on = genes.on_contig(c)
        lo = max(1, on[0].start - flank)
        hi = min(CONTIG_LENGTHS.get(c, on[-1].end + flank), on[-1].end + flank)
        spans.append((c, lo, hi, on))
    span_len = np.array([hi - lo + 1 for _, lo, hi, _ in spans], dtype=float)

    def draw_genic(k: int) -> list[tuple[str, int]]:
        which = rng.choice(len(genes), size=k, p=weights)
        out = []
        for gi in which:
            g = genes[int(gi)]
            out.append((g.chrom, int(rng.integers(g.start, g.end + 1))))
        return out

    def draw_inter(k: int) -> list[tuple[str, int]]:
        which = rng.choice(len(spans), size=k, p=span_len / span_len.sum())
        out = []
        for si in which:
            c, lo, hi, on = spans[int(si)]
            p = int(rng.integers(lo, hi + 1))
            if not any(g.start <= p <= g.end for g in on):
                out.append((c, p))
        return out

    for need, draw in ((n_genic, draw_genic), (n_inter, draw_inter)):
        got = 0
        while got < need:
            for cp in draw(need - got):
                if cp not in taken and got < need:
                    taken.add(cp)
                    picks.append((cp[0], cp[1], -1))
                    got += 1

    picks.sort(key=lambda t: (contig_sort_key(t[0]), t[1]))
    chrom = np.array([p[0] for p in picks], dtype=object)
    pos = np.array([p[1] for p in picks], dtype=np.int64)
    reserved = np.array([p[2] for p in picks], dtype=np.int64)
    gene = np.full(len(picks), "", dtype=object)
    for c in contigs:
        on = genes.on_contig(c)
        sel = np.flatnonzero(chrom == c)
        starts = np.array([g.start for g in on])
        ends = np.array([g.end for g in on])
        k = np.searchsorted(starts, pos[sel], side="right") - 1
        ok = (k >= 0) & (pos[sel] <= ends[np.maximum(k, 0)])
        names = np.array([g.symbol for g in on], dtype=object)
        gene[sel[ok]] = names[k[ok]]
    return _Layout(chrom=chrom, pos=pos, gene=gene, reserved=reserved)


# --------------------------------------------------------------------------
# Annotation helpers


def _draw_consequences(gene: np.ndarray, af: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Most severe consequence per site; loss-of-function is rarer when common."""
    n = len(gene)
    csq = np.full(n, "intergenic_variant", dtype=object)
    genic = gene != ""
    if not genic.any():
        return csq
    w_rare = _GENIC_WEIGHTS
    w_low = _GENIC_WEIGHTS * np.array([1, 1, 0.8, 0.3, 0.3, 0.3, 0.3, 0.3])
    w_common = _GENIC_WEIGHTS * np.array([1, 1, 0.5, 0.05, 0.05, 0.05, 0.05, 0.05])
    cls = np.where(af > 0.01, 2, np.where(af > 0.001, 1, 0))
    u = rng.random(n)
    labels = np.array(_GENIC_CSQ, dtype=object)
    for c, w in enumerate((w_rare, w_low, w_common)):
        sel = genic & (cls == c)
        cum = np.cumsum(w / w.sum())
        csq[sel] = labels[np.minimum(np.searchsorted(cum, u[sel], side="right"), len(labels) - 1)]
    return csq


def _draw_alleles(csq: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """REF/ALT per site: SNVs (transitions twice as likely) and short indels.

    Frameshifts are always 1-2 bp indels; coding SNV classes are always SNVs;
    other sites are indels 5% of the time.
    """
    n = len(csq)
    ref = _BASES[rng.integers(0, 4, n)].astype(object)
    alt = np.empty(n, dtype=object)
    u = rng.random(n)
    other = rng.integers(0, 4, n)
    indel_len = rng.integers(1, 3, n)
    indel_kind = rng.random(n) < 0.5  # True = insertion
    extra = rng.integers(0, 4, (n, 4))
    for i in range(n):
        c = csq[i]
        is_indel = c == "frameshift_variant" or (c not in _SNV_ONLY and u[i] < 0.05)
        if is_indel:
            bases = "".join(_BASES[extra[i, : indel_len[i]]])
            if indel_kind[i]:
                alt[i] = ref[i] + bases
            else:
                alt[i] = ref[i]
                ref[i] = ref[i] + bases
        elif u[i] < 0.67:
            alt[i] = _TRANSITION[ref[i]]
        else:
            choices = [b for b in "ACGT" if b != ref[i] and b != _TRANSITION[ref[i]]]
            alt[i] = choices[other[i] % 2]
    return ref, alt


def _draw_popaf(founder_af: np.ndarray, founder_ac: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Population AF: the founders' AF with logit-normal noise, absent for half of ultra-rare sites."""
    af = np.clip(founder_af, 1e-5, 1 - 1e-5)
    logit = np.log(af / (1 - af)) + rng.normal(0.0, 0.3, len(af))
    popaf = np.clip(1 / (1 + np.exp(-logit)), 1e-5, 0.9999)
    popaf = np.array([float(f"{x:.3g}") for x in popaf], dtype=np.float32)
    absent = (founder_ac <= 2) & (rng.random(len(popaf)) < 0.5)
    popaf[absent] = np.nan
    return popaf


def _draw_format_fields(
    gt: np.ndarray, mean_depth: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AD, DP, GQ consistent with GT.

    DP ~ Poisson(mean_depth) (at least 2). Hom-ref and hom-alt calls carry a few
    error reads (0.5%); het calls split reads Binomial(DP, 0.5), at least one of
    each allele. GQ is 3 x DP capped at 99, reduced for unbalanced het calls.
    Only het calls need their own binomial draw, which keeps this cheap for
    large cohorts where most calls are hom-ref.
    """
    missing = gt[..., 0] < 0
    n_alt = np.where(missing, 0, (gt > 0).sum(axis=-1))
    dp = np.maximum(rng.poisson(mean_depth, size=n_alt.shape), 2).astype(np.int16)
    err = rng.poisson(dp * 0.005).astype(np.int16)
    err = np.minimum(err, dp - 1)
    alt_reads = np.where(n_alt == 2, dp - err, err).astype(np.int16)
    het = n_alt == 1
    het_dp = dp[het]
    alt_reads[het] = np.clip(rng.binomial(het_dp, 0.5), 1, het_dp - 1)
    ad = np.stack([dp - alt_reads, alt_reads], axis=-1).astype(np.int16)
    gq = np.minimum(3 * dp, 99).astype(np.int16)
    minor = np.minimum(ad[..., 0][het], ad[..., 1][het])
    gq[het] = np.minimum(99, np.round(6.0 * minor)).astype(np.int16)
    dp[missing] = -1
    gq[missing] = -1
    ad[missing] = -1
    return ad, dp, gq


# --------------------------------------------------------------------------
# The simulation


@dataclass
class Simulation:
    """A configured simulation; call :meth:`chunks` to stream the sites."""

    samples: Sequence[SampleSpec]
    n_variants: int
    genes: GeneTable
    seed: int
    chunk_size: int = 1000
    de_novo_per_child: int = 1
    spikes: Sequence[SpikedVariant] = ()
    signals: Sequence[CaseControlSignal] = ()
    missing_rate: float = 0.002
    mean_depth: float = 30.0
    format_fields: bool = True
    injected: list[InjectedVariant] = field(default_factory=list, init=False)
    _dn_rows: list[tuple[int, int]] = field(default_factory=list, init=False, repr=False)

    @property
    def sample_ids(self) -> list[str]:
        return [s.sample_id for s in self.samples]

    @property
    def contigs(self) -> list[str]:
        return self.genes.contigs

    def chunks(self) -> Iterator[SiteChunk]:
        """Stream the sites in genome order, ``chunk_size`` at a time.

        ``self.injected`` is reset and filled as the stream is consumed.
        """
        self.injected = []
        self._dn_rows = []
        root = np.random.SeedSequence(self.seed)
        (ss_layout, ss_founders, ss_alleles, ss_transmit, ss_denovo, ss_forced, ss_missing, ss_format) = root.spawn(8)
        rng_alleles = np.random.default_rng(ss_alleles)
        rng_transmit = np.random.default_rng(ss_transmit)
        rng_denovo = np.random.default_rng(ss_denovo)
        rng_forced = np.random.default_rng(ss_forced)
        rng_missing = np.random.default_rng(ss_missing)
        rng_format = np.random.default_rng(ss_format)

        ped = _build_pedigree(self.samples)
        ids = self.sample_ids
        id_index = {sid: i for i, sid in enumerate(ids)}
        forced: list[SpikedVariant | CaseControlSignal] = [*self.spikes, *self.signals]
        for f in forced:
            if f.gene not in self.genes:
                raise ValueError(f"forced variant in unknown gene {f.gene!r}")
            names = f.genotypes if isinstance(f, SpikedVariant) else f.case_ids
            unknown = [s for s in names if s not in id_index]
            if unknown:
                raise ValueError(f"forced variant names unknown samples: {', '.join(sorted(unknown))}")
        layout = _plan_layout(self.n_variants, self.genes, [f.gene for f in forced], np.random.default_rng(ss_layout))
        n_sites = len(layout.pos)
        simulated_sites = np.flatnonzero(layout.reserved < 0)

        # De novo targets: per child, site ranks among the simulated sites (genic preferred).
        de_novo_children = [id_index[s.sample_id] for s in self.samples if s.de_novo and s.mother_id and s.father_id]
        genic_sim = simulated_sites[layout.gene[simulated_sites] != ""]
        pool = genic_sim if len(genic_sim) else simulated_sites
        pending_dn: list[tuple[int, int]] = []  # (site index, child index)
        for child in de_novo_children:
            for site in rng_denovo.choice(pool, size=min(self.de_novo_per_child, len(pool)), replace=False):
                pending_dn.append((int(site), child))
        pending_dn.sort()

        founder_stream = _founder_site_stream([ped.ancestry[i] for i in ped.founders], ss_founders, self.chunk_size)
        founder_buffer = np.empty((0, 2 * len(ped.founders)), dtype=np.int8)
        children = np.flatnonzero(ped.mother >= 0)
        child_pos = {int(c): k for k, c in enumerate(children)}
        transmit_state = rng_transmit.integers(0, 2, size=(len(children), 2))
        prev_chrom, prev_pos = None, 0

        for start in range(0, n_sites, self.chunk_size):
            stop = min(n_sites, start + self.chunk_size)
            m = stop - start
            sl = slice(start, stop)
            res = layout.reserved[sl]
            n_sim = int((res < 0).sum())
            while len(founder_buffer) < n_sim:
                founder_buffer = np.concatenate([founder_buffer, next(founder_stream)])
            fhap = founder_buffer[:n_sim]
            founder_buffer = founder_buffer[n_sim:]

            full = np.zeros((m, ped.n_total, 2), dtype=np.int8)
            sim_rows = np.flatnonzero(res < 0)
            full[sim_rows[:, None], ped.founders[None, :], :] = fhap.reshape(n_sim, -1, 2)

            # Crossover probability between consecutive sites.
            chrom = layout.chrom[sl]
            pos = layout.pos[sl]
            x_rows = np.flatnonzero(_haploid_in_males(chrom, pos))
            male_founders = ped.founders[ped.male[ped.founders]]
            if len(x_rows) and len(male_founders):  # a male founder has one X: his first haplotype
                full[x_rows[:, None], male_founders[None, :], 1] = full[x_rows[:, None], male_founders[None, :], 0]
            prev_c = np.concatenate([[prev_chrom], chrom[:-1]])
            prev_p = np.concatenate([[prev_pos], pos[:-1]])
            p_switch = np.where(prev_c == chrom, np.minimum(0.5, RECOMBINATION_RATE * (pos - prev_p)), 0.5)
            prev_chrom, prev_pos = chrom[-1], pos[-1]
            if len(children):
                flips = rng_transmit.random((m, len(children), 2)) < p_switch[:, None, None]
                hap = (np.cumsum(flips, axis=0) + transmit_state[None]) % 2
                transmit_state = hap[-1]
                rows = np.arange(m)[:, None]
                dn_here = [(s - start, c) for s, c in pending_dn if start <= s < stop]
                for gen in ped.generations:
                    k = np.array([child_pos[int(c)] for c in gen])
                    full[:, gen, 0] = full[rows, ped.mother[gen][None, :], hap[:, k, 0]]
                    full[:, gen, 1] = full[rows, ped.father[gen][None, :], hap[:, k, 1]]
                    sons = gen[ped.male[gen]]
                    if len(x_rows) and len(sons):  # a son's only X is his mother's
                        full[x_rows[:, None], sons[None, :], 1] = full[x_rows[:, None], sons[None, :], 0]
                    gen_set = {int(c) for c in gen}
                    for row, c in dn_here:
                        if c in gen_set:
                            self._place_de_novo(full, row, c, ped, layout, start, res, pending_dn)

            gt = full[:, : ped.n_output, :]
            founder_ac = fhap.sum(axis=1, dtype=np.int64)
            founder_af_sim = founder_ac / fhap.shape[1] if n_sim else np.zeros(0)

            # Forced sites.
            csq = np.empty(m, dtype=object)
            popaf = np.full(m, np.nan, dtype=np.float32)
            kind = np.full(m, KIND_SIMULATED, dtype=np.int8)
            forced_rows = np.flatnonzero(res >= 0)
            for row in forced_rows.tolist():
                f = forced[int(res[row])]
                gt[row] = 0
                if isinstance(f, SpikedVariant):
                    for sid, n_alt in f.genotypes.items():
                        gt[row, id_index[sid], :n_alt] = 1
                    kind[row] = KIND_SPIKE
                else:
                    is_case = np.zeros(ped.n_output, dtype=bool)
                    is_case[[id_index[s] for s in f.case_ids]] = True
                    af = np.where(is_case, f.case_af, f.control_af)
                    draws = rng_forced.random((ped.n_output, 2)) < af[:, None]
                    gt[row] = draws.astype(np.int8)
                    kind[row] = KIND_SIGNAL
                csq[row] = f.consequence
                if f.popaf is not None:
                    popaf[row] = f.popaf
                elif isinstance(f, CaseControlSignal):
                    popaf[row] = f.control_af

            # Missing calls, never on forced sites or de novo trios.
            miss = rng_missing.random((m, ped.n_output)) < self.missing_rate
            miss[forced_rows] = False
            for row, c in self._de_novo_rows_in_chunk(start, stop):
                trio = [i for i in (c, int(ped.mother[c]), int(ped.father[c])) if i < ped.n_output]
                miss[row, trio] = False
            gt[miss] = -1

            # Annotation.
            sim_af = np.zeros(m)
            sim_af[sim_rows] = founder_af_sim
            gene = layout.gene[sl]
            drawn = _draw_consequences(gene[sim_rows], sim_af[sim_rows], rng_alleles)
            csq[sim_rows] = drawn
            ref, alt = _draw_alleles(csq, rng_alleles)
            popaf[sim_rows] = _draw_popaf(founder_af_sim, founder_ac, rng_alleles)

            chunk = SiteChunk(
                chrom=chrom.copy(),
                pos=pos.copy(),
                ref=ref,
                alt=alt,
                gene=gene.copy(),
                csq=csq,
                popaf=popaf,
                kind=kind,
                gt=np.sort(gt, axis=-1),  # unphased: write 0/1, never 1/0
            )
            if self.format_fields:
                chunk.ad, chunk.dp, chunk.gq = _draw_format_fields(chunk.gt, self.mean_depth, rng_format)
            self._record_truth(chunk, start, res, forced, ids)
            yield chunk

    # Bookkeeping for injected variants --------------------------------------

    def _place_de_novo(
        self,
        full: np.ndarray,
        row: int,
        child: int,
        ped: _Pedigree,
        layout: _Layout,
        start: int,
        res: np.ndarray,
        pending: list[tuple[int, int]],
    ) -> None:
        """Make ``child`` het at the first simulated site from ``row`` on where the trio is hom-ref.

        If the site is not usable the target moves to the next site (possibly
        into the next chunk).
        """
        site = start + row
        pending.remove((site, child))
        m = full.shape[0]
        r = row
        while r < m:
            trio = full[r, [child, ped.mother[child], ped.father[child]]]
            if res[r] < 0 and not trio.any():
                full[r, child, 1] = 1
                if ped.male[child] and _haploid_in_males(layout.chrom[start + r], layout.pos[start + r]):
                    full[r, child, 0] = 1
                self._dn_rows.append((start + r, child))
                return
            r += 1
        pending.append((start + m, child))
        pending.sort()

    def _de_novo_rows_in_chunk(self, start: int, stop: int) -> list[tuple[int, int]]:
        return [(s - start, c) for s, c in self._dn_rows if start <= s < stop]

    def _record_truth(
        self,
        chunk: SiteChunk,
        start: int,
        res: np.ndarray,
        forced: Sequence[SpikedVariant | CaseControlSignal],
        ids: Sequence[str],
    ) -> None:
        for row, c in self._de_novo_rows_in_chunk(start, start + len(chunk)):
            self.injected.append(self._truth(chunk, row, "de_novo", (ids[c],)))
        for row in np.flatnonzero(res >= 0).tolist():
            f = forced[int(res[row])]
            if isinstance(f, SpikedVariant):
                self.injected.append(self._truth(chunk, row, "spike", tuple(f.genotypes)))
            else:
                self.injected.append(self._truth(chunk, row, "signal", tuple(sorted(f.case_ids))))

    @staticmethod
    def _truth(chunk: SiteChunk, row: int, kind: str, sample_ids: tuple[str, ...]) -> InjectedVariant:
        return InjectedVariant(
            kind=kind,
            chrom=str(chunk.chrom[row]),
            pos=int(chunk.pos[row]),
            ref=str(chunk.ref[row]),
            alt=str(chunk.alt[row]),
            gene=str(chunk.gene[row]),
            consequence=str(chunk.csq[row]),
            sample_ids=sample_ids,
        )


def simulate_genotypes(
    samples: Sequence[SampleSpec],
    n_variants: int,
    *,
    genes: GeneTable | None = None,
    seed: int = 0,
    chunk_size: int = 1000,
    de_novo_per_child: int = 1,
    spikes: Sequence[SpikedVariant] = (),
    signals: Sequence[CaseControlSignal] = (),
    missing_rate: float = 0.002,
    mean_depth: float = 30.0,
    format_fields: bool = True,
) -> Simulation:
    """Configure a simulation of ``n_variants`` sites for ``samples``.

    Nothing is computed until :meth:`Simulation.chunks` is iterated. ``genes``
    defaults to :func:`default_gene_table`; its contigs are the ones simulated.
    """
    if n_variants <= 0:
        raise ValueError("n_variants must be positive")
    if not samples:
        raise ValueError("at least one sample is needed")
    return Simulation(
        samples=list(samples),
        n_variants=n_variants,
        genes=genes if genes is not None else default_gene_table(),
        seed=seed,
        chunk_size=chunk_size,
        de_novo_per_child=de_novo_per_child,
        spikes=list(spikes),
        signals=list(signals),
        missing_rate=missing_rate,
        mean_depth=mean_depth,
        format_fields=format_fields,
    )


def trio_cohort(
    n_founders: int,
    n_trios: int,
    *,
    seed: int = 0,
    ancestry_weights: Mapping[str, float] | None = None,
    de_novo_fraction: float = 1.0,
    prefix: str = "P",
) -> list[SampleSpec]:
    """Sample specs for ``n_founders`` unrelated people plus ``n_trios`` trios.

    Trio parents share an ancestry; ids are ``{prefix}000001`` and so on.
    Default ancestry mix is roughly that of a UK cohort. Mothers are female,
    fathers male; everyone else's sex is drawn half and half (from a stream of
    its own, so the other draws do not depend on it).
    """
    weights = dict(ancestry_weights or {"EUR": 0.80, "SAS": 0.07, "AFR": 0.05, "EAS": 0.03, "AMR": 0.02, "OTH": 0.03})
    names = list(weights)
    p = np.array([weights[a] for a in names], dtype=float)
    rng = np.random.default_rng(seed)
    sex_rng = np.random.default_rng([seed, 1])

    def sex() -> str:
        return "male" if sex_rng.random() < 0.5 else "female"

    counter = iter(range(1, 10**9))
    specs: list[SampleSpec] = []
    for a in rng.choice(names, size=n_founders, p=p / p.sum()):
        specs.append(SampleSpec(f"{prefix}{next(counter):06d}", str(a), sex=sex()))
    for a in rng.choice(names, size=n_trios, p=p / p.sum()):
        mother = SampleSpec(f"{prefix}{next(counter):06d}", str(a), sex="female")
        father = SampleSpec(f"{prefix}{next(counter):06d}", str(a), sex="male")
        child = SampleSpec(
            f"{prefix}{next(counter):06d}",
            str(a),
            mother_id=mother.sample_id,
            father_id=father.sample_id,
            de_novo=bool(rng.random() < de_novo_fraction),
            sex=sex(),
        )
        specs.extend([mother, father, child])
    return specs
