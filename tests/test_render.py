"""Templates render the same through copier and the fast engine, and components/ never drifts."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from scaffolder.core.errors import RenderError
from scaffolder.dev import default_renderings
from scaffolder.templates.render import (
    ANSWERS_FILE,
    BASELINE,
    DEFAULT_DENY,
    OVERLAY,
    read_recorded,
    render,
)

from .conftest import ROOT

OVERLAY_BASE: dict[str, Any] = {
    "app_name": "sonarr",
    "namespace": "media",
    "selector": {"app.kubernetes.io/name": "sonarr"},
}
OVERLAY_CASES: list[dict[str, Any]] = [
    {**OVERLAY_BASE, "gateway_ports": [{"port": 8989, "protocol": "TCP"}]},
    {
        **OVERLAY_BASE,
        "gateway_ports": [{"port": 8080, "protocol": "TCP"}],
        "cnpg_egress": [{"namespace": "databases", "cluster": "postgres16", "port": 5432}],
        "lan_ports": [{"port": 8096, "protocol": "TCP"}],
        "fqdn_egress": [
            {"host": "api.themoviedb.org", "port": 443, "protocol": "TCP", "style": "entity"},
            {"host": "s3.${SECRET_DOMAIN}", "port": 443, "protocol": "TCP", "style": "fqdn"},
        ],
        "oauth2_proxy_gateway_ports": [10443],
    },
    {
        "app_name": "postgres16",
        "namespace": "databases",
        "selector": {"cnpg.io/cluster": "postgres16"},
        "cnpg_cluster": "postgres16",
        "cnpg_consumers": [
            {"namespace": "media", "selector": {"app.kubernetes.io/name": "sonarr"}}
        ],
    },
]


def test_components_dir_equals_a_fresh_render() -> None:
    rendered = default_renderings(engine="copier")
    on_disk = {
        PurePosixPath(p.relative_to(ROOT / "components").as_posix()): p.read_bytes()
        for p in (ROOT / "components").rglob("*")
        if p.is_file()
    }
    assert sorted(on_disk) == sorted(rendered), "run 'make components'"
    for path, data in rendered.items():
        assert on_disk[path] == data, (
            f"components/{path} drifted from the template: run 'make components'"
        )


@pytest.mark.parametrize(
    ("template", "answers"),
    [
        (BASELINE, {}),
        (
            BASELINE,
            {"dns_namespace": "dns", "dns_selector": {"app": "coredns"}, "apiserver_port": 443},
        ),
        (DEFAULT_DENY, {"mode": "enforce"}),
        (DEFAULT_DENY, {"mode": "audit"}),
        *((OVERLAY, case) for case in OVERLAY_CASES),
    ],
)
def test_fast_engine_matches_copier_byte_for_byte(template: str, answers: dict[str, Any]) -> None:
    assert (
        render(template, answers, engine="fast").files
        == render(template, answers, engine="copier").files
    )


def test_answers_file_records_template_answers_and_digests() -> None:
    rendering = render(BASELINE, {"monitoring_namespace": "monitoring"})
    text = rendering.files[PurePosixPath(ANSWERS_FILE)].decode()
    recorded = read_recorded(text, ANSWERS_FILE)
    assert recorded.template == BASELINE
    assert recorded.answers["monitoring_namespace"] == "monitoring"
    assert recorded.digests == rendering.digests
    assert "/tmp" not in text and str(Path.home()) not in text and str(ROOT) not in text


@pytest.mark.parametrize("engine", ["fast", "copier"])
@pytest.mark.parametrize(
    ("template", "answers", "question"),
    [
        (BASELINE, {"monitoring_namespace": "Media_1"}, "monitoring_namespace"),
        (BASELINE, {"apiserver_port": 70000}, "apiserver_port"),
        (DEFAULT_DENY, {"mode": "yolo"}, "mode"),
        (
            OVERLAY,
            {
                **OVERLAY_BASE,
                "namespace": "bad_ns",
                "gateway_ports": [{"port": 80, "protocol": "TCP"}],
            },
            "namespace",
        ),
    ],
)
def test_bad_answers_are_refused(
    engine: str, template: str, answers: dict[str, Any], question: str
) -> None:
    with pytest.raises(RenderError) as info:
        render(template, answers, engine=engine)
    assert question in str(info.value) or "yolo" in str(info.value)


def test_rendering_is_deterministic() -> None:
    assert render(OVERLAY, OVERLAY_CASES[1]).files == render(OVERLAY, OVERLAY_CASES[1]).files


def test_validation_memo_tells_apart_values_json_would_confuse() -> None:
    # The fast engine memoises validators on the values they read: {"1": ...} passing must
    # not let {1: ...} (an int label key, refused) through.
    base = {**OVERLAY_BASE, "gateway_ports": [80]}
    render(OVERLAY, {**base, "selector": {"1": "x"}})
    with pytest.raises(RenderError, match="not a valid label key"):
        render(OVERLAY, {**base, "selector": {1: "x"}})
