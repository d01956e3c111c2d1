"""A job type for queuing tests, loaded through ANALYSIS_EXTRA_JOB_TYPES (never
in production): its blocks can wait on a gate file, sleep, or fail, so a test
can cancel a running job, fill a project's slots, or pass a time limit."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings

from analysis.jobtype import Column, Estimate, JobError, JobType, Param, RoleSpec, TableSpec


def gate(job_id: int, index: int) -> Path:
    return Path(settings.DATA_ROOT) / "gates" / f"{job_id}-{index}"


class Gated(JobType):
    slug = "test-gated"
    title = "Gated blocks (tests)"
    description = "Counts a cohort once per block; each block may wait for a gate file, sleep or fail."
    queue = "interactive"
    splittable = True
    roles = (RoleSpec("cohort", "Cohorts", "Any cohort.", minimum=1, maximum=1),)
    params = (
        Param("blocks", "Blocks", "How many blocks.", kind="integer", default=2, min_value=1, max_value=20),
        Param("gated", "Gated", "Each block waits until its gate file exists.", kind="boolean", default=False),
        Param("sleep", "Sleep", "Seconds each block sleeps.", kind="number", default=0, min_value=0),
        Param("fail_at", "Fail at", "The block (from 1) that fails; 0: none.", kind="integer", default=0, min_value=0),
    )
    artifacts = (
        TableSpec(
            "blocks", "Blocks", "One row per block.",
            (Column("block", "integer", "Block", "Its number."), Column("members", "count", "Members", "Read.")),
        ),
    )  # fmt: skip

    def estimate(self, *, inputs, parameters, release):
        return Estimate(participants=[(i.role, i.label, i.members) for i in inputs], variants=None, seconds=1,
                        memory_mb=1)  # fmt: skip

    def blocks(self, ctx):
        return [{"index": i} for i in range(ctx.parameters["blocks"])]

    def run_block(self, ctx, block, out):
        index = block["index"]
        if ctx.parameters["gated"]:
            while not gate(ctx.job.pk, index).exists():
                ctx.progress(None, f"Block {index + 1} waits for its gate")
                time.sleep(0.1)
        if ctx.parameters["sleep"]:
            time.sleep(ctx.parameters["sleep"])
        if index + 1 == ctx.parameters["fail_at"]:
            raise JobError(f"Block {index + 1} could not be read: a planted failure.")
        out.write_text(json.dumps({"block": index, "members": len(ctx.inputs[0].participant_ids)}))

    def combine(self, ctx, partials):
        ctx.write_table("blocks", [json.loads(p.read_text()) for p in partials])


JOB_TYPE = Gated()
