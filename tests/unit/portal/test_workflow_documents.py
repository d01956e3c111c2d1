"""The workflow-document commands: --check refuses a missing or stale document, writing it makes it current."""

import pytest
from django.core.management import call_command

COMMANDS = [
    ("domains_workflow_doc", "domains-workflows.md"),
    ("analysis_workflow_doc", "analysis-workflow.md"),
    ("airlock_workflow_doc", "airlock-workflow.md"),
]


@pytest.mark.parametrize(("command", "name"), COMMANDS)
def test_check_refuses_a_stale_document_until_it_is_written(command, name, settings, tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    settings.BASE_DIR = tmp_path
    with pytest.raises(SystemExit):
        call_command(command, "--check")
    assert f"run manage.py {command}" in capsys.readouterr().err
    call_command(command)
    call_command(command, "--check")
    assert "up to date" in capsys.readouterr().out
    assert (tmp_path / "docs" / name).read_text().startswith("# ")
