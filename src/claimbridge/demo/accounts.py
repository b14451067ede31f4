"""The demo's organisations and people: one user for every role of DESIGN.md.

Passwords are derived from the demo seed, so the same seed prints the same
logins every time (and a second ``demo`` run can show them again). They
are demo passwords for a demo data directory, nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass

from claimbridge.storage.orgs import OrgKind, Role

RIVERSIDE = "Riverside Family Medicine"
SUMMIT = "Summit Billing Partners"
LAKESIDE = "Lakeside Family Practice"
# A second billing company, assessed and rejected: its people reach nothing.
KEYSTONE = "Keystone Claims Services"
OPERATOR = "claimbridge Operations"
AUDITORS = "Independent Compliance Auditors"


@dataclass(frozen=True, slots=True)
class DemoOrg:
    name: str
    kind: OrgKind
    domain: str


@dataclass(frozen=True, slots=True)
class DemoUser:
    email: str
    display_name: str
    organisation: str
    roles: tuple[Role, ...]


ORGS = (
    DemoOrg(RIVERSIDE, OrgKind.PRACTICE, "riverside.example"),
    DemoOrg(SUMMIT, OrgKind.BILLING_COMPANY, "summit-billing.example"),
    DemoOrg(LAKESIDE, OrgKind.PRACTICE, "lakeside.example"),
    DemoOrg(KEYSTONE, OrgKind.BILLING_COMPANY, "keystone-claims.example"),
    DemoOrg(OPERATOR, OrgKind.OPERATOR, "claimbridge.example"),
    DemoOrg(AUDITORS, OrgKind.AUDITOR, "compliance-auditors.example"),
)

# (.example is reserved for documentation by RFC 2606: no demo mail can reach anyone.)
USERS = (
    DemoUser("admin@riverside.example", "Rita Alvarez", RIVERSIDE, (Role.PRACTICE_ADMIN,)),
    DemoUser("staff@riverside.example", "Sam Okafor", RIVERSIDE, (Role.PRACTICE_STAFF,)),
    DemoUser("privacy@riverside.example", "Priya Natarajan", RIVERSIDE, (Role.PRIVACY_OFFICER,)),
    DemoUser("admin@summit-billing.example", "Victor Hale", SUMMIT, (Role.VENDOR_ADMIN,)),
    DemoUser("biller@summit-billing.example", "Bianca Moreau", SUMMIT, (Role.BILLER,)),
    DemoUser("coder@summit-billing.example", "Colin Brandt", SUMMIT, (Role.CODER,)),
    DemoUser("admin@lakeside.example", "Laura Kim", LAKESIDE, (Role.PRACTICE_ADMIN,)),
    DemoUser(
        "billing@lakeside.example",
        "Leo Fontaine",
        LAKESIDE,
        (Role.PRACTICE_STAFF,),
    ),
    DemoUser("privacy@lakeside.example", "Lena Duarte", LAKESIDE, (Role.PRIVACY_OFFICER,)),
    DemoUser("admin@keystone-claims.example", "Kenji Watanabe", KEYSTONE, (Role.VENDOR_ADMIN,)),
    DemoUser("biller@keystone-claims.example", "Beatriz Lindgren", KEYSTONE, (Role.BILLER,)),
    DemoUser("operator@claimbridge.example", "Oscar Lindqvist", OPERATOR, (Role.OPERATOR,)),
    DemoUser("auditor@compliance-auditors.example", "Ada Whitfield", AUDITORS, (Role.AUDITOR,)),
)

_WORDS = [
    "amber",
    "anchor",
    "apple",
    "arrow",
    "aspen",
    "badge",
    "basil",
    "beacon",
    "birch",
    "bison",
    "canyon",
    "cedar",
    "clover",
    "comet",
    "coral",
    "cotton",
    "delta",
    "dune",
    "ember",
    "falcon",
    "fern",
    "fjord",
    "garnet",
    "glacier",
    "harbor",
    "hazel",
    "heron",
    "indigo",
    "iris",
    "jasper",
    "juniper",
    "kestrel",
    "lagoon",
    "lantern",
    "lilac",
    "linen",
    "maple",
    "marble",
    "meadow",
    "mesa",
    "nectar",
    "oak",
    "ocean",
    "olive",
    "orchid",
    "otter",
    "pebble",
    "pepper",
    "pine",
    "plume",
    "quartz",
    "raven",
    "reed",
    "ridge",
    "river",
    "saffron",
    "sage",
    "sparrow",
    "spruce",
    "summit",
    "tidal",
    "topaz",
    "tulip",
    "valley",
    "velvet",
    "willow",
    "yarrow",
    "zephyr",
]


def demo_password(seed: int, email: str) -> str:
    """Four words and two digits, derived from the seed and the email."""
    digest = hashlib.sha256(f"claimbridge-demo/{seed}/{email}".encode()).digest()
    rng = random.Random(digest)  # noqa: S311 - demo passwords, shown on screen by design
    words = [rng.choice(_WORDS) for _ in range(4)]
    return "-".join(words) + f"-{rng.randint(10, 99)}"


def demo_totp_secret(seed: int, email: str) -> str:
    """A base32 TOTP secret (160 bits) derived from the seed and the email."""
    digest = hashlib.sha256(f"claimbridge-demo-totp/{seed}/{email}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()
