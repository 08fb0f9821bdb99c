"""``netpol.yaml``: the per-repository configuration every command loads.

The file is written once by ``netpol init`` (with comments explaining each key)
and then owned by the user. Loading validates it against :data:`CONFIG_SCHEMA`
and turns every problem into one :class:`~scaffolder.errors.ConfigError` line.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import ConfigError, YamlError
from .yamlio import load_documents

CONFIG_FILE = "netpol.yaml"
CONFIG_VERSION = 1

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

_LABELS = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {"type": "string"},
}
_NAMESPACE = {"type": "string", "pattern": DNS1123_LABEL.pattern, "maxLength": 63}
_REL_PATH = {"type": "string", "minLength": 1, "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$)).*$"}

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {"const": CONFIG_VERSION},
        "apps_dir": _REL_PATH,
        "components_dir": _REL_PATH,
        "out_of_scope": {"type": "array", "items": _NAMESPACE, "uniqueItems": True},
        "dns": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"namespace": _NAMESPACE, "selector": _LABELS},
        },
        "monitoring": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"namespace": _NAMESPACE},
        },
        "gateway": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"namespace": _NAMESPACE, "selector": _LABELS},
        },
        "apiserver_port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "mode": {"enum": ["audit", "enforce"]},
        "github": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "repo": {"type": "string", "pattern": r"^([\w.-]+/[\w.-]+)?$"},
                "base": {"type": "string", "minLength": 1},
            },
        },
        "soak_hours": {"type": "number", "minimum": 0},
    },
}


@dataclass(frozen=True)
class Config:
    """Validated configuration with defaults filled in."""

    apps_dir: PurePosixPath = PurePosixPath("kubernetes/apps")
    components_dir: PurePosixPath = PurePosixPath("kubernetes/components")
    out_of_scope: tuple[str, ...] = ("flux-system", "kube-system")
    dns_namespace: str = "kube-system"
    dns_selector: dict[str, str] = field(default_factory=lambda: {"k8s-app": "kube-dns"})
    monitoring_namespace: str = "observability"
    gateway_namespace: str = "network"
    gateway_selector: dict[str, str] = field(
        default_factory=lambda: {"app.kubernetes.io/name": "envoy"}
    )
    apiserver_port: int = 6443
    mode: str = "enforce"
    github_repo: str = ""
    github_base: str = "main"
    soak_hours: float = 24

    @property
    def baseline_dir(self) -> PurePosixPath:
        return self.components_dir / "network-policy" / "baseline"

    @property
    def default_deny_dir(self) -> PurePosixPath:
        return self.components_dir / "network-policy" / "default-deny"

    def baseline_answers(self) -> dict[str, Any]:
        return {
            "dns_namespace": self.dns_namespace,
            "dns_selector": dict(self.dns_selector),
            "monitoring_namespace": self.monitoring_namespace,
            "apiserver_port": self.apiserver_port,
        }

    def default_deny_answers(self) -> dict[str, Any]:
        return {"mode": self.mode}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["apps_dir"] = str(self.apps_dir)
        data["components_dir"] = str(self.components_dir)
        data["out_of_scope"] = list(self.out_of_scope)
        return data


@cache
def _fast_check() -> Any:
    import fastjsonschema

    return fastjsonschema.compile(CONFIG_SCHEMA)


def _validate(data: Any, source: Path) -> None:
    """Valid configs pass the compiled check (fast); jsonschema explains invalid ones."""
    from fastjsonschema import JsonSchemaException

    try:
        _fast_check()(data)
        return
    except JsonSchemaException:
        pass
    from jsonschema import Draft7Validator

    validator = Draft7Validator(CONFIG_SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.absolute_path) or "(top level)"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(
            f"{source}: {where}: {err.message}{more}",
            hint=f"fix {CONFIG_FILE} or regenerate it with 'netpol init --overwrite'",
        )


def config_from_mapping(data: dict[str, Any], source: Path) -> Config:
    """Build a :class:`Config` from parsed YAML, validating it first."""
    _validate(data, source)
    dns = data.get("dns", {})
    gateway = data.get("gateway", {})
    github = data.get("github", {})
    defaults = Config()
    return Config(
        apps_dir=PurePosixPath(data.get("apps_dir", str(defaults.apps_dir))),
        components_dir=PurePosixPath(data.get("components_dir", str(defaults.components_dir))),
        out_of_scope=tuple(data.get("out_of_scope", defaults.out_of_scope)),
        dns_namespace=dns.get("namespace", defaults.dns_namespace),
        dns_selector=dict(dns.get("selector", defaults.dns_selector)),
        monitoring_namespace=data.get("monitoring", {}).get(
            "namespace", defaults.monitoring_namespace
        ),
        gateway_namespace=gateway.get("namespace", defaults.gateway_namespace),
        gateway_selector=dict(gateway.get("selector", defaults.gateway_selector)),
        apiserver_port=data.get("apiserver_port", defaults.apiserver_port),
        mode=data.get("mode", defaults.mode),
        github_repo=github.get("repo", defaults.github_repo),
        github_base=github.get("base", defaults.github_base),
        soak_hours=data.get("soak_hours", defaults.soak_hours),
    )


def load_config(path: Path) -> Config:
    """Load and validate ``netpol.yaml``."""
    if not path.is_file():
        raise ConfigError(f"{path}: not found", hint="run 'netpol init' to create it")
    try:
        docs = load_documents(path)
    except YamlError as exc:
        raise ConfigError(exc.message, hint=f"fix the YAML in {CONFIG_FILE}") from exc
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise ConfigError(
            f"{path}: expected one YAML mapping",
            hint="regenerate it with 'netpol init --overwrite'",
        )
    return config_from_mapping(docs[0], path)


def _q(value: str) -> str:
    """A YAML scalar for ``value``: plain when unambiguous, else JSON-quoted (valid YAML)."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", value) and value.lower() not in {
        "yes",
        "no",
        "true",
        "false",
        "on",
        "off",
        "null",
        "y",
        "n",
        "~",
    }:
        return value
    return json.dumps(value)


def _labels(labels: dict[str, str], indent: str) -> str:
    return "".join(f"{indent}{_q(k)}: {_q(v)}\n" for k, v in labels.items())


def render_config(config: Config) -> str:
    """The commented ``netpol.yaml`` that ``netpol init`` writes."""
    oos = "".join(f"  - {_q(ns)}\n" for ns in config.out_of_scope) or "  []\n"
    soak = int(config.soak_hours) if float(config.soak_hours).is_integer() else config.soak_hours
    return (
        "# netpol configuration: every netpol command reads it (see 'netpol --help').\n"
        f"version: {CONFIG_VERSION}\n"
        "\n"
        "# Namespaces live in <apps_dir>/<namespace>/kustomization.yaml.\n"
        f"apps_dir: {_q(str(config.apps_dir))}\n"
        "# netpol renders the reusable components (network-policy/baseline, network-policy/default-deny) here.\n"
        f"components_dir: {_q(str(config.components_dir))}\n"
        "\n"
        "# Namespaces netpol never touches without --include-out-of-scope: losing them loses the rollback path itself.\n"
        "out_of_scope:\n"
        f"{oos}"
        "\n"
        "# Where cluster DNS runs; the baseline allows DNS to it with the L7 rule toFQDNs needs.\n"
        "dns:\n"
        f"  namespace: {_q(config.dns_namespace)}\n"
        "  selector:\n"
        f"{_labels(config.dns_selector, '    ')}"
        "# Prometheus lives here; the baseline lets it scrape every pod.\n"
        "monitoring:\n"
        f"  namespace: {_q(config.monitoring_namespace)}\n"
        "# The Gateway API data plane (envoy pods) that routes traffic to apps.\n"
        "gateway:\n"
        f"  namespace: {_q(config.gateway_namespace)}\n"
        "  selector:\n"
        f"{_labels(config.gateway_selector, '    ')}"
        "# The kube-apiserver's port as pods reach it after socket-LB translation (not the Service's 443).\n"
        f"apiserver_port: {config.apiserver_port}\n"
        "# enforce: default-deny drops what no policy allows; audit: default-deny is rendered inert.\n"
        f"mode: {config.mode}\n"
        "\n"
        "# Pull requests: one branch netpol/<namespace> and one PR per namespace.\n"
        "github:\n"
        f"  repo: {_q(config.github_repo) if config.github_repo else chr(34) * 2}  # owner/name; empty: read from the origin remote\n"
        f"  base: {_q(config.github_base)}\n"
        "# Hours the allow policies soak before 'netpol enforce' ships default-deny.\n"
        f"soak_hours: {soak}\n"
    )
