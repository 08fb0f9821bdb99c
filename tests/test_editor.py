"""The byte-preserving kustomization editor: exact output for every style found in the wild."""

from __future__ import annotations

import difflib
import re
import stat
from pathlib import Path

import pytest

from scaffolder.core.errors import EditError, YamlError
from scaffolder.core.fs import write_atomic
from scaffolder.core.yamlio import parse_documents
from scaffolder.edit.kustomization import (
    Op,
    check_target,
    edit_text,
    is_remote,
    normalize_entry,
    relative_entry,
)

from .conftest import CORPUS, EXAMPLE, build_file_tree, shared_params

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
    text = "---\n# top\t# tabbed comment\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./a  # inline\t!\n...\n"
    out = edited(text, add("resources", "./b"))
    assert (
        out
        == "---\n# top\t# tabbed comment\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ./a  # inline\t!\n  - ./b\n...\n"
    )


def test_multi_document_file_is_refused_saying_where() -> None:
    """kustomize reads only the first document; netpol refuses and names the second's line."""
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n---\napiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - ./a\n"
    with pytest.raises(YamlError, match=r"^k\.yaml:6: 2 YAML documents"):
        edit_text(text, [add("resources", "./b")], source="k.yaml")
    # empty documents around the one kustomization are fine
    assert edited("---\nresources:\n  - ./a\n---\n", add("resources", "./b")) == (
        "---\nresources:\n  - ./a\n  - ./b\n---\n"
    )


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


CORPUS_KUSTOMIZATIONS = sorted(CORPUS.rglob("kustomization.yaml")) if CORPUS.is_dir() else []


def test_the_corpus_is_large(shared: Path) -> None:
    assert len(CORPUS_KUSTOMIZATIONS) > 300


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLE.rglob("kustomization.yaml")),
    ids=lambda p: p.relative_to(EXAMPLE).as_posix(),
)
def test_example_files_round_trip_byte_for_byte(path: Path) -> None:
    _round_trip(path)


@pytest.mark.parametrize("path", shared_params(CORPUS_KUSTOMIZATIONS, base=CORPUS))
def test_corpus_files_round_trip_byte_for_byte(shared: Path, path: Path) -> None:
    _round_trip(path)


def _round_trip(path: Path) -> None:
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


# --------------------------------------------------------------------------- issue #7, defect 6:
# entries that would break the kustomization, files that are not kustomizations


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ("", "the entry is empty"),
        ("   ", "only whitespace"),
        ("a\nb", "line break"),
        ("a\rb", "line break"),
        ("a\u2028b", "line break"),
        ("a\x85b", "line break"),
        ("a\tb", "control character U+0009"),
        ("a\x00b", "control character U+0000"),
        ("a\x7fb", "control character U+007F"),
        ("\ufeffa", "control character U+FEFF"),
        ("a\udcffb", "U+DCFF, which YAML text cannot hold"),
        ("a\ufffe", "U+FFFE, which YAML text cannot hold"),
        (" ./a", "leading or trailing whitespace"),
        ("./a ", "leading or trailing whitespace"),
        ("#comment", "starts a YAML comment"),
        ("./a #comment", "starts a YAML comment"),
    ],
)
def test_entries_that_cannot_be_one_list_item_are_refused(entry: str, needle: str) -> None:
    text = "resources:\n  - ./a\n"
    for key in ("components", "resources"):
        with pytest.raises(EditError, match=re.escape(needle)) as info:
            edit_text(text, [add(key, entry)])
        assert "\n" not in str(info.value)  # one line, whatever the entry holds


def test_removing_needs_a_non_empty_entry_only() -> None:
    with pytest.raises(EditError, match="cannot remove '' from resources: the entry is empty"):
        edit_text("resources:\n  - ./a\n", [remove("resources", "")])
    with pytest.raises(EditError, match="only whitespace"):
        edit_text("resources:\n  - ./a\n", [remove("resources", " \t")])
    result = edit_text("resources:\n  - ./a\n", [remove("resources", "a\tb")])
    assert not result.changed and "not present" in result.messages[0]


def test_a_refused_entry_stops_every_op() -> None:
    with pytest.raises(EditError):
        edit_text("resources:\n  - ./a\n", [add("resources", "./b"), add("resources", "")])


@pytest.mark.parametrize(
    "entry",
    [
        "null", "~", "true", "no", "123", "0o17", "1e3", "*x", "&a", "!t", "[a]", "{a}", "a: b",
        "- a", "'q'", '"q"', "a,b", "a, b", "a]b", "a}b", "%x", "@x", "`x", "? x", "|", ">",
        "a:", "a#b", "é/ü.yaml", "é: x", "😀: x", "a\\b: c", "dir with space/x.yaml", "a'b", 'a"b', "\\x",
    ],
)  # fmt: skip
def test_entries_yaml_would_reinterpret_are_quoted_and_reparse_exactly(entry: str) -> None:
    styles = [
        "kind: Kustomization\nresources:\n  - ./a\n  - ./b\n",
        "kind: Kustomization\nresources:\n  - './a'\n",
        'kind: Kustomization\nresources:\n  - "./a"\n',
        "kind: Kustomization\nresources: [./a, ./b]\n",
        "kind: Kustomization\nresources: ['./a']\n",
        "kind: Kustomization\nresources: []\n",
        "kind: Kustomization\nresources:\n",
        "kind: Kustomization\n",
    ]
    for text in styles:
        out = edit_text(text, [add("resources", entry)]).text
        (data,) = parse_documents(out, "k")
        assert entry in data["resources"], (text, out)
        assert (
            len(data["resources"]) == len(parse_documents(text, "k")[0].get("resources") or []) + 1
        )
        if "./a" in text:  # add-then-remove gives the original bytes back
            assert edited(out, remove("resources", entry)) == text


def test_entry_is_compared_exactly_after_the_edit() -> None:
    """The re-parse must hold the very string asked for (the old check stripped spaces)."""
    text = "resources: [./a]\n"
    assert edited(text, add("resources", "b,c")) == 'resources: [./a, "b,c"]\n'
    assert edited(text, add("resources", "./b")) == "resources: [./a, ./b]\n"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\n",
            "k.yaml is a HelmRelease, not a kustomization (apiVersion: helm.toolkit.fluxcd.io/v2)",
        ),
        (
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  path: ./x\n",
            "k.yaml is a Flux Kustomization (kustomize.toolkit.fluxcd.io/v1), not a kustomization",
        ),
        ("apiVersion: v1\nkind: ConfigMap\n", "k.yaml is a ConfigMap, not a kustomization"),
        ("kind: Namespace\nresources: []\n", "k.yaml is a Namespace, not a kustomization"),
        (
            "apiVersion: v1\nkind: Kustomization\nresources: []\n",
            "k.yaml is not a kustomization: kind Kustomization with apiVersion v1",
        ),
        ("apiVersion: apps/v1\nresources: []\n", "is not a kustomization: kind - with apiVersion"),
    ],
)
def test_a_file_that_is_not_a_kustomization_says_what_it_is(text: str, needle: str) -> None:
    with pytest.raises(EditError) as info:
        edit_text(text, [add("resources", "./x")], source="k.yaml")
    assert needle in str(info.value)
    assert "expected a mapping" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "resources: []\n",
        "apiVersion: kustomize.config.k8s.io/v1beta1\nresources: []\n",
        "kind: Component\nresources: []\n",
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: []\n",
    ],
)
def test_kustomizations_may_omit_api_version_or_kind(text: str) -> None:
    assert edit_text(text, [add("resources", "./x")]).changed


@pytest.mark.parametrize(
    ("text", "key", "needle"),
    [
        ("resources: &res\n  - ./a\n", "resources", ":1: resources uses the YAML anchor &res"),
        (
            "base: &res\n  - ./a\nresources: *res\n",
            "resources",
            ":3: resources uses the YAML alias *res",
        ),
        (
            "x: &x ./z\nresources:\n  - ./a\n  - *x\n",
            "resources",
            ":4: resources uses the YAML alias *x",
        ),
        ("resources:\n  - &e ./a\n", "resources", ":2: resources uses the YAML anchor &e"),
        ("&k resources:\n  - ./a\n", "resources", ":1: resources uses the YAML anchor &k"),
        (
            "resources: &r [./a]\ncomponents: *r\n",
            "components",
            ":2: components uses the YAML alias *r",
        ),
    ],
)
def test_anchors_and_aliases_on_the_edited_key_are_refused(
    text: str, key: str, needle: str
) -> None:
    for op in (add(key, "./new"), remove(key, "./a")):
        with pytest.raises(YamlError) as info:
            edit_text(text, [op], source="k.yaml")
        assert needle in str(info.value) and "edit it by hand" in str(info.value)


def test_anchors_elsewhere_do_not_matter() -> None:
    text = "labels: &l\n  app: x\ncommonLabels: *l\nresources:\n  - ./a\n"
    assert edited(text, add("resources", "./b")) == text + "  - ./b\n"
    # and the other key of an aliased pair is editable when it is not involved
    assert edited(
        "resources:\n  - ./a\npatches: &p []\nx: *p\n", add("components", "../c")
    ).startswith("components:\n  - ../c\nresources:\n")


def test_invalid_yaml_says_where() -> None:
    with pytest.raises(YamlError, match=r"^k\.yaml:3: "):
        edit_text("resources:\n  - ./a\n bad: [\n", [add("resources", "./b")], source="k.yaml")
    with pytest.raises(YamlError, match=r"^k\.yaml:2: found undefined alias"):
        edit_text("resources:\n  - *nope\n", [add("resources", "./b")], source="k.yaml")


# --------------------------------------------------------------------------- check_target:
# what `kustomize build` (default load restrictor) would refuse, and leaving the repository

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n"
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
COMPONENT = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"


def kustomize_tree(tmp: Path, *, git: bool = True) -> Path:
    """``tmp/repo`` (a git repository when ``git``) with a kustomization at apps/media
    (returned: its directory) and every kind of target; ``tmp/outside`` lies beyond it."""
    files = {
        "repo/file.yaml": CM.format("file"),
        "repo/base/kustomization.yaml": KUSTOMIZATION + "resources:\n  - cm.yaml\n",
        "repo/base/cm.yaml": CM.format("base"),
        "repo/comp/kustomization.yaml": COMPONENT + "resources:\n  - cm.yaml\n",
        "repo/comp/cm.yaml": CM.format("comp"),
        "repo/nokust/cm.yaml": CM.format("nokust"),
        "repo/apps/media/kustomization.yaml": KUSTOMIZATION + "resources:\n  - ./cm.yaml\n",
        "repo/apps/media/cm.yaml": CM.format("media"),
        "repo/apps/media/sub/s.yaml": CM.format("sub"),
        "outside/o.yaml": CM.format("outside-file"),
        "outside/k/kustomization.yaml": KUSTOMIZATION + "resources:\n  - cm.yaml\n",
        "outside/k/cm.yaml": CM.format("outside-dir"),
    }
    if git:
        files["repo/.git/HEAD"] = "ref: refs/heads/main\n"
    build_file_tree(tmp, files)
    media = tmp / "repo/apps/media"
    (media / "link.yaml").symlink_to("../../../outside/o.yaml")
    (media / "linkdir").symlink_to("../../base")
    (media / "outlink").symlink_to("../../../outside/k")
    return media


# (key, entry) netpol accepts, and `kustomize build` builds.
ACCEPTED = [
    ("resources", "cm.yaml"),
    ("resources", "sub/s.yaml"),
    ("resources", "./sub/../sub/s.yaml"),
    ("resources", "../media/sub/s.yaml"),
    ("resources", "../../base"),
    ("resources", "../../base/"),
    ("resources", "linkdir"),
    ("components", "../../comp"),
]
# (key, entry, why) netpol refuses, and so does `kustomize build`.
REFUSED_BY_KUSTOMIZE = [
    ("resources", "/etc/passwd", "an absolute path; kustomize refuses them"),
    ("resources", "{repo}/base", "an absolute path; kustomize refuses them"),
    ("components", "{repo}/comp", "an absolute path; kustomize refuses them"),
    ("resources", "../../../../../../../../../../etc/passwd", "'..' leave the repository"),
    ("resources", "../../file.yaml", "a file outside the kustomization's directory"),
    ("resources", "link.yaml", "through a symlink"),
    ("resources", "./missing.yaml", "does not exist"),
    ("resources", "./missing/", "does not exist"),
    ("resources", ".", "this kustomization's own directory or a parent"),
    ("resources", "./", "this kustomization's own directory or a parent"),
    ("resources", "..", "this kustomization's own directory or a parent"),
    ("resources", "../..", "this kustomization's own directory or a parent"),
    ("resources", "kustomization.yaml", "this kustomization file itself"),
    ("resources", "../../nokust", "has no kustomization.yaml"),
    ("resources", "sub", "has no kustomization.yaml"),
    ("resources", "../../comp", "is a Component; add it under components:"),
    ("components", "cm.yaml", "it is a file; a component is a directory"),
    ("components", "../../base", "components: takes kind Component"),
]
# (key, entry, why) netpol refuses although `kustomize build` here would build it: Flux
# builds from a checkout of the repository alone (under another directory name).
REFUSED_BY_NETPOL_ONLY = [
    ("resources", "../../../outside/k", "'..' leave the repository"),
    ("resources", "../../../repo/base", "'..' leave the repository"),
    ("resources", "outlink", "through a symlink"),
]


@pytest.mark.parametrize(("key", "entry"), ACCEPTED)
def test_check_target_accepts_what_kustomize_builds(tmp_path: Path, key: str, entry: str) -> None:
    media = kustomize_tree(tmp_path)
    check_target(add(key, entry), media / "kustomization.yaml", tmp_path / "repo")


@pytest.mark.parametrize(("key", "entry", "why"), REFUSED_BY_KUSTOMIZE + REFUSED_BY_NETPOL_ONLY)
def test_check_target_refuses_with_the_reason(
    tmp_path: Path, key: str, entry: str, why: str
) -> None:
    media = kustomize_tree(tmp_path)
    entry = entry.replace("{repo}", str(tmp_path / "repo"))
    with pytest.raises(EditError) as info:
        check_target(add(key, entry), media / "kustomization.yaml", tmp_path / "repo")
    assert why in str(info.value)
    assert str(info.value).startswith(f"cannot add {entry!r} to {key}: ")


def test_check_target_without_a_repository_applies_kustomize_rules_only(tmp_path: Path) -> None:
    media = kustomize_tree(tmp_path, git=False)
    k = media / "kustomization.yaml"
    check_target(add("resources", "../../../outside/k"), k, None)  # kustomize builds it
    with pytest.raises(EditError, match="a file outside the kustomization's directory"):
        check_target(add("resources", "link.yaml"), k, None)
    with pytest.raises(EditError, match="a file outside the kustomization's directory"):
        check_target(add("resources", "../../../../../../../../../../etc/passwd"), k, None)


@pytest.mark.parametrize(
    "entry",
    [
        "https://github.com/org/repo//deploy?ref=v1.2.3",
        "github.com/org/repo/deploy?ref=main",
        "git@github.com:org/repo.git//deploy",
        "ssh://git@github.com/org/repo.git",
        "git::https://example.com/repo.git",
        "oci://ghcr.io/org/manifests:1.0",
        "https://raw.githubusercontent.com/org/repo/main/x.yaml",
    ],
)
def test_remote_references_are_left_to_kustomize(tmp_path: Path, entry: str) -> None:
    assert is_remote(entry)
    media = kustomize_tree(tmp_path)
    check_target(add("resources", entry), media / "kustomization.yaml", tmp_path / "repo")
    assert edited("resources:\n  - ./cm.yaml\n", add("resources", entry)).count(entry) == 1


def test_removal_and_present_entries_are_not_checked_against_the_tree(tmp_path: Path) -> None:
    media = kustomize_tree(tmp_path)
    k = media / "kustomization.yaml"
    check_target(remove("resources", "/etc/passwd"), k, tmp_path / "repo")
    seen: list[Op] = []
    result = edit_text(
        "kind: Kustomization\nresources:\n  - ./gone.yaml\n",
        [add("resources", "gone.yaml"), remove("resources", "./gone.yaml")],
        check=seen.append,
    )
    assert result.changed and seen == []  # already present: nothing to vet
