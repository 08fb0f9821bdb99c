"""The fast engine's native macros (scaffolder/templates/native.py) render exactly what the
Jinja macros of _macros.jinja render, and so overlays stay byte-identical to copier's.

Property tests: each native macro against its Jinja macro on random values (plain data,
odd strings, and values it hands back to the Jinja macro), whole overlays rendered with and
without the native macros, and a few random overlays against copier itself.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Undefined

from scaffolder.core.errors import RenderError
from scaffolder.templates import fast, native
from scaffolder.templates.render import OVERLAY, render, render_fast, template_dir

# --------------------------------------------------------------------------- values

# Strings YAML or the q macro treat specially, and some that are simply odd.
ODD_WORDS = [
    *("y", "n", "yes", "no", "true", "false", "on", "off", "null"),
    *("Yes", "ON", "True", "NULL", "~", "", " ", "-", "a:", "a: b", "#x", "x#y", "@x", "*x"),
    *("0", "123", "0x1F", "1e5", "1.0", ".5", "1_000", "0o17", "12:30", "2024-01-01"),
    *("abc\n", "a\nb", "tab\there", 'q"uote', "back\\slash", "ünïcödé", "日本", "emoji 🎉"),
    *("app.kubernetes.io/name", "a/b/c", "A.b-c_d", "x-", "Z"),
]
TEXT = st.sampled_from(ODD_WORDS) | st.text(max_size=12)
SCALARS = (
    TEXT | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.booleans() | st.none()
)
PLAIN = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
# Values the native macros hand back to the Jinja macros.
OTHER = st.sampled_from([(), ("a", 1), datetime.date(2024, 1, 1), Undefined()]) | st.builds(
    tuple, st.lists(SCALARS, max_size=3)
)
VALUES = PLAIN | OTHER | st.lists(PLAIN | OTHER, max_size=3)


def outcome(macro: Callable[..., Any], *args: Any) -> tuple[str, str]:
    """The text a macro renders, or the kind of error it raises."""
    try:
        return ("ok", str(macro(*args)))
    except Exception as exc:  # the error kinds must match too
        return ("error", type(exc).__name__)


def modules() -> tuple[Any, Any]:
    """``_macros.jinja`` as the fast engine loads it (native) and as copier does (Jinja)."""
    root = template_dir(OVERLAY)
    return tuple(  # type: ignore[return-value]
        fast._environment(root, flag).get_template(native.MACROS_FILE).module
        for flag in (True, False)
    )


NATIVE, JINJA = modules()
PROPS = settings(max_examples=400, deadline=None)


def test_the_fast_engine_loads_the_native_macros() -> None:
    for name in native.NATIVE:
        assert getattr(NATIVE, name).__self__.__class__ is native.NativeMacros, name
        assert type(getattr(JINJA, name)).__name__ == "Macro", name


@PROPS
@given(VALUES)
def test_q(value: Any) -> None:
    assert outcome(NATIVE.q, value) == outcome(JINJA.q, value)


LABELS = st.dictionaries(TEXT, SCALARS, max_size=4) | st.dictionaries(TEXT, VALUES, max_size=3)


@PROPS
@given(
    st.integers(0, 14),
    LABELS | VALUES,
    st.none() | SCALARS | OTHER,
    st.booleans(),
)
def test_match_labels(indent: int, labels: Any, namespace: Any, pass_namespace: bool) -> None:
    args = (indent, labels, namespace) if pass_namespace else (indent, labels)
    assert outcome(NATIVE.match_labels, *args) == outcome(JINJA.match_labels, *args)


PORT = st.integers(-1, 70000) | st.booleans() | st.sampled_from(["80", "080", "1.5", "x", ""])
PORT_ENTRY = (
    PORT
    | st.fixed_dictionaries(
        {"port": PORT},
        optional={"protocol": st.sampled_from(["TCP", "UDP", "SCTP", "ANY", "yes", ""]) | SCALARS},
    )
    | VALUES
)


@PROPS
@given(st.integers(0, 14), st.lists(PORT_ENTRY, max_size=4) | VALUES)
def test_to_ports(indent: int, ports: Any) -> None:
    assert outcome(NATIVE.to_ports, indent, ports) == outcome(JINJA.to_ports, indent, ports)


ANSWER_NAMES = st.sampled_from(["app_name", "namespace", "_src_path", "_commit", "z", "A"]) | TEXT


@PROPS
@given(
    st.sampled_from([OVERLAY, "network-policy/baseline", "x y", ""]) | VALUES,
    st.dictionaries(ANSWER_NAMES, VALUES, max_size=6) | VALUES,
)
def test_answers_file(template: Any, answers: Any) -> None:
    assert outcome(NATIVE.answers_file, template, answers) == outcome(
        JINJA.answers_file, template, answers
    )
    assert outcome(NATIVE.answers_entries, answers) == outcome(JINJA.answers_entries, answers)


# --------------------------------------------------------------------------- whole overlays

DNS_LABEL = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?", fullmatch=True)
LABEL_KEY = st.sampled_from(
    ["app", "app.kubernetes.io/name", "app.kubernetes.io/instance", "example.com/Yes", "ON", "y"]
) | st.from_regex(r"[a-z]([-a-z0-9._]{0,6}[a-z0-9])?", fullmatch=True)
LABEL_VALUE = st.sampled_from(
    ["yes", "on", "Off", "true", "null", "y", "123", "1e5", "0x1F", "1.0", "", "web", "a.b_c"]
) | st.from_regex(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,6})?[A-Za-z0-9]", fullmatch=True)
VALID_SELECTOR = st.dictionaries(LABEL_KEY, LABEL_VALUE, min_size=1, max_size=3)
BAD_SELECTOR = st.dictionaries(
    LABEL_KEY, st.sampled_from(["ünï", "a b", 5, True, None]), min_size=1, max_size=2
)
PORT_NUMBER = st.integers(1, 65535)
PORTS = st.lists(
    PORT_NUMBER
    | st.fixed_dictionaries(
        {"port": PORT_NUMBER | st.sampled_from(["80", "8080"])},
        optional={"protocol": st.sampled_from(["TCP", "UDP", "SCTP", "ANY"])},
    ),
    min_size=1,
    max_size=3,
)
HOST = st.from_regex(r"(\*\.)?([a-z0-9-]{1,6}\.){0,2}[a-z]{2,5}", fullmatch=True) | st.sampled_from(
    ["s3.${SECRET_DOMAIN}", "yes", "on.example", "api.example.com"]
)
CIDR = st.sampled_from(["192.168.5.0/24", "10.0.0.0/8", "fd00::/8", "0.0.0.0/0"])


@st.composite
def selectors(draw: st.DrawFn, *, allow_empty: bool = False) -> dict[str, Any]:
    """Mostly valid label selectors; one in twenty is not (both renders must then refuse
    the answers the same way)."""
    if draw(st.integers(0, 19)) == 0:
        return draw(BAD_SELECTOR)
    return draw(VALID_SELECTOR | (st.just({}) if allow_empty else st.nothing()))


PATTERNS: dict[str, st.SearchStrategy[Any]] = {
    "gateway_ports": PORTS,
    "cnpg_egress": st.lists(
        st.fixed_dictionaries(
            {"namespace": DNS_LABEL, "cluster": DNS_LABEL}, optional={"port": PORT_NUMBER}
        ),
        min_size=1,
        max_size=2,
    ),
    "cnpg_consumers": st.lists(
        st.fixed_dictionaries(
            {"namespace": DNS_LABEL}, optional={"selector": selectors(allow_empty=True)}
        ),
        min_size=1,
        max_size=2,
    ),
    "fqdn_egress": st.lists(
        st.fixed_dictionaries(
            {"host": HOST, "port": PORT_NUMBER},
            optional={
                "protocol": st.sampled_from(["TCP", "UDP"]),
                "style": st.sampled_from(["entity", "fqdn"]),
            },
        ),
        min_size=1,
        max_size=3,
    ),
    "cross_namespace_egress": st.lists(
        st.fixed_dictionaries(
            {"namespace": DNS_LABEL, "ports": PORTS},
            optional={"selector": selectors(allow_empty=True)},
        ),
        min_size=1,
        max_size=2,
    ),
    "cidr_egress": st.lists(
        st.fixed_dictionaries({"cidr": CIDR, "ports": PORTS}), min_size=1, max_size=2
    ),
    "cluster_egress_ports": PORTS,
    "lan_ports": PORTS,
    "oauth2_proxy_gateway_ports": PORTS,
}


@st.composite
def overlay_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Overlay answers with one to three patterns enabled (the others absent or empty)."""
    answers: dict[str, Any] = {"app_name": draw(DNS_LABEL), "namespace": draw(DNS_LABEL)}
    optional: dict[str, st.SearchStrategy[Any]] = {
        "selector": selectors(),
        "gateway_namespace": DNS_LABEL,
        "gateway_selector": selectors(),
        "cnpg_port": PORT_NUMBER,
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            answers[name] = draw(strategy)
    enabled = draw(st.lists(st.sampled_from(sorted(PATTERNS)), min_size=1, max_size=3))
    for name in sorted(PATTERNS):
        if name in enabled:
            answers[name] = draw(PATTERNS[name])
        elif draw(st.booleans()):
            answers[name] = []
    if "cnpg_consumers" in enabled:
        answers["cnpg_cluster"] = draw(DNS_LABEL)
    return answers


OVERLAY_ANSWERS = overlay_answers()


def files_or_error(render_: Callable[[], Any]) -> Any:
    try:
        return render_().files
    except RenderError as exc:
        return ("refused", str(exc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OVERLAY_ANSWERS)
def test_overlays_render_the_same_with_and_without_native_macros(answers: dict[str, Any]) -> None:
    assert files_or_error(lambda: render_fast(OVERLAY, answers)) == files_or_error(
        lambda: render_fast(OVERLAY, answers, native_macros=False)
    )


@pytest.mark.parametrize("template", ["network-policy/baseline", "network-policy/default-deny"])
def test_components_render_the_same_with_and_without_native_macros(template: str) -> None:
    assert render_fast(template, {}).files == render_fast(template, {}, native_macros=False).files


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(OVERLAY_ANSWERS)
def test_random_overlays_render_like_copier(answers: dict[str, Any]) -> None:
    fast_files = files_or_error(lambda: render(OVERLAY, answers, engine="fast"))
    copier_files = files_or_error(lambda: render(OVERLAY, answers, engine="copier"))
    if isinstance(fast_files, tuple) or isinstance(copier_files, tuple):
        # Refused: by both engines (their messages differ in form).
        assert isinstance(fast_files, tuple) and isinstance(copier_files, tuple)
    else:
        assert fast_files == copier_files
