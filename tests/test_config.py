"""netpol.yaml: written with comments, loaded with validation, one-line errors."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from scaffolder.core.errors import ConfigError
from scaffolder.repo.config import Config, load_config, render_config


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
            "apiserver_port: 70000 is not a valid port (a whole number from 1 to 65535)",
        ),
        (
            "version: 1\ngateway:\n  namespace: Net_Work\n",
            "gateway.namespace: 'Net_Work' is not a valid namespace name "
            "(lower-case letters, digits and '-', at most 63 characters)",
        ),
        (
            "version: 1\nmonitoring:\n  namespace: Media_1\n",
            "monitoring.namespace: 'Media_1' is not a valid namespace name",
        ),
        ("version: 1\nmode: yolo\n", "mode: 'yolo' is not a valid mode (audit or enforce)"),
        ("version: 1\nmode:\n", "mode: an empty value is not a valid mode"),
        ("version: 2\n", "was written by a newer netpol (config version 2; this is netpol"),
        ("mode: audit\n", "missing key 'version'; add 'version: 1'"),
        ("version: 1\nappsdir: x\n", "unknown key 'appsdir' (did you mean 'apps_dir'?)"),
        (
            "version: 1\ngateway_namespace: x\n",
            "unknown key 'gateway_namespace' (did you mean 'namespace' under 'gateway:'?)",
        ),
        ("version: 1\ndns:\n  namspace: x\n", "dns: unknown key 'namspace' (did you mean"),
        ("version: 1\nfrobnicate: 1\n", "the keys allowed here: version, apps_dir,"),
        (
            "version: 1\napps_dir: ../outside\n",
            "apps_dir: '../outside' is not a directory inside the repository",
        ),
        ("version: 1\ncomponents_dir: /srv\n", "components_dir: '/srv' is not a directory"),
        (
            "version: 1\nout_of_scope: [a, b, a]\n",
            "out_of_scope: 'a' is listed twice",
        ),
        ("version: 1\nout_of_scope: [Bad]\n", "out_of_scope[0]: 'Bad' is not a valid namespace"),
        ("version: 1\nout_of_scope: kube-system\n", "out_of_scope: 'kube-system' is not a list"),
        (
            "version: 1\ndns:\n  selector:\n    k8s-app: true\n",
            "dns.selector.k8s-app: true is not a string",
        ),
        ("version: 1\ngateway:\n  selector: {}\n", "gateway.selector: an empty mapping is not"),
        ("version: 1\ndns: coredns\n", "dns: 'coredns' is not a mapping with the keys namespace"),
        ("version: 1\napiserver_port: '6443'\n", "apiserver_port: '6443' is not a valid port"),
        ("version: 1\ngithub:\n  repo: nope\n", "github.repo: 'nope' is not a GitHub repository"),
        ("version: 1\nsoak_hours: -1\n", "soak_hours: -1 is not a number of hours, 0 or more"),
        ("version: 1\nmode: x\nsoak_hours: -1\n", "(and 1 more problem)"),
        ("- version: 1\n", "expected one YAML mapping (keys such as 'version: 1'), found a list"),
        ("hello\n", "found a string"),
        ("version: 1\n---\nversion: 1\n", "found 2 YAML documents"),
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
    ],
)
def test_invalid_config_names_the_key(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    # Words, not schema internals, and never a suggestion to throw the file away.
    for internal in ("does not match", "^", "Additional properties", "is not one of", "--force"):
        assert internal not in str(info.value)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text("version: 1\ndns:\n  namespace: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:4:" in str(info.value)


def test_duplicate_keys_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text("version: 1\nmode: audit\nmode: enforce\n")
    with pytest.raises(ConfigError, match="duplicate key"):
        load_config(path)


def test_missing_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "netpol.yaml")
