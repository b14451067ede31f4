"""Permissions: ``scope:resource:action``, the unit every route and service declares.

Roles map to permissions in ``roles.py``; nothing checks a role by name.
"""

from __future__ import annotations

import enum


class Permission(enum.StrEnum):
    # PHI, reached only through the gateway, only for a tenant the
    # principal may act for.
    PATIENT_LIST = "patients:patient:list"
    PATIENT_READ = "patients:patient:read"
    CLAIM_LIST = "claims:claim:list"
    CLAIM_READ = "claims:claim:read"
    CLAIM_SUBMIT = "claims:claim:submit"
    """Send a practice's ready claims out in an 837P: discloses PHI to the payer."""
    BATCH_UPLOAD = "exchange:batch:upload"
    BATCH_READ = "exchange:batch:read"
    """Batches' receipts and, through the gateway, their original content."""
    BREAK_GLASS_REQUEST = "access:break-glass:request"
    # Evidence about access, never PHI content.
    AUDIT_READ = "audit:event:read"
    DISCLOSURES_READ = "audit:disclosure:read"
    """The accounting of disclosures of one patient (45 CFR 164.528)."""
    BREAK_GLASS_REVIEW = "access:break-glass:review"
    # Administration.
    USER_MANAGE = "access:user:manage"
    TOKEN_MANAGE = "access:token:manage"  # noqa: S105 - a permission name, not a secret
    ENGAGEMENT_MANAGE = "vendors:engagement:manage"
    """Invite, review and approve a billing company, record its BAA, terminate, compare."""
    ENGAGEMENT_READ = "vendors:engagement:read"
    """See one's own engagements: their standing, assessments, BAA terms and notices."""
    QUESTIONNAIRE_ANSWER = "vendors:questionnaire:answer"
    """Answer a risk questionnaire for one's billing company and upload its evidence."""
    KEY_MANAGE = "crypto:key:manage"
    ORGANISATION_MANAGE = "orgs:organisation:manage"
    SIGNING_KEY_MANAGE = "exchange:signing-key:manage"
    FINDING_READ = "integrity:finding:read"
    FINDING_OVERRIDE = "integrity:finding:override"
    ENCOUNTER_ATTEST = "integrity:encounter:attest"
    TABLE_MANAGE = "integrity:table:manage"
    """Register and rotate the organisation's batch-signing public keys."""


PHI_PERMISSIONS = frozenset(
    {
        Permission.PATIENT_LIST,
        Permission.PATIENT_READ,
        Permission.CLAIM_LIST,
        Permission.CLAIM_READ,
        Permission.CLAIM_SUBMIT,
        Permission.BATCH_UPLOAD,
        Permission.BATCH_READ,
        Permission.BREAK_GLASS_REQUEST,
        Permission.ENCOUNTER_ATTEST,
    }
)
"""Permissions that reach PHI: every role holding one must use MFA."""
