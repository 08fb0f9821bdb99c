"""The byte-preserving kustomization editor: exact output for every style found in the wild."""

from __future__ import annotations

import difflib
import stat
from pathlib import Path

import pytest

from scaffolder.errors import EditError, YamlError
from scaffolder.fsutil import write_atomic
from scaffolder.kustomize_edit import Op, edit_text, normalize_entry, relative_entry
from scaffolder.yamlio import parse_documents

from .conftest import EXAMPLE, SHARED

BASELINE = "../../components/network-policy/baseline"


def add(key: str, entry: str) -> Op:
    return Op("add", key, entry)  # type: ignore[arg-type]


def remove(key: str, entry: str) -> Op:
    return Op("remove", key, entry)  # type: ignore[arg-type]


def edited(text: str, *ops: Op) -> str:
    return edit_text(text, ops).text


# --------------------------------------------------------------------------- exact outputs

HEADER = "---\n# yaml-language-server: $schema=https://json.schemastore.org/kustomization\n"


def test_components_created_before_resources_after_namespace() -> None:
    text = (
        HEADER
        + "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: media\nresources:\n  - ./app/ks.yaml\n"
    )
    assert edited(text, add("components", BASELINE)) == HEADER + (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: media\n"
        f"components:\n  - {BASELINE}\nresources:\n  - ./app/ks.yaml\n"
    )


def test_components_created_above_the_comment_describing_resources() -> None:
    text = "kind: Kustomization\n# the apps of this namespace\nresources:\n  - ./a\n"
    assert edited(text, add("components", "../c")) == (
        "kind: Kustomization\ncomponents:\n  - ../c\n# the apps of this namespace\nresources:\n  - ./a\n"
    )


def test_new_list_follows_non_indented_dash_style() -> None:
    text = "kind: Kustomization\nresources:\n- ./a\n"
    assert (
        edited(text, add("components", "../c"))
        == "kind: Kustomization\ncomponents:\n- ../c\nresources:\n- ./a\n"
    )


def test_sorted_list_gets_entry_in_sorted_place() -> None:
    text = "kind: Kustomization\nresources:\n  - ./app\n  - ./helmrelease.yaml\n"
    assert edited(text, add("resources", "./cnp-allow.yaml")) == (
        "kind: Kustomization\nresources:\n  - ./app\n  - ./cnp-allow.yaml\n  - ./helmrelease.yaml\n"
    )


def test_unsorted_list_gets_entry_at_the_end() -> None:
    text = "kind: Kustomization\nresources:\n  - ./service.yaml\n  - ./deployment.yaml\n"
    assert edited(text, add("resources", "./cnp.yaml")) == (
        "kind: Kustomization\nresources:\n  - ./service.yaml\n  - ./deployment.yaml\n  - ./cnp.yaml\n"
    )


def test_one_entry_list_counts_as_sorted() -> None:
    """Issue #7 defect 10: owners insert at the sorted place in one-entry lists too."""
    text = "kind: Kustomization\nresources:\n  - ./sonarr\n"
    assert edited(text, add("resources", "./radarr")) == (
        "kind: Kustomization\nresources:\n  - ./radarr\n  - ./sonarr\n"
    )
    assert edited(text, add("resources", "./tautulli")) == (
        "kind: Kustomization\nresources:\n  - ./sonarr\n  - ./tautulli\n"
    )
    # the comment describing the existing entry stays above it
    commented = "resources:\n  # tv\n  - ./sonarr  # inline\n"
    assert edited(commented, add("resources", "./radarr")) == (
        "resources:\n  - ./radarr\n  # tv\n  - ./sonarr  # inline\n"
    )
    assert edited("resources: [./sonarr]\n", add("resources", "./radarr")) == (
        "resources: [./radarr, ./sonarr]\n"
    )
    assert edited(
        "components:\n  - ../../components/z\n", add("components", "../../components/a")
    ) == ("components:\n  - ../../components/a\n  - ../../components/z\n")


def test_multi_entry_unsorted_lists_still_append() -> None:
    text = "resources:\n  - ./b\n  - ./a\n"
    assert edited(text, add("resources", "./0")) == "resources:\n  - ./b\n  - ./a\n  - ./0\n"


def test_insertion_goes_above_the_comments_of_the_next_entry() -> None:
    text = "resources:\n  - ./a\n  # b needs c\n  - ./b\n"
    assert (
        edited(text, add("resources", "./ab"))
        == "resources:\n  - ./a\n  - ./ab\n  # b needs c\n  - ./b\n"
    )


def test_flow_lists() -> None:
    text = "resources: [./helmrelease.yaml, ./httproute.yaml]\n"
    assert (
        edited(text, add("resources", "./cnp.yaml"))
        == "resources: [./cnp.yaml, ./helmrelease.yaml, ./httproute.yaml]\n"
    )
    assert (
        edited(text, add("resources", "./z.yaml"))
        == "resources: [./helmrelease.yaml, ./httproute.yaml, ./z.yaml]\n"
    )
    assert (
        edited(text, remove("resources", "./helmrelease.yaml")) == "resources: [./httproute.yaml]\n"
    )
    assert (
        edited(text, remove("resources", "./httproute.yaml")) == "resources: [./helmrelease.yaml]\n"
    )
    assert edited("resources: []\n", add("resources", "./a")) == "resources: [./a]\n"
    assert (
        edited("resources: [./a]  # one\n", remove("resources", "./a")) == "resources: []  # one\n"
    )


def test_crlf_and_missing_final_newline_are_kept() -> None:
    text = "kind: Kustomization\r\nresources:\r\n  - ./a\r\n  - ./b"
    assert (
        edited(text, add("resources", "./c"))
        == "kind: Kustomization\r\nresources:\r\n  - ./a\r\n  - ./b\r\n  - ./c"
    )
    assert edited(text, add("components", "../x")) == (
        "kind: Kustomization\r\ncomponents:\r\n  - ../x\r\nresources:\r\n  - ./a\r\n  - ./b"
    )


def test_quoting_follows_the_neighbours() -> None:
    text = 'resources:\n  - "./a"\n  - "./b"\n'
    assert edited(text, add("resources", "./c")) == 'resources:\n  - "./a"\n  - "./b"\n  - "./c"\n'
    text = "resources:\n  - './a'\n"
    assert edited(text, add("resources", "./b")) == "resources:\n  - './a'\n  - './b'\n"


def test_document_markers_comments_and_tabs_survive() -> None:
    text = "---\n# top\t# tabbed comment\napiVersion: v1\nkind: Kustomization\nresources:\n  - ./a  # inline\t!\n...\n"
    out = edited(text, add("resources", "./b"))
    assert (
        out
        == "---\n# top\t# tabbed comment\napiVersion: v1\nkind: Kustomization\nresources:\n  - ./a  # inline\t!\n  - ./b\n...\n"
    )


def test_multi_document_file_edits_the_kustomization() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./a\n"
    assert edited(text, add("resources", "./b")).endswith("resources:\n  - ./a\n  - ./b\n")


def test_removal_keeps_comments_of_the_removed_and_next_entries() -> None:
    text = "resources:\n  # about a\n  - ./a  # inline about a\n  # about b\n  - ./b\n\nconfigMapGenerator: []\n"
    assert (
        edited(text, remove("resources", "./a"))
        == "resources:\n  # about a\n  # about b\n  - ./b\n\nconfigMapGenerator: []\n"
    )


def test_emptying_a_list() -> None:
    assert edited(
        "kind: Kustomization\ncomponents:\n  - ../c\nresources:\n  - ./a\n",
        remove("components", "../c"),
    ) == ("kind: Kustomization\nresources:\n  - ./a\n")
    commented = (
        "kind: Kustomization\ncomponents:\n  # the baseline\n  - ../c\nresources:\n  - ./a\n"
    )
    assert edited(commented, remove("components", "../c")) == (
        "kind: Kustomization\ncomponents: []\n  # the baseline\nresources:\n  - ./a\n"
    )


def test_null_list_is_filled() -> None:
    assert (
        edited("kind: Kustomization\nresources:\n", add("resources", "./a"))
        == "kind: Kustomization\nresources:\n  - ./a\n"
    )


def test_idempotence_and_equivalent_spellings() -> None:
    text = f"components:\n  - {BASELINE}\n"
    result = edit_text(text, [add("components", f"./{BASELINE}/")])
    assert not result.changed and result.text == text
    assert "already present" in result.messages[0]
    result = edit_text(text, [remove("components", "../nope")])
    assert not result.changed and "not present" in result.messages[0]
    once = edited("resources:\n  - ./a\n", add("resources", "./b"))
    assert edited(once, add("resources", "./b")) == once


def test_normalize_and_relative_entry() -> None:
    assert normalize_entry("./../../components/x/") == "../../components/x"
    assert normalize_entry("a/../b") == "b"
    assert (
        relative_entry(
            Path("kubernetes/apps/media/kustomization.yaml"),
            Path("kubernetes/components/network-policy/baseline"),
        )
        == BASELINE
    )


@pytest.mark.parametrize(
    ("text", "error", "needle"),
    [
        ("resources:\n  - a\n bad: [\n", YamlError, ":3"),
        ("- a\n- b\n", YamlError, "expected a mapping"),
        ("resources: []\nresources: []\n", YamlError, "duplicate key 'resources'"),
        ("resources: ./a\n", EditError, "resources is not a list"),
    ],
)
def test_bad_input(text: str, error: type[Exception], needle: str) -> None:
    with pytest.raises(error) as info:
        edit_text(text, [add("resources", "./x")], source="k.yaml")
    assert needle in str(info.value)


def test_write_atomic_keeps_mode_and_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "kustomization.yaml"
    path.write_bytes(b"a\r\n")
    path.chmod(0o640)
    write_atomic(path, "b\r\n")
    assert path.read_bytes() == b"b\r\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["kustomization.yaml"]


# --------------------------------------------------------------------------- real-world files


def _real_files() -> list[Path]:
    roots = [SHARED / "corpus", EXAMPLE]
    files = sorted(p for root in roots if root.is_dir() for p in root.rglob("kustomization.yaml"))
    return files


REAL = _real_files()


@pytest.mark.skipif(not REAL, reason="no corpus")
def test_the_corpus_is_large() -> None:
    assert len(REAL) > 300


@pytest.mark.parametrize(
    "path", REAL, ids=lambda p: str(p).split("/shared/")[-1].split("/examples/")[-1]
)
def test_real_files_round_trip_byte_for_byte(path: Path) -> None:
    original = path.read_bytes().decode("utf-8")
    # a no-op edit returns the very same text
    noop = edit_text(original, [remove("resources", "./netpol-not-there.yaml")])
    assert noop.text == original and not noop.changed
    before = parse_documents(original, str(path))
    for key, entry in (
        ("components", "../../components/netpol-probe"),
        ("resources", "./netpol-probe.yaml"),
    ):
        added = edit_text(original, [add(key, entry)])
        assert added.changed
        after = parse_documents(added.text, str(path))
        # exactly one entry more, everything else equal
        assert len(after) == len(before)
        changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
        assert len(changed) == 1
        b, a = changed[0]
        assert list(a[key]) == [
            *(b.get(key) or [])[: a[key].index(entry)],
            entry,
            *(b.get(key) or [])[a[key].index(entry) :],
        ]
        assert {k: v for k, v in a.items() if k != key} == {k: v for k, v in b.items() if k != key}
        # the diff only adds lines (a flow list `[a, b]` changes its one line)
        matcher = difflib.SequenceMatcher(
            None, original.splitlines(True), added.text.splitlines(True)
        )
        changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
        assert all(tag == "insert" for tag, *_ in changes) or (
            len(changes) == 1 and changes[0][0] == "replace" and changes[0][2] - changes[0][1] == 1
        )
        removed = edit_text(added.text, [remove(key, entry)])
        assert removed.text == original, f"add-then-remove of {key} changed {path}"
