"""``netpol init`` and ``netpol upgrade``: put the components into a repository and keep them current."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import PathEscapeError, RepoError, YamlError
from scaffolder.core.fs import relpath, repo_path
from scaffolder.edit.plan import Plan
from scaffolder.repo.config import CONFIG_FILE, Config, load_config, render_config
from scaffolder.repo.layout import scan
from scaffolder.repo.repository import Repository
from scaffolder.templates.managed import (
    ManagedState,
    plan_rendering,
    read_state,
    require_no_conflicts,
)
from scaffolder.templates.render import ANSWERS_FILE, BASELINE, DEFAULT_DENY, OVERLAY, render
from scaffolder.workflows.detect import detect_settings

_SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__"}


@dataclass(frozen=True)
class DetectedLayout:
    """Where ``netpol init`` found (or was told) the apps and components directories."""

    apps_dir: PurePosixPath
    components_dir: PurePosixPath
    namespaces: tuple[str, ...]


def _namespaces(root: Path, apps_dir: PurePosixPath) -> list[str]:
    """The active namespaces of a candidate apps directory (none if it cannot be read)."""
    try:
        return scan(root, apps_dir).namespaces()
    except (RepoError, YamlError, PathEscapeError):
        return []


def detect_layout(
    root: Path, apps_dir: str | None = None, components_dir: str | None = None
) -> DetectedLayout:
    """Find the Flux apps directory: given, else the ``apps`` dir with the most namespaces."""
    if apps_dir is not None:
        try:
            candidate = repo_path(root, apps_dir)
        except PathEscapeError as exc:
            raise RepoError(
                f"apps directory {apps_dir}: must be a directory inside the repository {root}",
                hint="give a path relative to the repository root, e.g. kubernetes/apps",
            ) from exc
        if not candidate.is_dir():
            raise RepoError(f"apps directory {apps_dir} does not exist in {root}")
        best = PurePosixPath(posixpath.normpath(apps_dir))
    else:
        found: list[tuple[int, int, PurePosixPath]] = []
        for path in _walk_dirs(root, depth=4):
            if path.name == "apps":
                rel = relpath(root, path)
                count = len(_namespaces(root, rel))
                if count:
                    preferred = 0 if str(rel) == "kubernetes/apps" else 1
                    found.append((-count, preferred, rel))
        if not found:
            raise RepoError(
                f"no Flux apps directory (<dir>/apps/<namespace>/kustomization.yaml) found in {root}",
                hint="pass --apps-dir",
            )
        best = min(found)[2]
    components = PurePosixPath(components_dir) if components_dir else best.parent / "components"
    return DetectedLayout(best, components, tuple(_namespaces(root, best)))


def _walk_dirs(root: Path, depth: int) -> Iterable[Path]:
    frontier = [root]
    for _ in range(depth):
        nxt = []
        for directory in frontier:
            try:
                children = [c for c in directory.iterdir() if c.is_dir() and not c.is_symlink()]
            except OSError:
                continue
            for child in children:
                if child.name not in _SKIP_DIRS:
                    yield child
                    nxt.append(child)
        frontier = nxt


def _require_directories(root: Path, directory: PurePosixPath) -> None:
    """Every existing part of ``directory`` is a directory (netpol renders files into it)."""
    for part in (*reversed(directory.parents), directory):
        here = root / part
        if here.exists() and not here.is_dir():
            raise RepoError(
                f"{part} is a file, but netpol renders the component {directory}/ there",
                hint="move the file away, or choose another components directory "
                "(init --components-dir, or components_dir in netpol.yaml)",
            )


@dataclass
class InitResult:
    plan: Plan
    config: Config
    layout: DetectedLayout
    adopted: list[PurePosixPath] = field(default_factory=list)


def _validate(plan: Plan) -> None:
    from scaffolder.policy.schema import precompile, validate_text

    precompile()
    for change in plan.effective:
        if (
            change.new is not None
            and change.path.suffix in {".yaml", ".yml"}
            and change.path.name != ANSWERS_FILE
        ):
            validate_text(change.new.decode("utf-8"), str(change.path))


def plan_init(
    root: Path,
    *,
    apps_dir: str | None = None,
    components_dir: str | None = None,
    overwrite: bool = False,
    overrides: dict[str, Any] | None = None,
    engine: str = "copier",
) -> InitResult:
    """Plan everything ``netpol init`` writes; nothing is written here."""
    plan = Plan()
    config_path = root / CONFIG_FILE
    if config_path.exists() and not config_path.is_file():
        raise RepoError(
            f"{config_path} is not a file",
            hint=f"netpol writes its configuration there; move the directory {CONFIG_FILE} away",
        )
    if config_path.is_file() and not overwrite:
        config = load_config(config_path)
        layout = detect_layout(root, str(config.apps_dir), str(config.components_dir))
        plan.notes.append(f"{CONFIG_FILE} exists; kept as it is")
        if overrides or apps_dir or components_dir:
            plan.warnings.append(
                f"options given on the command line are ignored because {CONFIG_FILE} exists: "
                "edit it, or rerun 'netpol init --overwrite' with them to rewrite it"
            )
    else:
        layout = detect_layout(root, apps_dir, components_dir)
        detected = detect_settings(root, layout.apps_dir, list(layout.namespaces))
        given = overrides or {}
        plan.notes.extend(note for key, note in detected.notes.items() if key not in given)
        config = replace(
            Config(),
            apps_dir=layout.apps_dir,
            components_dir=layout.components_dir,
            **{**detected.settings, **given},
        )
        plan.write(
            root, PurePosixPath(CONFIG_FILE), render_config(config).encode(), "netpol configuration"
        )
    adopted = []
    for directory in (config.baseline_dir, config.default_deny_dir):
        _require_directories(root, directory)
    for template, directory, answers in (
        (BASELINE, config.baseline_dir, config.baseline_answers()),
        (DEFAULT_DENY, config.default_deny_dir, config.default_deny_answers()),
    ):
        outcome = plan_rendering(
            root, directory, render(template, answers, engine=engine), overwrite=overwrite
        )
        require_no_conflicts(outcome, command="netpol init")
        if outcome.adopted:
            adopted.append(directory)
        plan.extend(outcome.plan)
    _validate(plan)
    return InitResult(plan, config, layout, adopted)


@dataclass
class UpgradeResult:
    plan: Plan
    managed: list[PurePosixPath]
    adopted: list[PurePosixPath]
    conflicts: list[PurePosixPath]


def managed_states(repo: Repository) -> list[ManagedState]:
    """Every directory netpol rendered: the components plus every per-app overlay."""
    config = repo.config
    seen: dict[PurePosixPath, ManagedState] = {}
    for directory in (config.baseline_dir, config.default_deny_dir, *repo.managed_directories()):
        seen[directory] = read_state(repo.root, directory)
    return list(seen.values())


def _template_for(state: ManagedState, config: Config) -> str | None:
    if state.template:
        return state.template
    if state.directory == config.baseline_dir:
        return BASELINE
    if state.directory == config.default_deny_dir:
        return DEFAULT_DENY
    return None


def _defaults_for(template: str, config: Config) -> dict[str, Any]:
    if template == BASELINE:
        return config.baseline_answers()
    if template == DEFAULT_DENY:
        return config.default_deny_answers()
    return {}


def plan_upgrade(
    repo: Repository, *, overwrite: bool = False, engine: str = "copier"
) -> UpgradeResult:
    """Re-render every managed directory with its recorded answers and the current templates."""
    root, config = repo.root, repo.config
    plan = Plan()
    managed, adopted, conflicts = [], [], []
    for state in managed_states(repo):
        template = _template_for(state, config)
        if template is None or template not in (BASELINE, DEFAULT_DENY, OVERLAY):
            plan.warnings.append(f"{state.directory}/{ANSWERS_FILE}: unknown template; skipped")
            continue
        if not state.managed and not state.adopted:
            plan.notes.append(f"{state.directory}: missing; run 'netpol init' to render it")
            continue
        if state.adopted and not overwrite:
            adopted.append(state.directory)
            plan.notes.append(
                f"{state.directory}: not template-managed; left untouched ('netpol upgrade --overwrite' takes it over)"
            )
            continue
        answers = {**_defaults_for(template, config), **state.answers}
        outcome = plan_rendering(
            root,
            state.directory,
            # Overlays can number thousands: the fast engine renders them byte-identically.
            render(template, answers, engine=engine if template != OVERLAY else "fast"),
            overwrite=overwrite,
            state=state,
            reason=f"upgrade {template}",
        )
        managed.append(state.directory)
        conflicts.extend(outcome.conflicts)
        plan.extend(outcome.plan)
    _validate(plan)
    return UpgradeResult(plan, managed, adopted, conflicts)
