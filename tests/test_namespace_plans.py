"""Per-namespace plans: a branch can carry exactly one namespace."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from scaffolder.repo.repository import Repository
from scaffolder.workflows.scaffold import ScaffoldOptions, plan_scaffold, select_namespaces


def test_each_plan_holds_one_namespace_and_the_merged_plan_is_their_union(
    initialised_repo: Path,
) -> None:
    repo = Repository.load(initialised_repo)
    names = select_namespaces(repo, [], all_=True)
    result = plan_scaffold(repo, names, ScaffoldOptions())
    plans = result.plans
    assert list(plans) == names
    apps = repo.config.apps_dir
    touched = [c for p in plans.values() for c in p.changes]
    assert touched, "the example repository has something to scaffold"
    for name, plan in plans.items():
        for change in plan.changes:
            assert PurePosixPath(change.path).is_relative_to(apps / name), (name, change.path)
    # merged == union: the same changes, in namespace order, nothing more, nothing less
    assert [(c.path, c.new) for c in result.plan.changes] == [(c.path, c.new) for c in touched]
    assert result.plan.notes == [n for p in plans.values() for n in p.notes]
    assert result.plan.warnings == [w for p in plans.values() for w in p.warnings]
    for r in result.namespaces:
        assert r.commit_message == f"feat(netpol): baseline allow policies for {r.name}"
        assert "plan" not in r.to_json()


def test_one_namespace_plan_equals_planning_that_namespace_alone(initialised_repo: Path) -> None:
    repo = Repository.load(initialised_repo)
    names = select_namespaces(repo, [], all_=True)
    together = plan_scaffold(repo, names, ScaffoldOptions()).plans
    for name in ("media", "databases"):
        alone = plan_scaffold(repo, [name], ScaffoldOptions()).plans[name]
        assert [(c.path, c.new) for c in alone.changes] == [
            (c.path, c.new) for c in together[name].changes
        ]
