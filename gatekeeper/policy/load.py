"""Loading a policy file: YAML with positions, `extends`, merge by rule id, digest, compile.

Digest (the `policy.digest` of every Verdict): when the policy is one file, the SHA-256 of its
bytes (what `sha256sum FILE` prints). When it extends other policies or uses Rego modules, the
SHA-256 of the concatenated raw SHA-256 digests of every file it is made of, in this order: the
policy file, each file it extends (nearest first), then each Rego module in rule order.
`LoadedPolicy.files` lists them, so an auditor can recompute the digest.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import ValidationError

from gatekeeper.errors import PolicyError
from gatekeeper.policy._budget import DEFAULT_BUDGET_S
from gatekeeper.policy._build import Origin, build_rules
from gatekeeper.policy._yaml import Positions, read_yaml, validate
from gatekeeper.policy.model import Policy, Rule, Waiver
from gatekeeper.policy.problems import all_problems, raise_problems
from gatekeeper.policy.rules import RuleCheck
from gatekeeper.policy.verdict import PolicyRef

READY_SUFFIX = ".yml"
KEYS = ("rules", "waivers")


@dataclass(frozen=True)
class Document:
    """One policy file as read: its name in errors, folder, bytes, model and node positions."""

    source: str
    folder: Traversable
    data: bytes
    policy: Policy
    positions: Positions
    problems: tuple[PolicyError, ...] = ()
    """Shape problems of rules and waivers left out of `policy` (so the rest still compiles)."""
    rules_at: tuple[int, ...] | None = None
    """Each kept rule's index in the file (None: every rule was kept)."""
    waivers_at: tuple[int, ...] | None = None
    dropped_ids: frozenset[str] = frozenset()
    """Ids of the rules left out: waivers naming them are not reported as unknown."""

    def rule_index(self, kept: int) -> int:
        """The index in the file of the `kept`-th rule of `policy`."""
        return kept if self.rules_at is None else self.rules_at[kept]

    def waiver_index(self, kept: int) -> int:
        """The index in the file of the `kept`-th waiver of `policy`."""
        return kept if self.waivers_at is None else self.waivers_at[kept]


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy ready to evaluate: the merged model, compiled rules and the digest."""

    policy: Policy
    rules: tuple[RuleCheck, ...]
    digest: str
    files: tuple[tuple[str, str], ...]
    source: str
    cel_reads: frozenset[str]

    @property
    def name(self) -> str:
        """The policy's name."""
        return self.policy.name

    @property
    def ref(self) -> PolicyRef:
        """Name and digest, as the Verdict carries them."""
        return PolicyRef(name=self.policy.name, digest=self.digest)


def ready_policies_folder() -> Traversable:
    """The ready policies shipped inside the package (the same files as `policies/`)."""
    return importlib.resources.files("gatekeeper").joinpath("data", "policies")


def ready_policy_names() -> tuple[str, ...]:
    """Names of the ready policies, e.g. `pull-request`, `iso9001-release`."""
    folder = ready_policies_folder()
    return tuple(
        sorted(
            item.name.removesuffix(READY_SUFFIX)
            for item in folder.iterdir()
            if item.name.endswith(READY_SUFFIX)
        )
    )


def _is_ready_name(reference: str) -> bool:
    return (
        "/" not in reference and "\\" not in reference and not reference.endswith((".yml", ".yaml"))
    )


def _read_document(source: str, folder: Traversable, data: bytes) -> Document:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PolicyError(source, f"not UTF-8 text (byte {error.start})") from error
    raw, positions = read_yaml(source, text)
    try:
        policy = validate(Policy, raw, source, positions)
    except PolicyError as error:
        return _without_bad_items(
            source=source, folder=folder, data=data, raw=raw, positions=positions, error=error
        )
    return Document(source, folder, data, policy, positions)


def _valid(model: type[Rule] | type[Waiver], item: object) -> bool:
    try:
        model.model_validate(item)
    except ValidationError:
        return False
    return True


def _without_bad_items(
    *,
    source: str,
    folder: Traversable,
    data: bytes,
    raw: object,
    positions: Positions,
    error: PolicyError,
) -> Document:
    """The document without the rules and waivers whose shape is wrong, carrying their problems,
    so that the other rules are still compiled and checked; `error` when the rest is wrong too."""
    rules, waivers = (raw.get(key) if isinstance(raw, dict) else None for key in KEYS)
    if not isinstance(raw, dict) or not isinstance(rules, list | tuple | type(None)):
        raise error
    if not isinstance(waivers, list | tuple | type(None)):
        raise error
    rules_at = tuple(i for i, item in enumerate(rules or ()) if _valid(Rule, item))
    waivers_at = tuple(i for i, item in enumerate(waivers or ()) if _valid(Waiver, item))
    dropped = frozenset(
        str(item["id"])
        for i, item in enumerate(rules or ())
        if i not in rules_at and isinstance(item, dict) and isinstance(item.get("id"), str)
    )
    kept = {
        **raw,
        "rules": [rules[i] for i in rules_at] if rules else [],
        "waivers": [waivers[i] for i in waivers_at] if waivers else [],
    }
    try:
        policy = Policy.model_validate(kept)
    except ValidationError:
        raise error from None
    problems = all_problems(error)
    return Document(
        source, folder, data, policy, positions, problems, rules_at, waivers_at, dropped
    )


def _open(reference: str, folder: Traversable | None, requested_by: str) -> Document:
    """The document `reference` names: a path (relative to `folder`) or a ready policy by name."""
    path = Path(reference) if folder is None else Path(str(folder.joinpath(reference)))
    if not path.is_file() and _is_ready_name(reference):
        ready = ready_policies_folder().joinpath(reference + READY_SUFFIX)
        if not ready.is_file():
            names = ", ".join(ready_policy_names())
            raise PolicyError(requested_by, f"no ready policy '{reference}' (ready: {names})")
        return _read_document(f"policies/{ready.name}", ready_policies_folder(), ready.read_bytes())
    try:
        data = path.read_bytes()
    except OSError as error:
        hint = ""
        if isinstance(error, FileNotFoundError):
            hint = f"; or use a ready policy by name: {', '.join(ready_policy_names())}"
        raise PolicyError(
            requested_by, f"cannot read policy {path}: {error.strerror}{hint}"
        ) from error
    return _read_document(str(path), path.parent, data)


def _chain(path: str | Path) -> list[Document]:
    """The policy file and every file it extends, nearest first; cycles are errors."""
    first = _open(str(path), None, str(path))
    chain = [first]
    seen = {first.source}
    while chain[-1].policy.extends is not None:
        current = chain[-1]
        extends = str(current.policy.extends)
        parent = _open(extends, current.folder, current.source)
        if parent.source in seen:
            mark = current.positions.of(("extends",))
            raise PolicyError(
                current.source,
                f"extends '{extends}' makes a cycle",
                line=mark.line if mark else None,
                column=mark.column if mark else None,
            )
        seen.add(parent.source)
        chain.append(parent)
    return chain


def _merge(
    chain: list[Document], problems: list[PolicyError]
) -> tuple[list[tuple[Rule, Origin]], list[tuple[Waiver, Origin]]]:
    """Rules by id (a nearer file's rule replaces a farther one in place), waivers of all files;
    a duplicate id goes to `problems`."""
    rules: dict[str, tuple[Rule, Origin]] = {}
    waivers: list[tuple[Waiver, Origin]] = []
    for document in reversed(chain):
        own: set[str] = set()
        problems.extend(document.problems)
        for kept, rule in enumerate(document.policy.rules):
            index = document.rule_index(kept)
            origin = Origin(document.source, document.folder, document.positions, index)
            if rule.id in own:
                problems.append(
                    origin.error(("rules", index, "id"), f"duplicate rule id '{rule.id}'")
                )
            own.add(rule.id)
            rules[rule.id] = (rule, origin)
        for kept, waiver in enumerate(document.policy.waivers):
            if waiver.rule in document.dropped_ids:
                continue
            index = document.waiver_index(kept)
            waivers.append(
                (waiver, Origin(document.source, document.folder, document.positions, index))
            )
    return list(rules.values()), waivers


def _digest(contents: list[bytes]) -> str:
    if len(contents) == 1:
        return hashlib.sha256(contents[0]).hexdigest()
    joined = b"".join(hashlib.sha256(content).digest() for content in contents)
    return hashlib.sha256(joined).hexdigest()


def load_policy(path: str | Path, *, budget: float = DEFAULT_BUDGET_S) -> LoadedPolicy:
    """Load, merge, check and compile the policy at `path` (or a ready policy by name); each CEL
    rule's type probe may run `budget` seconds."""
    chain = _chain(path)
    problems: list[PolicyError] = []
    rules, waivers = _merge(chain, problems)
    root = chain[0]
    if not rules:
        raise_problems(problems)
        raise PolicyError(root.source, "the policy has no rules; an empty gate would pass anything")
    try:
        built = build_rules(rules, waivers, budget=budget)
    except PolicyError as error:
        raise_problems(problems + list(all_problems(error)))
        raise
    raise_problems(problems)
    files = [(doc.source, doc.data) for doc in chain] + list(built.modules)
    merged = root.policy.model_copy(
        update={
            "rules": tuple(rule for rule, _ in rules),
            "waivers": tuple(waiver for waiver, _ in waivers),
            "description": root.policy.description
            or next((d.policy.description for d in chain if d.policy.description), None),
            "issue_pattern": next(
                (d.policy.issue_pattern for d in chain if d.policy.issue_pattern), None
            ),
        }
    )
    return LoadedPolicy(
        policy=merged,
        rules=built.rules,
        digest=_digest([data for _, data in files]),
        files=tuple((name, hashlib.sha256(data).hexdigest()) for name, data in files),
        source=root.source,
        cel_reads=built.cel_reads,
    )
