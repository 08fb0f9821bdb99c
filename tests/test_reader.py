"""The discovery reader's path handling: string joins, model paths, directory listings."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from scaffolder.core.errors import YamlError
from scaffolder.discovery import discover_all, discover_namespace
from scaffolder.discovery.reader import Reader, _pure_path, child, join, parent_of

from .conftest import build_file_tree
from .test_discovery import (
    APP_KUSTOMIZATION,
    HELMRELEASE,
    KS,
    NS_KUSTOMIZATION,
    SIMPLE_VALUES,
    _at,
    _repo,
)

ENTRIES = [
    "",
    ".",
    "./",
    "..",
    "../x",
    "./app/ks.yaml",
    "helmrelease.yaml",
    "app//ks.yaml",
    "app/./ks.yaml",
    "app/../other/ks.yaml",
    "app/",
    "./.hidden/x.yaml",
    "/abs/x.yaml",
    "//x",
    "a/b/c",
    "${APP}/ks.yaml",
]


@pytest.mark.parametrize("base", [".", "a", "kubernetes/apps/team"])
@pytest.mark.parametrize("entry", ENTRIES)
def test_join_is_normpath(base: str, entry: str) -> None:
    expected = posixpath.normpath(posixpath.join(base, entry))
    assert join(base, entry) == expected == str(PurePosixPath(expected))


@pytest.mark.parametrize("rel", ["a", "a/b.yaml", "kubernetes/apps/team/kustomization.yaml"])
def test_parent_and_child_are_pathlibs(rel: str) -> None:
    assert parent_of(rel) == str(PurePosixPath(rel).parent)
    assert child(rel, "k.yaml") == str(PurePosixPath(rel) / "k.yaml")
    assert child(".", "k.yaml") == str(PurePosixPath(".") / "k.yaml")


@pytest.mark.parametrize(
    "rel", [".", "a", "a/b", "..", "../a", "/a", "//a", "a/./b", "./a", "a/", "${X}/app", "x/.h"]
)
def test_model_paths_equal_pure_posix_paths(rel: str) -> None:
    made, parsed = _pure_path(rel), PurePosixPath(rel)
    assert type(made) is PurePosixPath
    assert made == parsed and hash(made) == hash(parsed)
    assert str(made) == str(parsed) and made.parts == parsed.parts and repr(made) == repr(parsed)


def _record_listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every directory discovery lists, as real paths."""
    listed: list[str] = []
    scandir = os.scandir

    def recording(path: Any) -> Iterator[os.DirEntry[str]]:
        listed.append(os.path.realpath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", recording)
    return listed


def test_nothing_outside_the_repository_is_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _repo(tmp_path / "repo", {"a": SIMPLE_VALUES})
    outside = build_file_tree(
        tmp_path / "outside",
        {
            "evil/ks.yaml": KS.format(app="evil", ns="team"),
            "evil/app/kustomization.yaml": APP_KUSTOMIZATION,
            "evil/app/helmrelease.yaml": HELMRELEASE.format(app="evil", values=SIMPLE_VALUES),
        },
    )
    ns_dir = root / "kubernetes/apps/team"
    (ns_dir / "evil").symlink_to(outside / "evil")
    (ns_dir / "a" / "linked").symlink_to(outside / "evil/app")
    (ns_dir / "kustomization.yaml").write_text(
        NS_KUSTOMIZATION.format(
            entries="  - ./a/ks.yaml\n  - ./evil/ks.yaml\n  - ./evil/app\n  - ./a/linked"
        )
    )
    listed = _record_listings(monkeypatch)
    ns = discover_namespace(_at(root), "team")
    assert [a.name for a in ns.apps] == ["a"]
    assert sum("outside the repository" in w for w in ns.warnings) == 3, ns.warnings
    real_root = os.path.realpath(root)
    assert listed and all(p == real_root or p.startswith(real_root + os.sep) for p in listed)


def test_each_directory_is_listed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _repo(tmp_path, {"a": SIMPLE_VALUES, "b": SIMPLE_VALUES})
    listed = _record_listings(monkeypatch)
    (ns,) = discover_all(_at(root))
    assert [a.name for a in ns.apps] == ["a", "b"]
    assert len(listed) == len(set(listed))


def test_files_with_the_same_text_share_their_documents(tmp_path: Path) -> None:
    root = _repo(tmp_path, {"a": SIMPLE_VALUES, "b": SIMPLE_VALUES})
    reader = Reader(root)
    a, b = (f"kubernetes/apps/team/{app}/app/kustomization.yaml" for app in "ab")
    first = reader.docs(a, str(root / a))
    same = reader.docs(b, str(root / b))
    assert first == [{"resources": ["./helmrelease.yaml"]}]
    assert same is first  # parsed once; discovery never changes documents
    with pytest.raises(YamlError, match="file not found"):
        reader.docs("kubernetes/apps/team/a/app/missing.yaml", str(root / "missing.yaml"))
