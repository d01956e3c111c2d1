"""The registry finds every job type module, and each declaration is complete."""

from __future__ import annotations

import pytest

from analysis.jobtype import Column, JobType, Param, PlotSpec, RoleSpec, TableSpec
from analysis.registry import job_types


def test_every_module_of_the_package_is_a_registered_type():
    assert set(job_types()) >= {"cohort-summary", "allele-frequencies"}


@pytest.mark.parametrize("slug", ["cohort-summary", "allele-frequencies"])
def test_each_type_declares_its_queue_roles_parameters_artifacts_and_rules(slug):
    jobtype = job_types()[slug]
    assert jobtype.queue in ("interactive", "heavy") and jobtype.roles and jobtype.disclosure
    assert all(p.help and p.label for p in jobtype.params)
    form_fields = jobtype.form_class.base_fields
    serializer_fields = jobtype.serializer_class().fields
    assert set(form_fields) == set(serializer_fields) == {p.name for p in jobtype.params}
    assert all(form_fields[name].help_text and serializer_fields[name].help_text for name in form_fields)
    tables = {a.key for a in jobtype.artifacts if isinstance(a, TableSpec)}
    assert tables and all(a.source in tables for a in jobtype.artifacts if isinstance(a, PlotSpec))


def test_a_plot_drawn_from_no_table_is_refused():
    class Broken(JobType):
        slug, title, description = "broken", "Broken", "A type declared wrongly."
        roles = (RoleSpec("cohort", "Cohorts", "Any."),)
        artifacts = (
            TableSpec("t", "T", "A table.", (Column("n", "count", "N", "A count."),)),
            PlotSpec("p", "P", "A plot.", "missing", lambda table, ctx: None),
        )

    with pytest.raises(ValueError, match="not one of its tables"):
        Broken().check_declaration()


def test_a_parameter_without_help_is_refused():
    class Quiet(JobType):
        slug, title, description = "quiet", "Quiet", "A parameter without help."
        roles = (RoleSpec("cohort", "Cohorts", "Any."),)
        params = (Param("n", "N", ""),)
        artifacts = (TableSpec("t", "T", "A table.", (Column("n", "count", "N", "A count."),)),)

    with pytest.raises(ValueError, match="help text"):
        Quiet().check_declaration()
