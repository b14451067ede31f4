"""``claimbridge audit proof …``, ``verify-proof`` and ``disclosures``: the practice's side.

``proof`` and ``disclosures`` ask a server, as the signed-in principal
(a privacy officer's API token). ``verify-proof`` needs no server at all:
only the audit public key the practice pinned, the proof file, and
optionally the checkpoint the practice saved earlier.
"""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from claimbridge.audit.checkpoints import (
    CheckpointMalformed,
    SignedCheckpoint,
    parse_checkpoint,
    verify_checkpoint,
)
from claimbridge.audit.proofs import (
    ConsistencyProof,
    load_proof,
    verify_consistency_proof,
    verify_inclusion_proof,
)
from claimbridge.cli.errors import reported
from claimbridge.cli.output import JsonOption, console, print_json
from claimbridge.cli.remote import CaOption, Remote, ServerOption, TokenOption
from claimbridge.datadir import write_private_file
from claimbridge.errors import ValidationFailed

proof_app = typer.Typer(
    help="Fetch checkpoints and proofs from a server, to keep and check off it.",
    no_args_is_help=True,
)

OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file (0600) too.")
]
SizeOption = Annotated[
    int | None, typer.Option("--tree-size", min=0, help="A checkpoint's size (default: latest).")
]


def _emit(text: str, output: Path | None, *, as_json: bool, summary: dict[str, Any]) -> None:
    if output is not None:
        write_private_file(output, text.encode("utf-8"))
    if as_json:
        print_json({**summary, **({"output": str(output)} if output else {})})
    elif output is None:
        print(text, end="" if text.endswith("\n") else "\n")
    else:
        console.print(f"saved to {output}", soft_wrap=True)


@proof_app.command("checkpoint")
def fetch_checkpoint(
    server: ServerOption,
    token: TokenOption,
    ca: CaOption = None,
    tree_size: SizeOption = None,
    sign_now: Annotated[bool, typer.Option("--sign-now", help="Ask for a new one.")] = False,
    output: OutputOption = None,
    json: JsonOption = False,
) -> None:
    """A signed checkpoint: the log's size and root. Keep it somewhere the server cannot reach."""
    with reported(as_json=json):
        remote = Remote(server, token, ca)
        found = (
            remote.post("/audit/checkpoints")
            if sign_now
            else remote.get("/audit/checkpoint", tree_size=tree_size)
        )
        text = str(found["checkpoint"])
        parse_checkpoint(text)  # refuse to save anything that is not a checkpoint
        _emit(text, output, as_json=json, summary=found)


@proof_app.command("event")
def fetch_inclusion(
    seq: Annotated[int, typer.Argument(min=1, help="The event's sequence number.")],
    server: ServerOption,
    token: TokenOption,
    ca: CaOption = None,
    tree_size: SizeOption = None,
    output: OutputOption = None,
    json: JsonOption = False,
) -> None:
    """An inclusion proof: event SEQ is in a signed checkpoint."""
    with reported(as_json=json):
        bundle = Remote(server, token, ca).get(f"/audit/events/{seq}/proof", tree_size=tree_size)
        _emit(_bundle_text(bundle), output, as_json=json, summary={"seq": seq})


@proof_app.command("consistency")
def fetch_consistency(
    server: ServerOption,
    token: TokenOption,
    old: Annotated[int, typer.Option("--old", min=0, help="The saved checkpoint's size.")],
    new: Annotated[int | None, typer.Option("--new", min=0, help="Default: latest.")] = None,
    ca: CaOption = None,
    output: OutputOption = None,
    json: JsonOption = False,
) -> None:
    """A consistency proof: the log at NEW extends the log at OLD, unchanged."""
    with reported(as_json=json):
        bundle = Remote(server, token, ca).get(
            "/audit/proofs/consistency", old_size=old, new_size=new
        )
        _emit(_bundle_text(bundle), output, as_json=json, summary={"old": old, "new": new})


def verify_proof(
    proof: Annotated[Path, typer.Argument(help="A proof bundle, or a checkpoint file.")],
    public_key: Annotated[
        str, typer.Option("--public-key", help="The audit public key: hex, or a file holding it.")
    ],
    saved: Annotated[
        Path | None, typer.Option("--saved", help="A checkpoint you saved earlier.")
    ] = None,
    json: JsonOption = False,
) -> None:
    """Check a proof with nothing but the server's audit public key (no server needed)."""
    with reported(as_json=json):
        key = public_key_argument(public_key)
        kept = _read_checkpoint(saved) if saved is not None else None
        text = _read(proof)
        result = _verify_text(text, key, kept)
        if json:
            print_json({"ok": True, **result})
        else:
            console.print(f"[bold green]ok[/bold green]: {result['statement']}", soft_wrap=True)


def _verify_text(text: str, key: bytes, kept: SignedCheckpoint | None) -> dict[str, Any]:
    if not text.lstrip().startswith("{"):
        checkpoint = verify_checkpoint(parse_checkpoint(text), key)
        return {
            "kind": "checkpoint",
            "tree_size": checkpoint.tree_size,
            "statement": f"checkpoint of {checkpoint.tree_size} events, signed by this key",
        }
    bundle = load_proof(text)
    if isinstance(bundle, ConsistencyProof):
        new = verify_consistency_proof(bundle, key, saved=kept)
        old_size = (kept or bundle.old).checkpoint.tree_size
        return {
            "kind": "consistency",
            "old_size": old_size,
            "new_size": new.tree_size,
            "statement": f"the log of {new.tree_size} events extends the log of {old_size}",
        }
    proved = verify_inclusion_proof(bundle, key, saved=kept)
    return {
        "kind": "inclusion",
        "seq": proved.seq,
        "tree_size": proved.checkpoint.tree_size,
        "event": proved.event,
        "statement": (
            f"event {proved.seq} ({proved.event.get('action')}) is in the signed log "
            f"of {proved.checkpoint.tree_size} events"
        ),
    }


def disclosures(
    patient: Annotated[str, typer.Option("--patient", help="The patient's id.")],
    server: ServerOption,
    token: TokenOption,
    ca: CaOption = None,
    json: JsonOption = False,
) -> None:
    """The accounting of disclosures of one patient (privacy officer's token)."""
    with reported(as_json=json):
        found = Remote(server, token, ca).get(f"/audit/disclosures/{patient}")
        if json:
            print_json(found)
            return
        table = Table(title=f"Accounting of disclosures, patient {patient}")
        for column in ("when", "who", "organisation", "what", "purpose", "outcome"):
            table.add_column(column)
        for item in found["items"]:
            resource = f"{item.get('resource_type') or ''} {item.get('resource_id') or ''}"
            what = f"{item['action']} {resource}"
            table.add_row(
                str(item["occurred_at"]),
                str(item.get("user") or "-"),
                str(item.get("organisation") or "-"),
                what.strip(),
                str(item.get("purpose") or "-"),
                str(item["outcome"]),
            )
        console.print(table)
        console.print(f"{len(found['items'])} accesses recorded")


def _bundle_text(bundle: dict[str, Any]) -> str:
    return jsonlib.dumps(bundle, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def public_key_argument(value: str) -> bytes:
    text = value
    candidate = Path(value)
    if len(value) != 64 and candidate.is_file():
        text = candidate.read_text(encoding="utf-8").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValidationFailed(
            "The public key must be 64 hex digits, or a file holding them.", where="--public-key"
        )
    return key


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        raise ValidationFailed("The file cannot be read.", where=str(path)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text.", where=str(path)) from None


def _read_checkpoint(path: Path) -> SignedCheckpoint:
    try:
        return parse_checkpoint(_read(path))
    except CheckpointMalformed as error:
        raise CheckpointMalformed(
            "The saved checkpoint is not a checkpoint.", where=f"{path}: {error.where}"
        ) from None
