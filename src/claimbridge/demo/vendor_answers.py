"""The demo's two billing companies answering the risk questionnaire: one sound, one not.

Summit Billing Partners answers as a well-run vendor would (TLS 1.3, AES-256
at rest under an HSM, MFA for everyone, a clean SOC 2 Type II) and offers
the documents the questionnaire asks for. Keystone Claims Services answers
as the ones behind the breaches do: TLS 1.0, no MFA, no encryption at rest,
no attestation, uncontrolled offshore access. Every document is a SYNTHETIC
one-page PDF saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

AnswerValue = bool | str | int | Decimal | date


@dataclass(frozen=True, slots=True)
class DemoEvidence:
    question: str
    title: str
    issued: date
    expires: date | None


def summit_answers(today: date) -> dict[str, AnswerValue]:
    return {
        "ADM-01": today - timedelta(days=120),
        "ADM-02": True,
        "ADM-03": True,
        "ADM-04": True,
        "ADM-05": True,
        "ADM-06": today - timedelta(days=200),
        "ADM-07": True,
        "PHY-01": True,
        "PHY-02": True,
        "PHY-03": True,
        "TECH-01": True,
        "TECH-02": True,
        "TECH-03": True,
        "TECH-04": True,
        "TECH-05": True,
        "TECH-06": True,
        "ORG-01": True,
        "ORG-02": True,
        "DOC-01": True,
        "DOC-02": True,
        "ENC-01": "tls1.3",
        "ENC-02": True,
        "ENC-03": "aes256-gcm",
        "ENC-04": "hsm",
        "ENC-05": 12,
        "ENC-06": True,
        "ACC-01": True,
        "ACC-02": today - timedelta(days=45),
        "ACC-03": True,
        "ACC-04": 4,
        "CERT-02": 12,
        "CERT-03": "unmodified",
        "CERT-04": 1,
        "CERT-05": "carve-out-reviewed",
        "CERT-06": True,
        "CERT-07": "none",
        "CERT-08": False,
        "BRCH-01": 0,
        "BRCH-02": True,
        "BRCH-03": "No reportable incidents in the last six years.",
        "SUB-01": True,
        "SUB-02": "none",
        "SUB-03": True,
        "IR-01": True,
        "IR-02": 24,
        "IR-03": True,
        "BCK-01": True,
        "BCK-02": today - timedelta(days=60),
        "BCK-03": 4,
        "BCK-04": 4,
        "INS-01": True,
        "INS-02": 10,
    }


def summit_evidence(today: date) -> tuple[DemoEvidence, ...]:
    year = timedelta(days=365)
    return (
        DemoEvidence(
            "ADM-01", "HIPAA security risk analysis 2025", today - timedelta(days=120), None
        ),
        DemoEvidence(
            "ADM-06", "External penetration test summary", today - timedelta(days=200), None
        ),
        DemoEvidence(
            "DOC-01", "Information security policy set v7", today - timedelta(days=90), None
        ),
        DemoEvidence(
            "CERT-01",
            "SOC 2 Type II report (12-month period)",
            today - timedelta(days=75),
            today - timedelta(days=75) + year,
        ),
        DemoEvidence(
            "IR-01", "Incident response tabletop report", today - timedelta(days=150), None
        ),
        DemoEvidence(
            "INS-01",
            "Certificate of cyber liability insurance",
            today - timedelta(days=30),
            today - timedelta(days=30) + year,
        ),
    )


def keystone_answers(today: date) -> dict[str, AnswerValue]:
    return {
        "ADM-01": today - timedelta(days=900),
        "ADM-02": False,
        "ADM-03": True,
        "ADM-04": False,
        "ADM-05": False,
        "ADM-06": today - timedelta(days=1100),
        "ADM-07": False,
        "PHY-01": True,
        "PHY-02": False,
        "PHY-03": False,
        "TECH-01": False,
        "TECH-02": False,
        "TECH-03": True,
        "TECH-04": False,
        "TECH-05": False,
        "TECH-06": False,
        "ORG-01": True,
        "ORG-02": False,
        "DOC-01": False,
        "DOC-02": False,
        "ENC-01": "tls1.0",
        "ENC-02": False,
        "ENC-03": "none",
        "ENC-04": "unknown",
        "ENC-05": 36,
        "ENC-06": False,
        "ACC-01": False,
        "ACC-02": today - timedelta(days=400),
        "ACC-03": False,
        "ACC-04": 168,
        "CERT-02": 0,
        "CERT-03": "qualified",
        "CERT-04": 6,
        "CERT-05": "carve-out-unreviewed",
        "CERT-06": False,
        "CERT-07": "none",
        "CERT-08": False,
        "BRCH-01": 3,
        "BRCH-02": False,
        "BRCH-03": "Two lost laptops and one misdirected remittance file.",
        "SUB-01": False,
        "SUB-02": "uncontrolled",
        "SUB-03": False,
        "IR-01": False,
        "IR-02": 480,
        "IR-03": False,
        "BCK-01": True,
        "BCK-02": today - timedelta(days=500),
        "BCK-03": 96,
        "BCK-04": 72,
        "INS-01": False,
        "INS-02": 0,
    }


def synthetic_pdf(title: str) -> bytes:
    """A one-page PDF that says what it is: a synthetic demo document."""
    text = f"SYNTHETIC DEMO DOCUMENT - {title}".replace("\\", "").replace("(", "").replace(")", "")
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
