"""``netpol.yaml``: the per-repository configuration every command loads.

The file is written once by ``netpol init`` (with comments explaining each key)
and then owned by the user. Loading validates it against :data:`CONFIG_SCHEMA`
and turns every problem into one :class:`~scaffolder.core.errors.ConfigError` line.

Versions and migration
----------------------
Two numbers say who can read a file:

* ``version``, the config *schema* version (:data:`CONFIG_VERSION`), changes only when the
  meaning or shape of ``netpol.yaml`` changes (a key renamed, moved or given new values);
* ``netpol_version``, the ``MAJOR.MINOR`` of the netpol that wrote the file (answers files
  record it as ``_netpol_version``; see :mod:`scaffolder.core.versioning`).

A file written by a *newer* netpol (a schema ``version`` above :data:`CONFIG_VERSION`, or
a ``netpol_version`` above the running one) is refused with one line saying which netpol
wrote it and to upgrade: an older netpol cannot know what the new keys mean, and guessing
could drop policies.

A file written by an *older* netpol is read and migrated **in memory**: when a release
bumps :data:`CONFIG_VERSION` from N to N+1 it adds ``MIGRATIONS[N]``, a pure function
taking the parsed mapping of version N to the equivalent mapping of version N+1 (rename
the key, fill the new default, set ``version``); :func:`migrate` chains them before the
file is validated, so the rest of netpol only ever sees the current version. Reading never
writes: ``netpol.yaml`` belongs to the user and changes on disk only when a command
renders it again (``netpol init --overwrite``), then with the current ``version`` and
``netpol_version``. Answers files migrate the same way, in memory when read
(:func:`scaffolder.templates.recorded.read_recorded`), and on disk when ``netpol
scaffold`` or ``netpol upgrade`` re-renders them with the current ``_netpol_version``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from scaffolder.core.errors import ConfigError, YamlError
from scaffolder.core.versioning import WRITTEN_BY, newer_than_running, too_new
from scaffolder.core.yamlio import load_documents

CONFIG_FILE = "netpol.yaml"
CONFIG_VERSION = 1
# MIGRATIONS[n]: a mapping of config version n -> the same configuration as version n + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
GITHUB_REPO = re.compile(r"^([\w.-]+/[\w.-]+)?$")

# Every schema carries a "description": the allowed values in words, for error messages.
NAMESPACE_WORDS = (
    "a valid namespace name (lower-case letters, digits and '-', at most 63 characters)"
)
_LABELS = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {
        "type": "string",
        "description": 'a string (label values are strings: quote values such as "true" or "1")',
    },
    "description": "a mapping of at least one label name to its value",
}
_NAMESPACE = {
    "type": "string",
    "pattern": DNS1123_LABEL.pattern,
    "maxLength": 63,
    "description": NAMESPACE_WORDS,
}
_REL_PATH = {
    "type": "string",
    "minLength": 1,
    "pattern": r"^(?!/)(?!.*(^|/)\.\.(/|$)).*$",
    "description": "a directory inside the repository, relative to its root "
    "(no leading '/', no '..'; e.g. kubernetes/apps)",
}


def _section(description: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "description": f"a mapping with the keys {', '.join(properties)} ({description})",
    }


CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {
            "const": CONFIG_VERSION,
            "description": f"a supported version: this netpol reads version {CONFIG_VERSION}",
        },
        "apps_dir": _REL_PATH,
        "components_dir": _REL_PATH,
        "out_of_scope": {
            "type": "array",
            "items": _NAMESPACE,
            "uniqueItems": True,
            "description": "a list of namespace names, each listed once",
        },
        "dns": _section("where cluster DNS runs", namespace=_NAMESPACE, selector=_LABELS),
        "monitoring": _section("where Prometheus runs", namespace=_NAMESPACE),
        "gateway": _section(
            "where the Gateway API data plane runs", namespace=_NAMESPACE, selector=_LABELS
        ),
        "apiserver_port": {
            "type": "integer",
            "minimum": 1,
            "maximum": 65535,
            "description": "a valid port (a whole number from 1 to 65535)",
        },
        "mode": {"enum": ["audit", "enforce"], "description": "a valid mode (audit or enforce)"},
        "github": _section(
            "pull requests",
            repo={
                "type": "string",
                "pattern": GITHUB_REPO.pattern,
                "description": "a GitHub repository as owner/name, e.g. me/home-ops "
                "('' reads it from the origin remote)",
            },
            base={
                "type": "string",
                "minLength": 1,
                "description": "a branch name, e.g. main",
            },
        ),
        "soak_hours": {
            "type": "number",
            "minimum": 0,
            "description": "a number of hours, 0 or more",
        },
        "netpol_version": {
            "type": "string",
            "pattern": r"^[0-9]+\.[0-9]+(\.[0-9]+)?$",
            "description": "the netpol version that wrote the file, such as '0.1'",
        },
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
    """Valid configs pass the compiled check (fast); jsonschema finds what is wrong with
    invalid ones, and :func:`_explain` says it in words."""
    from fastjsonschema import JsonSchemaException

    try:
        _fast_check()(data)
        return
    except JsonSchemaException:
        pass
    from jsonschema import Draft7Validator

    validator = Draft7Validator(CONFIG_SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        more = len(errors) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{source}: {_explain(errors[0])}{tail}")


def _where(path: Iterable[Any]) -> str:
    """``dns.selector.app`` / ``out_of_scope[2]``: the key as a user finds it in the file."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f"{'.' if out else ''}{part}"
    return out


def _show(value: Any) -> str:
    """A value as the user wrote it, short."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        return repr(value if len(value) <= 60 else value[:57] + "...")
    return str(value)


def _suggest(key: Any, schema: dict[str, Any]) -> str:
    """``did you mean ...?`` for an unknown key, else the keys allowed there."""
    properties: dict[str, Any] = schema.get("properties", {})
    known = list(properties)
    name = str(key)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    # gateway_namespace -> namespace: under gateway:
    for parent, child in [name.split(sep, 1) for sep in "_.-" if sep in name]:
        nested = properties.get(parent, {}).get("properties", {})
        if child.replace("-", "_") in nested:
            return f"did you mean {child.replace('-', '_')!r} under {parent + ':'!r}?"
    return f"the keys allowed here: {', '.join(known)}"


def _explain(err: Any) -> str:
    """One jsonschema error in words: the key, the value, what is allowed."""
    where = _where(err.absolute_path)
    prefix = f"{where}: " if where else ""
    schema: dict[str, Any] = err.schema if isinstance(err.schema, dict) else {}
    if err.validator == "additionalProperties" and schema.get("additionalProperties") is False:
        known = schema.get("properties", {})
        unknown = [k for k in err.instance if k not in known]
        return f"{prefix}unknown key {str(unknown[0])!r} ({_suggest(unknown[0], schema)})"
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        example = f"; add 'version: {CONFIG_VERSION}'" if missing[:1] == ["version"] else ""
        return f"{prefix}missing key {missing[0]!r}{example}"
    if err.validator == "uniqueItems":
        seen: list[Any] = []
        for item in err.instance:
            if item in seen:
                return f"{prefix}{_show(item)} is listed twice (each namespace once)"
            seen.append(item)
    description = schema.get("description")
    if description:
        return f"{prefix}{_show(err.instance)} is not {description}"
    return f"{prefix}{err.message}"  # pragma: no cover - every schema has a description


def migrate(data: dict[str, Any], source: Path | str) -> dict[str, Any]:
    """``data`` as the current config version (a new mapping; ``data`` is not changed).

    Refuses, in one line, a file written by a newer netpol. Leaves anything it cannot
    place (a missing or malformed ``version``) to the schema's messages."""
    written_by = data.get("netpol_version")
    version = data.get("version")
    if newer_than_running(written_by):
        raise ConfigError(too_new(str(source), written_by))
    if type(version) is int and version > CONFIG_VERSION:
        raise ConfigError(
            too_new(str(source), written_by)
            if isinstance(written_by, str)
            else f"{source} was written by a newer netpol (config version {version}; this is "
            f"netpol {WRITTEN_BY}, which reads version {CONFIG_VERSION}): "
            "upgrade netpol (pip install -U netpol)"
        )
    while type(version) is int and version < CONFIG_VERSION and version in MIGRATIONS:
        data = MIGRATIONS[version](dict(data))
        version = data.get("version")
    return data


def config_from_mapping(data: dict[str, Any], source: Path) -> Config:
    """Build a :class:`Config` from parsed YAML (migrated to the current version), validating
    it first."""
    data = migrate(data, source)
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
    if not docs:
        raise ConfigError(
            f"{path}: the file is empty; it needs at least 'version: {CONFIG_VERSION}'",
            hint="delete it and run 'netpol init' to write a commented one",
        )
    if len(docs) != 1 or not isinstance(docs[0], dict):
        found = f"{len(docs)} YAML documents" if len(docs) > 1 else _article(docs[0])
        raise ConfigError(
            f"{path}: expected one YAML mapping (keys such as 'version: {CONFIG_VERSION}'), "
            f"found {found}"
        )
    return config_from_mapping(docs[0], path)


def _article(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a single value ({_show(value)})"


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
        "# The netpol that wrote this file; an older netpol refuses it rather than guess.\n"
        f'netpol_version: "{WRITTEN_BY}"\n'
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
        "# Hours the allow policies soak before default-deny is shipped in its own pull request.\n"
        f"soak_hours: {soak}\n"
    )
