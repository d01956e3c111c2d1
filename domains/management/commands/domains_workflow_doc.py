from domains.policies import workflows_document
from workflows.document_command import document_command

Command = document_command(
    __name__,
    "domains-workflows.md",
    "the transition tables in domains/policies.py",
    workflows_document,
    "state diagrams",
)
