"""No URL returns an artifact file's bytes: every route of the portal is
walked, as a member of the job's project, with the ids of a finished job."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

from analysis.models import AnalysisJob, ArtifactFile
from analysis.services import job_submit

FILE_TYPES = ("application/octet-stream", "application/pdf", "image/", "application/vnd.apache.parquet")


def _routes(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _fill(route: str, values: dict[str, list[str]]) -> list[str]:
    """Concrete paths for a route pattern: each <int:...> and <slug:...> with every candidate value."""
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    paths = [route]
    for kind in ("int", "slug", "str", "path"):
        expanded = []
        for path in paths:
            if f"<{kind}:" not in path:
                expanded.append(path)
                continue
            for value in values[kind]:
                expanded.append(re.sub(rf"<{kind}:[^>]+>", value, path, count=1))
        paths = expanded
    while any("<" in p for p in paths):
        paths = [re.sub(r"<(int|slug|str|path):[^>]+>", values["int"][0], p, count=1) for p in paths]
    return ["/" + p for p in paths if "(?P" not in p]


def test_no_route_returns_the_bytes_of_any_artifact_file(world, cohorts, eager, client_for, data_root):
    owner = world.approved_project.owner
    with eager():
        for job_type, parameters in (("cohort-summary", {}), ("allele-frequencies", {"region": "chr1"})):
            job_submit(by=owner, project=world.approved_project, job_type=job_type,
                       inputs=[("cohort", c) for c in cohorts], parameters=parameters)  # fmt: skip
    jobs = list(AnalysisJob.objects.all())
    assert [j.status for j in jobs] == ["succeeded", "succeeded"], [j.error for j in jobs]
    files = list(ArtifactFile.objects.all())
    assert {f.format for f in files} == {"parquet", "svg", "png", "pdf"}
    contents = {f.path: (data_root / f.path).read_bytes() for f in files}
    keys = sorted({f.artifact.key for f in files})
    ints = sorted({str(v) for j in jobs for v in (j.pk, j.project_id, *[i.cohort_id for i in j.inputs.all()])})
    values = {"int": ints, "slug": keys, "str": keys + [p for p in contents], "path": list(contents)}
    client = client_for(owner)
    walked = 0
    for route in _routes():
        for path in _fill(route, values):
            for response in (client.get(path), client.get(path, headers={"HX-Request": "true"})):
                walked += 1
                body = response.content if not response.streaming else b"".join(response.streaming_content)
                kind = response.get("Content-Type", "")
                assert not kind.startswith(FILE_TYPES), f"{path} answered {kind}"
                assert "attachment" not in response.get("Content-Disposition", ""), path
                for name, data in contents.items():
                    if name.endswith(".svg"):
                        assert body.strip() != data.strip(), f"{path} returned {name}"
                    else:
                        assert data[:64] not in body, f"{path} returned bytes of {name}"
    assert walked > 100
