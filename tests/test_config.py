"""netpol.yaml: written with comments, loaded with validation, one-line errors."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from scaffolder.config import Config, load_config, render_config
from scaffolder.errors import ConfigError


def test_rendered_config_round_trips_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text(render_config(Config()))
    assert load_config(path) == Config()
    text = path.read_text()
    assert "# Namespaces netpol never touches" in text
    assert "soak_hours: 24" in text


def test_custom_values_round_trip(tmp_path: Path) -> None:
    config = Config(
        apps_dir=PurePosixPath("clusters/main/apps"),
        out_of_scope=("flux-system", "kube-system", "rook-ceph"),
        dns_selector={"k8s-app": "kube-dns", "app": "coredns"},
        gateway_selector={"gateway.networking.k8s.io/gateway-name": "internal"},
        mode="audit",
        github_repo="me/home-ops",
        soak_hours=48,
    )
    path = tmp_path / "netpol.yaml"
    path.write_text(render_config(config))
    assert load_config(path) == config


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "version: 1\napiserver_port: 70000\n",
            "apiserver_port: 70000 is greater than the maximum",
        ),
        (
            "version: 1\nmonitoring:\n  namespace: Media_1\n",
            "monitoring.namespace: 'Media_1' does not match",
        ),
        ("version: 1\nmode: yolo\n", "mode: 'yolo' is not one of"),
        ("version: 2\n", "version: 1 was expected"),
        (
            "version: 1\nappsdir: x\n",
            "Additional properties are not allowed ('appsdir' was unexpected)",
        ),
        ("version: 1\napps_dir: ../outside\n", "apps_dir: '../outside' does not match"),
        ("- version: 1\n", "expected one YAML mapping"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text("version: 1\ndns:\n  namespace: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:" in str(info.value)


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text("version: 1\nmode: audit\nmode: enforce\n")
    with pytest.raises(ConfigError, match="duplicate key"):
        load_config(path)


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "netpol.yaml")
