from analysis.policies import workflow_document
from workflows.document_command import document_command

Command = document_command(
    __name__, "analysis-workflow.md", "analysis/policies.py", workflow_document, "the job state diagram"
)
