"""Demo research domains for ``manage.py seed_demo`` (DEBUG only)."""

from __future__ import annotations

from accounts.authorization import Permission, has_permission
from accounts.models import Role, User
from accounts.services import role_grant
from domains.models import Domain, Programme
from domains.services import domain_create

DEMO_LEAD_EMAIL = "lead@example.org"

DEMO_DOMAINS: list[tuple[str, str, Programme, str]] = [
    ("breast-cancer", "Breast cancer", Programme.CANCER,
     "Somatic and germline drivers of breast cancer, response to treatment and survival."),
    ("colorectal-cancer", "Colorectal cancer", Programme.CANCER,
     "Mutational signatures, mismatch-repair deficiency and outcomes in colorectal cancer."),
    ("lung-cancer", "Lung cancer", Programme.CANCER,
     "Tumour genomes of lung cancers in smokers and never-smokers, and targets for therapy."),
    ("renal-cancer", "Renal cancer", Programme.CANCER,
     "Clear-cell and other renal cell carcinomas: VHL pathway, tumour evolution and prognosis."),
    ("haematological-malignancies", "Haematological malignancies", Programme.CANCER,
     "Leukaemias, lymphomas and myeloma: somatic variants that classify disease and guide treatment."),
    ("paediatric-cancer", "Paediatric cancer", Programme.CANCER,
     "Childhood tumours and the germline predisposition behind them."),
    ("neurology", "Neurology", Programme.RARE_DISEASE,
     "Rare neurological and neurodevelopmental disorders, including epilepsies and ataxias."),
    ("cardiovascular", "Cardiovascular", Programme.RARE_DISEASE,
     "Inherited cardiomyopathies, channelopathies and aortopathies."),
    ("rare-renal", "Renal", Programme.RARE_DISEASE,
     "Rare inherited kidney diseases such as cystic kidney disease and nephrotic syndrome."),
    ("ophthalmology", "Ophthalmology", Programme.RARE_DISEASE,
     "Inherited retinal disorders and other rare eye diseases."),
    ("skeletal", "Skeletal", Programme.RARE_DISEASE,
     "Skeletal dysplasias and rare disorders of bone and connective tissue."),
    ("immunology", "Immunology", Programme.RARE_DISEASE,
     "Primary immunodeficiencies and rare inflammatory disorders."),
    ("machine-learning", "Machine learning", Programme.CROSS_CUTTING,
     "Methods that learn from genomes and clinical records: variant prioritisation, phenotype prediction."),
    ("health-economics", "Health economics", Programme.CROSS_CUTTING,
     "Costs and benefits of genomic testing and the care it changes."),
    ("ethics-social-science", "Ethics and social science", Programme.CROSS_CUTTING,
     "Consent, participants' experience and the social questions genomic medicine raises."),
    ("functional-genomics", "Functional genomics", Programme.CROSS_CUTTING,
     "From variant to mechanism: experimental and computational evidence of what variants do."),
]  # fmt: skip


def seed_demo_domains() -> int:
    """Create the demo domains (idempotent) and make the demo lead a lead of each.
    Returns how many domains were created."""
    lead = User.objects.filter(email=DEMO_LEAD_EMAIL).first()
    created = 0
    for slug, name, programme, description in DEMO_DOMAINS:
        domain = Domain.objects.filter(slug=slug).first()
        if domain is None:
            domain = domain_create(slug=slug, name=name, programme=programme, description=description, by=None)
            created += 1
        if lead is not None and not has_permission(lead, Permission.DOMAIN_REVIEW_MEMBERSHIP, domain):
            role_grant(user=lead, role=Role.DOMAIN_LEAD, obj=domain, by=None)
    return created
