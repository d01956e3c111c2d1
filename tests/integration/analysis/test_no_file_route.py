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
    """Concrete paths for a route: each <converter:name> with every candidate value for that name."""
    route = route.lstrip("^").rstrip("$").replace("\\Z", "")
    if "(?P" in route:
        return []  # regular-expression routes (the admin's) take no job ids
    paths = [route]
    for name in re.findall(r"<(?:\w+:)?(\w+)>", route):
        candidates = values.get(name, values["pk"])
        paths = [re.sub(rf"<(?:\w+:)?{name}>", value, p, count=1) for p in paths for value in candidates]
    return ["/" + p for p in paths]


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
    ids = sorted({str(v) for j in jobs for v in (j.pk, *[i.cohort_id for i in j.inputs.all()])})
    values = {"pk": ids, "project_pk": [str(world.approved_project.pk)], "key": keys,
              "slug": [world.domain.slug, *keys], "user_pk": [str(owner.pk)], "path": list(contents)}  # fmt: skip
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
