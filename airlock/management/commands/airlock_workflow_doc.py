from airlock.policies import workflow_document
from workflows.document_command import document_command

Command = document_command(
    __name__, "airlock-workflow.md", "airlock/policies.py", workflow_document, "the output request state diagram"
)
