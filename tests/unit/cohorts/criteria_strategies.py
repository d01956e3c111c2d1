"""Hypothesis strategies for criteria JSON as a person or a client may write
it: every criterion type, optional fields left out or given as empty lists."""

from __future__ import annotations

from hypothesis import strategies as st

from cohorts import criteria as crit
from participants import vocabularies as vocab


def _subset(values):
    return st.lists(st.sampled_from(list(values)), min_size=1, max_size=len(values), unique=True)


def _optional(key, strategy):
    """Absent, an empty list, or a value (all three read the same when empty)."""
    return st.one_of(st.just({}), st.just({key: []}), strategy.map(lambda v: {key: v}))


def _merge(*parts):
    merged = {}
    for part in parts:
        merged.update(part)
    return merged


_text = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghij-", min_size=1, max_size=20).filter(str.strip)
_hpo = st.integers(min_value=1, max_value=9_999_999).map(lambda n: f"HP:{n:07d}")


def _values_of(name):
    return _subset(crit.TYPES[name].allowed).map(lambda v: {"type": name, "values": v})


def _disease():
    field = st.one_of(st.just({}), st.sampled_from(list(crit.DISEASE_FIELDS)).map(lambda f: {"field": f}))
    values = st.lists(_text, min_size=1, max_size=3).map(lambda v: {"values": v})
    return st.tuples(field, values).map(lambda p: _merge({"type": "disease"}, *p))


def _hpo_criterion():
    flags = st.fixed_dictionaries({}, optional={"observed": st.booleans(), "include_descendants": st.booleans()})
    return st.tuples(_hpo, flags).map(lambda p: {"type": "hpo", "term": p[0], **p[1]})


def _tumour():
    parts = st.tuples(
        _optional("disease_types", st.lists(st.sampled_from(vocab.TUMOUR_TYPES.values), min_size=1, max_size=3)),
        _optional("stages", _subset(vocab.STAGES.criterion_values)),
        _optional("sample_types", _subset(vocab.SAMPLE_TYPES.values)),
    )
    return parts.map(lambda p: _merge({"type": "tumour"}, *p)).filter(lambda c: any(c[k] for k in c if k != "type"))


def _region():
    return st.tuples(st.sampled_from(["chr1", "2", "chrX", "chr17"]), st.integers(1, 10**6), st.integers(0, 10**5)).map(
        lambda p: f"{p[0]}:{p[1]}-{p[1] + p[2]}"
    )


def _genotype():
    where = st.one_of(
        st.from_regex(r"[A-Z][A-Z0-9]{1,8}", fullmatch=True).map(lambda g: {"gene": g}),
        _region().map(lambda r: {"region": r}),
    )
    af = st.floats(min_value=0, max_value=1, allow_nan=False)
    extra = st.fixed_dictionaries(
        {},
        optional={"max_population_af": af, "max_cohort_af": af, "genotype": st.sampled_from(list(crit.GENOTYPES))},
    )
    classes = _optional("consequence_classes", _subset(vocab.CONSEQUENCE_CLASSES))
    return st.tuples(where, classes, extra).map(lambda p: _merge({"type": "genotype"}, *p))


STRATEGIES = {
    **{name: _values_of(name) for name, kind in crit.TYPES.items() if isinstance(kind, crit.ValuesOf)},
    "age_band": _values_of("age_band"),
    "recruiting_centre": st.lists(_text, min_size=1, max_size=3).map(
        lambda v: {"type": "recruiting_centre", "values": v}
    ),
    "disease": _disease(),
    "hpo": _hpo_criterion(),
    "tumour": _tumour(),
    "genotype": _genotype(),
}
criterion = st.one_of(*STRATEGIES.values())
criteria_json = st.fixed_dictionaries(
    {},
    optional={
        "version": st.just(crit.VERSION),
        "include_all": st.lists(criterion, max_size=4),
        "include_any": st.lists(criterion, max_size=3),
        "exclude": st.lists(criterion, max_size=3),
    },
)
