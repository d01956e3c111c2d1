"""No URL returns an artifact file's bytes, except one: a file released
through the airlock, to its author. Every route of the portal is walked, as
the job's project owner (the author of a released output request) and as an
output checker, with the ids of finished jobs, of the request and its files."""

from __future__ import annotations

import re

from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role
from airlock import services as airlock
from airlock.models import RequestFile
from analysis.models import AnalysisJob, ArtifactFile
from analysis.services import job_submit
from tests.conftest import _persona

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


def _released(world, jobs, eager):
    """An output request of the project's owner with a table (CSV) and a plot (PNG), released."""
    owner = world.approved_project.owner
    first = _persona(Role.OUTPUT_CHECKER, email="first-checker@example.org")
    second = _persona(Role.OUTPUT_CHECKER, email="second-checker@example.org")
    request = airlock.request_create(by=owner, project=world.approved_project)
    summary = jobs[0].artifacts.get(key="summary")
    for artifact in (summary, summary.plots.first()):
        airlock.request_file_add(by=owner, request=request, artifact=artifact, context="Table 1.",
                                 controls="The portal's suppression and rounding.")  # fmt: skip
    request = airlock.request_submit(by=owner, request=request)
    for checker in (first, second):
        for file in request.files.all():
            airlock.vote_cast(by=checker, file=file, choice="approve")
        airlock.review_submit(by=checker, request=request)
    with eager():
        airlock.request_decide(by=second, request=request, decision="approve")
    request.refresh_from_db()
    assert request.status == "released"
    return request, first


def test_no_route_returns_the_bytes_of_any_artifact_file_but_a_released_file_to_its_author(
    world, cohorts, eager, client_for, data_root
):
    owner = world.approved_project.owner
    with eager():
        for job_type, parameters in (("cohort-summary", {}), ("allele-frequencies", {"region": "chr1"})):
            job_submit(by=owner, project=world.approved_project, job_type=job_type,
                       inputs=[("cohort", c) for c in cohorts], parameters=parameters)  # fmt: skip
    jobs = list(AnalysisJob.objects.order_by("pk"))
    assert [j.status for j in jobs] == ["succeeded", "succeeded"], [j.error for j in jobs]
    request, checker = _released(world, jobs, eager)
    files = list(ArtifactFile.objects.all())
    assert {f.format for f in files} == {"parquet", "svg", "png", "pdf"}
    released = list(RequestFile.objects.filter(request=request))
    contents = {f.path: (data_root / f.path).read_bytes() for f in [*files, *released]}
    keys = sorted({f.artifact.key for f in files})
    ids = sorted({str(v) for j in jobs for v in (j.pk, request.pk, *[i.cohort_id for i in j.inputs.all()])})
    values = {"pk": ids, "project_pk": [str(world.approved_project.pk)], "key": keys,
              "slug": [world.domain.slug, *keys], "user_pk": [str(owner.pk)], "path": list(contents),
              "file_pk": [str(f.pk) for f in released]}  # fmt: skip
    # The one exception: each released file, by its author, as frozen at approval.
    exceptions = {}
    for f in released:
        for prefix in ("/outputs", "/api/v1/outputs"):
            exceptions[f"{prefix}/{request.pk}/files/{f.pk}/download/"] = contents[f.path]
    records = {f"{prefix}/{request.pk}/record/" for prefix in ("/outputs", "/api/v1/outputs")}
    walked = {"author": 0, "checker": 0}
    for who, user in (("author", owner), ("checker", checker)):
        client = client_for(user)
        for route in _routes():
            for path in _fill(route, values):
                for response in (client.get(path), client.get(path, headers={"HX-Request": "true"})):
                    walked[who] += 1
                    body = response.content if not response.streaming else b"".join(response.streaming_content)
                    kind = response.get("Content-Type", "")
                    if who == "author" and path in exceptions:
                        assert response.status_code == 200 and body == exceptions[path], path
                        assert "attachment" in response["Content-Disposition"]
                        continue
                    if who == "author" and path in records:  # the disclosure record: JSON, no result bytes
                        assert response.status_code == 200 and kind == "application/json", path
                    else:
                        assert not kind.startswith(FILE_TYPES), f"{path} answered {kind} to the {who}"
                        assert "attachment" not in response.get("Content-Disposition", ""), (who, path)
                    for name, data in contents.items():
                        if name.endswith(".svg"):
                            assert body.strip() != data.strip(), f"{path} returned {name} to the {who}"
                        else:
                            assert data[:64] not in body, f"{path} returned bytes of {name} to the {who}"
    assert walked["author"] > 100 and walked["checker"] > 100
