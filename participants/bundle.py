"""The release bundle, format version 1: what a data provider delivers and
what ingest validates (documented in docs/reference/release-bundle.md).

Plain Python, no Django: reading and checking a bundle needs no database.
Every problem is reported with file, line and column; nothing stops at the
first one.

A provider delivers withdrawn participants' data too (their clinical rows,
somatic files and germline columns: the joint-called germline VCF is not
re-made per withdrawal). Every row is checked, then those of participants
marked ``withdrawn`` in participants.tsv are left out of ``Bundle.rows``,
counted per file in ``Bundle.left_out``; their somatic files are not copied
(``copy_somatic_to`` of :func:`read_bundle`); their germline columns stay in the genotype
store, masked (no read of the portal sees them). Data for someone not in
participants.tsv at all stays an error.

The germline VCF is read once: the pass that checks it can write the
genotype store at the same time (``germline_store`` of :func:`read_bundle`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from genomics.validate import Problem, validate_germline_vcf, validate_somatic_vcf
from genomics.vcfzarr import DEFAULT_THREADS, VcfConversionError, read_header
from participants import vocabularies as vocab

FORMAT_VERSION = 1
GENOME_BUILDS = {"GRCh38"}

RELEASE_JSON = "release.json"
PARTICIPANTS = "participants.tsv"
PHENOTYPES = "phenotypes.tsv"
DISEASES = "diseases.tsv"
TUMOURS = "tumours.tsv"
GENES = "genes.tsv"
GERMLINE = "germline.vcf.gz"
SOMATIC_DIR = "somatic"

STRANDS = ("+", "-")

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_HPO = re.compile(r"^HP:\d{7}$")
_DISEASE_TYPE = re.compile(r"^[A-Z][A-Z0-9_]{1,39}$")


class Invalid(ValueError):
    """A cell that does not fit its column; the message says what was expected."""


# --- cell parsers -------------------------------------------------------------------


def _identifier(value: str) -> str:
    if not ID_PATTERN.match(value):
        raise Invalid(f"{value!r} is not an identifier (1-40 letters, digits, '.', '_' or '-')")
    return value


def _optional_identifier(value: str) -> str:
    return _identifier(value) if value else ""


def _text(value: str) -> str:
    if not value.strip():
        raise Invalid("is empty")
    if len(value) > 200:
        raise Invalid("is longer than 200 characters")
    return value.strip()


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            shown = ", ".join(c if c else "(empty)" for c in choices)
            raise Invalid(f"{value!r} is not one of {shown}")
        return value

    return parse


def parse_month(value: str) -> str:
    """A month written YYYY-MM (the only form of date a release holds)."""
    match = _MONTH.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 1900 <= int(match.group(1)) <= 2100:
        raise Invalid(f"{value!r} is not a month written YYYY-MM")
    return value


def _optional_month(value: str) -> str:
    return parse_month(value) if value else ""


def _year_of_birth(value: str) -> int:
    this_year = datetime.now(UTC).year
    if not value.isdigit() or not 1900 <= int(value) <= this_year:
        raise Invalid(f"{value!r} is not a year of birth between 1900 and {this_year}")
    return int(value)


def _hpo_id(value: str) -> str:
    if not _HPO.match(value):
        raise Invalid(f"{value!r} is not an HPO id (HP: and seven digits)")
    return value


def _yes_no(value: str) -> bool:
    if value not in ("yes", "no"):
        raise Invalid(f"{value!r} is not yes or no")
    return value == "yes"


def _disease_type(value: str) -> str:
    if not _DISEASE_TYPE.match(value):
        raise Invalid(f"{value!r} is not a disease type in capitals, e.g. BREAST")
    return value


def _position(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise Invalid(f"{value!r} is not a positive position")
    return int(value)


def _chrom(value: str) -> str:
    if not re.match(r"^(chr)?([1-9]|1\d|2[0-2]|X|Y|M|MT)$", value):
        raise Invalid(f"{value!r} is not a chromosome name such as chr17")
    return value


@dataclass(frozen=True)
class Table:
    """One TSV file of the bundle: its required columns and how each is read."""

    name: str
    columns: dict[str, Callable[[str], Any]]
    optional: bool = False


TABLES: dict[str, Table] = {
    PARTICIPANTS: Table(
        PARTICIPANTS,
        {
            "participant_id": _identifier,
            "programme": _one_of(*vocab.RECRUITMENT_PROGRAMMES.values),
            "sex": _one_of(*vocab.SEXES.values),
            "year_of_birth": _year_of_birth,
            "genetic_ancestry": _one_of(*vocab.ANCESTRIES.values),
            "recruiting_centre": _text,
            "consent_status": _one_of(*vocab.CONSENT.values),
            "consent_month": parse_month,
            "vital_status": _one_of(*vocab.VITAL_STATUSES.values),
            "death_month": _optional_month,
            "family_id": _optional_identifier,
            "relationship_to_proband": _one_of(*vocab.FAMILY_ROLES.values),
            "affection_status": _one_of(*vocab.AFFECTION.values),
        },
    ),
    PHENOTYPES: Table(PHENOTYPES, {"participant_id": _identifier, "hpo_id": _hpo_id, "observed": _yes_no}),
    DISEASES: Table(
        DISEASES,
        {
            "participant_id": _identifier,
            "disease_group": _text,
            "disease_subgroup": _text,
            "specific_disease": _text,
        },
    ),
    TUMOURS: Table(
        TUMOURS,
        {
            "participant_id": _identifier,
            "tumour_sample_id": _identifier,
            "disease_type": _disease_type,
            "stage": _one_of(*vocab.STAGES.values),
            "sample_type": _one_of(*vocab.SAMPLE_TYPES.values),
            "diagnosis_month": parse_month,
        },
    ),
    GENES: Table(
        GENES,
        {
            "symbol": _identifier,
            "chrom": _chrom,
            "start": _position,
            "end": _position,
            "strand": _one_of(*STRANDS),
        },
    ),
}


@dataclass
class Bundle:
    """A bundle read and checked: typed rows per table, release metadata, problems."""

    path: Path
    release: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # withdrawn participants' rows left out
    problems: list[Problem] = field(default_factory=list)
    # file (or SOMATIC_DIR) -> withdrawn participants' rows (or files) left out; GERMLINE: columns
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def consenting_ids(self) -> list[str]:
        return [r["participant_id"] for r in self.rows.get(PARTICIPANTS, []) if r["consent_status"] == vocab.CONSENTING]

    def withdrawn_ids(self) -> list[str]:
        return [r["participant_id"] for r in self.rows.get(PARTICIPANTS, []) if r["consent_status"] == vocab.WITHDRAWN]


def _problem(file: str, line: int | None, column: str | None, code: str, message: str) -> Problem:
    return Problem(file=file, line=line, field=column, code=code, message=message)


def _read_table(path: Path, table: Table, problems: list[Problem]) -> list[dict[str, Any]]:
    """Typed rows of one TSV; every bad cell becomes a problem (line numbers
    count the header as line 1)."""
    if not path.exists():
        problems.append(_problem(table.name, None, None, "missing_file", "file is missing from the bundle"))
        return []
    rows: list[dict[str, Any]] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            if header is None:
                problems.append(_problem(table.name, 1, None, "empty_file", "file is empty: a header line is needed"))
                return []
            header = [h.strip() for h in header]
            missing = [c for c in table.columns if c not in header]
            for column in missing:
                problems.append(
                    _problem(table.name, 1, column, "missing_column", f"required column {column} is missing")
                )
            duplicated = sorted({h for h in header if header.count(h) > 1})
            for column in duplicated:
                problems.append(_problem(table.name, 1, column, "duplicate_column", f"column {column} appears twice"))
            if missing or duplicated:
                return []
            position = {c: header.index(c) for c in table.columns}
            for line_number, cells in enumerate(reader, start=2):
                if not cells or (len(cells) == 1 and not cells[0].strip()):
                    continue
                if len(cells) != len(header):
                    problems.append(
                        _problem(
                            table.name,
                            line_number,
                            None,
                            "wrong_cell_count",
                            f"has {len(cells)} cells; the header has {len(header)}",
                        )
                    )
                    continue
                row: dict[str, Any] = {"_line": line_number}
                for column, parse in table.columns.items():
                    try:
                        row[column] = parse(cells[position[column]].strip())
                    except Invalid as error:
                        problems.append(_problem(table.name, line_number, column, "invalid_value", str(error)))
                        row = {}
                        break
                if row:
                    rows.append(row)
    except UnicodeDecodeError as error:
        problems.append(_problem(table.name, None, None, "not_utf8", f"is not UTF-8 text ({error.reason})"))
        return []
    return rows


def _read_release_json(path: Path, problems: list[Problem]) -> dict[str, Any]:
    if not path.exists():
        problems.append(_problem(RELEASE_JSON, None, None, "missing_file", "file is missing from the bundle"))
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        problems.append(
            _problem(RELEASE_JSON, getattr(error, "lineno", None), None, "invalid_json", f"is not valid JSON: {error}")
        )
        return {}
    if not isinstance(data, dict):
        problems.append(_problem(RELEASE_JSON, 1, None, "invalid_json", "must hold one JSON object"))
        return {}
    for key in ("name", "date", "genome_build", "format_version"):
        if key not in data:
            problems.append(_problem(RELEASE_JSON, None, key, "missing_key", f"key {key} is missing"))
    if "date" in data:
        try:
            data["date"] = date.fromisoformat(str(data["date"]))
        except ValueError:
            problems.append(
                _problem(
                    RELEASE_JSON, None, "date", "invalid_value", f"{data['date']!r} is not a date written YYYY-MM-DD"
                )
            )
    if "genome_build" in data and data["genome_build"] not in GENOME_BUILDS:
        problems.append(
            _problem(
                RELEASE_JSON,
                None,
                "genome_build",
                "invalid_value",
                f"genome build {data['genome_build']!r} is not supported (only GRCh38)",
            )
        )
    if "format_version" in data and data["format_version"] != FORMAT_VERSION:
        problems.append(
            _problem(
                RELEASE_JSON,
                None,
                "format_version",
                "unsupported_version",
                f"format version {data['format_version']!r} is not supported (this portal reads 1)",
            )
        )
    return data


def _duplicates(rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> Iterator[dict[str, Any]]:
    seen: set[Any] = set()
    for row in rows:
        k = key(row)
        if k in seen:
            yield row
        seen.add(k)


def _cross_check(bundle: Bundle, known_hpo: set[str] | None) -> None:
    problems = bundle.problems
    participants = bundle.rows.get(PARTICIPANTS, [])
    for row in _duplicates(participants, lambda r: r["participant_id"]):
        problems.append(
            _problem(
                PARTICIPANTS,
                row["_line"],
                "participant_id",
                "duplicate_id",
                f"participant {row['participant_id']} appears more than once",
            )
        )
    by_id = {r["participant_id"]: r for r in participants}
    for row in participants:
        if row["vital_status"] == vocab.ALIVE and row["death_month"]:
            problems.append(
                _problem(
                    PARTICIPANTS,
                    row["_line"],
                    "death_month",
                    "inconsistent",
                    "a death month is given for a participant recorded as alive",
                )
            )
        if row["family_id"] == "" and row["relationship_to_proband"] not in ("", "proband"):
            problems.append(
                _problem(
                    PARTICIPANTS, row["_line"], "family_id", "inconsistent", "a relative of a proband needs a family id"
                )
            )

    for name in CLINICAL_TABLES:
        for row in bundle.rows.get(name, []):
            pid = row["participant_id"]
            if pid not in by_id:
                problems.append(
                    _problem(
                        name,
                        row["_line"],
                        "participant_id",
                        "unknown_participant",
                        f"participant {pid} is not in {PARTICIPANTS}",
                    )
                )

    for row in _duplicates(bundle.rows.get(PHENOTYPES, []), lambda r: (r["participant_id"], r["hpo_id"])):
        problems.append(
            _problem(
                PHENOTYPES,
                row["_line"],
                "hpo_id",
                "duplicate_row",
                f"{row['hpo_id']} is recorded twice for participant {row['participant_id']}",
            )
        )
    if known_hpo is not None:
        for row in bundle.rows.get(PHENOTYPES, []):
            if row["hpo_id"] not in known_hpo:
                problems.append(
                    _problem(
                        PHENOTYPES,
                        row["_line"],
                        "hpo_id",
                        "unknown_hpo_term",
                        f"{row['hpo_id']} is not a term of the loaded HPO ontology",
                    )
                )

    for row in _duplicates(bundle.rows.get(TUMOURS, []), lambda r: r["tumour_sample_id"]):
        problems.append(
            _problem(
                TUMOURS,
                row["_line"],
                "tumour_sample_id",
                "duplicate_id",
                f"tumour sample {row['tumour_sample_id']} appears more than once",
            )
        )
    for row in bundle.rows.get(TUMOURS, []):
        participant = by_id.get(row["participant_id"])
        if participant is not None and participant["programme"] != vocab.CANCER:
            problems.append(
                _problem(
                    TUMOURS,
                    row["_line"],
                    "participant_id",
                    "inconsistent",
                    f"participant {row['participant_id']} is not in the cancer programme",
                )
            )

    for row in _duplicates(bundle.rows.get(GENES, []), lambda r: r["symbol"]):
        problems.append(_problem(GENES, row["_line"], "symbol", "duplicate_id", f"gene {row['symbol']} appears twice"))
    for row in bundle.rows.get(GENES, []):
        if row["end"] < row["start"]:
            problems.append(_problem(GENES, row["_line"], "end", "inconsistent", "end is before start"))


CLINICAL_TABLES = (PHENOTYPES, DISEASES, TUMOURS)
LEFT_OUT_UNITS = {GERMLINE: ("column", "columns"), SOMATIC_DIR: ("file", "files")}


def somatic_vcf(tumour_sample_id: str) -> str:
    """Where a tumour's somatic VCF is, relative to the bundle (and to the release's directory)."""
    return f"{SOMATIC_DIR}/{tumour_sample_id}.vcf.gz"


def _leave_out_withdrawn(bundle: Bundle) -> None:
    """Drop the rows of participants marked withdrawn (after every check has
    seen them) and count, per file, what was left out."""
    withdrawn = {
        r["participant_id"] for r in bundle.rows.get(PARTICIPANTS, []) if r["consent_status"] == vocab.WITHDRAWN
    }
    for name in CLINICAL_TABLES:
        rows = bundle.rows.get(name, [])
        kept = [r for r in rows if r["participant_id"] not in withdrawn]
        bundle.left_out[name] = len(rows) - len(kept)
        if name == TUMOURS:
            gone = [r["tumour_sample_id"] for r in rows if r["participant_id"] in withdrawn]
            bundle.left_out[SOMATIC_DIR] = sum((bundle.path / somatic_vcf(t)).exists() for t in gone)
        bundle.rows[name] = kept


def left_out_lines(left_out: dict[str, int]) -> list[str]:
    """What was left out, one line per file, in words (ingest's report and the release's admin page)."""
    lines = []
    for name, n in left_out.items():
        one, many = LEFT_OUT_UNITS.get(name, ("row", "rows"))
        shown = f"{name}/" if name == SOMATIC_DIR else name
        what = "masked in the genotype store" if name == GERMLINE else "left out"
        lines.append(f"{shown}: {n} {one if n == 1 else many} of withdrawn participants {what}")
    return lines


def _relative(problem: Problem, root: Path) -> Problem:
    path = Path(problem.file)
    try:
        name = str(path.relative_to(root)) if path.is_absolute() else problem.file
    except ValueError:
        name = problem.file
    return Problem(file=name, line=problem.line, field=problem.field, code=problem.code, message=problem.message)


def read_bundle(
    path: str | Path,
    *,
    known_hpo: set[str] | None = None,
    check_vcfs: bool = True,
    germline_store: Path | None = None,
    copy_somatic_to: Path | None = None,
    workers: int = DEFAULT_THREADS,
) -> Bundle:
    """Read and check every file of a bundle; ``bundle.problems`` lists them all.

    ``germline_store``: when the tables have no problem, the pass that checks
    the germline VCF also writes the genotype store there (``workers``
    threads); it is left there only if the whole bundle has no problem.

    ``copy_somatic_to``: each kept tumour's somatic VCF and index are copied
    under that folder's ``somatic/`` and the copy is checked (the release
    holds the bytes that were checked); withdrawn participants' files stay
    behind. The caller removes the folder if the bundle has a problem.
    """
    root = Path(path)
    bundle = Bundle(path=root)
    if not root.is_dir():
        bundle.problems.append(_problem(str(root), None, None, "missing_bundle", "is not a directory"))
        return bundle
    bundle.release = _read_release_json(root / RELEASE_JSON, bundle.problems)
    for name, table in TABLES.items():
        bundle.rows[name] = _read_table(root / name, table, bundle.problems)
    _cross_check(bundle, known_hpo)
    _leave_out_withdrawn(bundle)
    if not check_vcfs:
        return bundle

    germline = root / GERMLINE
    if not germline.exists():
        bundle.problems.append(_problem(GERMLINE, None, None, "missing_file", "file is missing from the bundle"))
    elif bundle.rows.get(PARTICIPANTS):
        withdrawn = bundle.withdrawn_ids()
        vcf_problems = validate_germline_vcf(
            germline,
            bundle.consenting_ids(),
            allowed_samples=withdrawn,
            max_per_code=50,
            store=germline_store if not bundle.problems else None,
            workers=workers,
        )
        bundle.problems.extend(_relative(p, root) for p in vcf_problems)
        if not vcf_problems:
            try:
                columns = set(read_header(germline).samples)
            except VcfConversionError:
                columns = set()
            if masked := len(columns.intersection(withdrawn)):  # held in the store, masked
                bundle.left_out[GERMLINE] = masked
    if copy_somatic_to is not None:
        (copy_somatic_to / SOMATIC_DIR).mkdir(parents=True, exist_ok=True)

    def check(somatic: Path) -> list[Problem]:
        copy = None if copy_somatic_to is None else copy_somatic_to / somatic.relative_to(root)
        return validate_somatic_vcf(somatic, max_per_code=20, copy_to=copy)

    # Thousands of small files: checked by ``workers`` threads (htslib reads without the GIL), reported in order.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        checked = [
            (row, somatic, pool.submit(check, somatic) if somatic.exists() else None)
            for row in bundle.rows.get(TUMOURS, [])
            for somatic in [root / somatic_vcf(row["tumour_sample_id"])]
        ]
        for row, somatic, found in checked:
            if found is None:
                bundle.problems.append(
                    _problem(
                        f"{SOMATIC_DIR}/{somatic.name}",
                        None,
                        None,
                        "missing_file",
                        f"somatic VCF for tumour {row['tumour_sample_id']} ({TUMOURS} line {row['_line']}) is missing",
                    )
                )
            else:
                bundle.problems.extend(_relative(p, root) for p in found.result())
    if bundle.problems and germline_store is not None:
        shutil.rmtree(germline_store, ignore_errors=True)
    return bundle


def bundle_checksum(path: str | Path) -> str:
    """SHA-256 over every file's relative name and bytes, in name order."""
    root = Path(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
