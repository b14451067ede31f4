"""Every mapped table, imported in one place so the metadata is complete.

Alembic's ``env.py`` and the schema check read ``Base.metadata`` from here.
"""

from claimbridge.storage.audit import AuditCheckpoint, AuditEvent, AuditPurge, AuditTreeNode
from claimbridge.storage.auth import (
    AddressFailures,
    ApiToken,
    AuthSession,
    BreakGlassGrant,
    ClientCertificate,
    Credential,
)
from claimbridge.storage.base import Base
from claimbridge.storage.batches import Batch, OrgSigningKey
from claimbridge.storage.claims import Claim, ServiceLine
from claimbridge.storage.clinical import Coverage, Encounter, Patient
from claimbridge.storage.integrity import (
    ExclusionRow,
    FindingRow,
    MueEditRow,
    PtpEditRow,
    ReferenceTable,
)
from claimbridge.storage.keys import DataKeyRow, TenantKek
from claimbridge.storage.orgs import Engagement, Organisation, User, UserRole
from claimbridge.storage.vendors import (
    Assessment,
    AssessmentAnswer,
    AssessmentEvidence,
    AssessmentReview,
    BusinessAssociateAgreement,
    EngagementNotice,
    Termination,
)

__all__ = [
    "AddressFailures",
    "ApiToken",
    "Assessment",
    "AssessmentAnswer",
    "AssessmentEvidence",
    "AssessmentReview",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditPurge",
    "AuditTreeNode",
    "AuthSession",
    "Base",
    "Batch",
    "BreakGlassGrant",
    "BusinessAssociateAgreement",
    "Claim",
    "ClientCertificate",
    "Coverage",
    "Credential",
    "DataKeyRow",
    "Encounter",
    "Engagement",
    "EngagementNotice",
    "ExclusionRow",
    "FindingRow",
    "MueEditRow",
    "OrgSigningKey",
    "Organisation",
    "Patient",
    "PtpEditRow",
    "ReferenceTable",
    "ServiceLine",
    "TenantKek",
    "Termination",
    "User",
    "UserRole",
]
