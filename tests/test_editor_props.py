"""Property tests: kustomization files in generated styles survive edits byte for byte."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaffolder.core.yamlio import parse_documents
from scaffolder.edit.kustomization import Op, edit_text, normalize_entry

ENTRY = st.from_regex(r"\./[a-z][a-z0-9-]{0,12}(/ks)?\.yaml", fullmatch=True) | st.from_regex(
    r"(\.\./){1,2}[a-z][a-z0-9-]{0,10}(/[a-z][a-z0-9-]{0,8})?", fullmatch=True
)
COMMENT = st.from_regex(r"# [a-zA-Z0-9 .:\t-]{0,20}", fullmatch=True)


@st.composite
def kustomizations(draw: st.DrawFn) -> str:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    indent = draw(st.sampled_from([2, 4]))
    dash_indented = draw(st.booleans())
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("---")
    if draw(st.booleans()):
        lines.append("# yaml-language-server: $schema=https://json.schemastore.org/kustomization")
    keys = ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization"]
    if draw(st.booleans()):
        keys.append("namespace: " + draw(st.sampled_from(["media", "downloads"])))
    lists = draw(
        st.lists(st.sampled_from(["components", "resources", "configMapGenerator"]), unique=True)
    )
    for key in lists:
        block: list[str] = []
        if draw(st.booleans()):
            block.append(draw(COMMENT))
        if key == "configMapGenerator":
            pad = " " * indent if dash_indented else ""
            block += [f"{key}:", f"{pad}- name: cfg", f"{pad}  files: [a.conf]"]
        else:
            entries = draw(st.lists(ENTRY, min_size=0, max_size=5, unique_by=normalize_entry))
            if draw(st.booleans()):
                entries.sort(key=lambda e: normalize_entry(e).lower())
            quote = draw(st.sampled_from(["", "'", '"']))
            if draw(st.integers(0, 4)) == 0 or not entries:
                block.append(f"{key}: [{', '.join(quote + e + quote for e in entries)}]")
            else:
                block.append(f"{key}:")
                pad = " " * indent if dash_indented else ""
                for entry in entries:
                    if draw(st.integers(0, 5)) == 0:
                        block.append(pad + draw(COMMENT))
                    tail = ("  " + draw(COMMENT)) if draw(st.integers(0, 6)) == 0 else ""
                    block.append(f"{pad}- {quote}{entry}{quote}{tail}")
        if draw(st.booleans()):
            block.append("")
        keys.extend(block)
    order = draw(st.permutations(range(2)))
    lines += [keys[i] for i in order] + keys[2:]
    if draw(st.booleans()):
        lines.append("...")
    text = nl.join(lines)
    return text + nl if draw(st.booleans()) else text


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(kustomizations(), st.sampled_from(["components", "resources"]), ENTRY)
def test_add_then_remove_returns_the_original_bytes(text: str, key: str, entry: str) -> None:
    data = parse_documents(text, "k")
    present = normalize_entry(entry) in [normalize_entry(str(e)) for e in (data[0].get(key) or [])]
    added = edit_text(text, [Op("add", key, entry)])  # type: ignore[arg-type]
    assert added.changed != present
    again = edit_text(added.text, [Op("add", key, entry)])  # type: ignore[arg-type]
    assert not again.changed and again.text == added.text
    if not present:
        assert edit_text(added.text, [Op("remove", key, entry)]).text == text  # type: ignore[arg-type]


@SETTINGS
@given(kustomizations())
def test_noop_edits_are_byte_identical(text: str) -> None:
    result = edit_text(text, [Op("remove", "resources", "./never-there.yaml")])
    assert result.text == text and not result.changed


@SETTINGS
@given(kustomizations(), ENTRY)
def test_line_endings_and_final_newline_are_kept(text: str, entry: str) -> None:
    out = edit_text(text, [Op("add", "resources", entry)]).text
    crlf = "\r\n" in text
    assert ("\r\n" in out) == crlf or "\n" not in text
    if crlf:
        assert "\n" not in out.replace("\r\n", "")
    assert out.endswith("\n") == text.endswith("\n") or not text.strip()
