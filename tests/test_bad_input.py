"""The bad-input table: every way a user can hold netpol wrong gets one clear line.

Each case runs one ``netpol`` command line on a fresh fixture tree and checks what a user
sees: the exit code (1 for bad input, 2 for usage), a fragment of the message, a single
line on stderr, no traceback, and a tree left exactly as it was. Cases whose command line
has ``--json`` must also print a JSON error object on stdout.

Cases are grouped by area, one list each; add a case to the list of its area.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from .conftest import snapshot


@dataclass(frozen=True)
class Case:
    """``netpol ARGS`` run in a ``setup`` tree must exit ``code`` saying ``fragment``.

    ``setup`` is one of ``empty`` (an empty directory), ``example`` (a copy of
    examples/home-ops, not initialised), ``initialised`` (after ``netpol init``) or
    ``scaffolded`` (after ``netpol init`` and ``netpol scaffold media``). In ``args``,
    ``{repo}`` stands for the tree's path. ``env`` adds environment variables.
    """

    id: str
    setup: str
    args: tuple[str, ...]
    code: int
    fragment: str
    env: tuple[tuple[str, str], ...] = ()
    prepare: Callable[[Path], None] | None = None


def _write(rel: str, text: str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return prepare


def _append(rel: str, text: str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        with (root / rel).open("a") as handle:
            handle.write(text)

    return prepare


# --------------------------------------------------------------------------- global / CLI / config
_UPGRADE = ("-C", "{repo}", "upgrade")
_NS_WORDS = "is not a valid namespace name (lower-case letters, digits and '-', at most 63"


def _config(id: str, body: str, fragment: str, args: tuple[str, ...] = _UPGRADE) -> Case:
    """A bad netpol.yaml in an initialised tree: one line naming the key and what is allowed."""
    return Case(id, "initialised", args, 1, fragment, prepare=_write("netpol.yaml", body))


CLI_CASES = [
    Case("unknown-command", "initialised", ("frobnicate",), 2, "No such command"),
    Case("upgrade-without-config", "empty", ("-C", "{repo}", "upgrade"), 1, "no netpol.yaml"),
    # the apps directory: what is a namespace (a DNS label, listed when the apps dir lists)
    Case(
        "scaffold-not-a-namespace",
        "initialised",
        ("-C", "{repo}", "scaffold", "_shared"),
        1,
        "kubernetes/apps/_shared/ is not a namespace: its name is not a DNS-1123 label",
        prepare=_write("kubernetes/apps/_shared/kustomization.yaml", "resources: []\n"),
    ),
    Case(
        "scaffold-dormant-namespace",
        "initialised",
        ("-C", "{repo}", "scaffold", "vpn"),
        1,
        "kubernetes/apps/vpn/ is dormant: its entry is commented out in "
        "kubernetes/apps/kustomization.yaml:3",
        prepare=_write(
            "kubernetes/apps/kustomization.yaml", "resources:\n  - ./media\n  # - ./vpn\n"
        ),
    ),
    # netpol.yaml: every key with a bad value, unknown keys, syntax, shape
    _config(
        "config-gateway-namespace",
        "version: 1\ngateway:\n  namespace: Net_Work\n",
        f"netpol.yaml: gateway.namespace: 'Net_Work' {_NS_WORDS}",
    ),
    _config(
        "config-dns-namespace",
        "version: 1\ndns:\n  namespace: kube_system\n",
        f"dns.namespace: 'kube_system' {_NS_WORDS}",
    ),
    _config(
        "config-monitoring-namespace-too-long",
        f"version: 1\nmonitoring:\n  namespace: {'a' * 64}\n",
        f"monitoring.namespace: '{'a' * 57}...' {_NS_WORDS}",
    ),
    _config(
        "config-out-of-scope-item",
        "version: 1\nout_of_scope: [flux-system, Kube-System]\n",
        f"out_of_scope[1]: 'Kube-System' {_NS_WORDS}",
    ),
    _config(
        "config-out-of-scope-not-a-list",
        "version: 1\nout_of_scope: flux-system\n",
        "out_of_scope: 'flux-system' is not a list of namespace names",
    ),
    _config(
        "config-out-of-scope-twice",
        "version: 1\nout_of_scope: [a, a]\n",
        "out_of_scope: 'a' is listed twice",
    ),
    _config(
        "config-apiserver-port-range",
        "version: 1\napiserver_port: 70000\n",
        "apiserver_port: 70000 is not a valid port (a whole number from 1 to 65535)",
    ),
    _config(
        "config-apiserver-port-string",
        "version: 1\napiserver_port: '6443'\n",
        "apiserver_port: '6443' is not a valid port",
    ),
    _config(
        "config-mode",
        "version: 1\nmode: yolo\n",
        "mode: 'yolo' is not a valid mode (audit or enforce)",
    ),
    _config("config-mode-empty", "version: 1\nmode:\n", "mode: an empty value is not a valid mode"),
    _config(
        "config-version",
        "version: 2\n",
        "was written by a newer netpol (config version 2; this is netpol 0.1, which reads "
        "version 1): upgrade netpol (pip install -U netpol)",
    ),
    _config("config-no-version", "mode: audit\n", "missing key 'version'; add 'version: 1'"),
    _config(
        "config-apps-dir-outside",
        "version: 1\napps_dir: ../elsewhere\n",
        "apps_dir: '../elsewhere' is not a directory inside the repository",
    ),
    _config(
        "config-components-dir-absolute",
        "version: 1\ncomponents_dir: /srv/components\n",
        "components_dir: '/srv/components' is not a directory inside the repository",
    ),
    _config(
        "config-selector-empty",
        "version: 1\ngateway:\n  selector: {}\n",
        "gateway.selector: an empty mapping is not a mapping of at least one label",
    ),
    _config(
        "config-selector-value-not-string",
        "version: 1\ndns:\n  selector:\n    k8s-app: true\n",
        "dns.selector.k8s-app: true is not a string",
    ),
    _config(
        "config-section-not-mapping",
        "version: 1\ndns: coredns\n",
        "dns: 'coredns' is not a mapping with the keys namespace, selector",
    ),
    _config(
        "config-github-repo",
        "version: 1\ngithub:\n  repo: home-ops\n",
        "github.repo: 'home-ops' is not a GitHub repository as owner/name",
    ),
    _config(
        "config-github-base-empty",
        "version: 1\ngithub:\n  base: ''\n",
        "github.base: an empty string is not a branch name",
    ),
    _config(
        "config-soak-hours",
        "version: 1\nsoak_hours: -2\n",
        "soak_hours: -2 is not a number of hours, 0 or more",
    ),
    _config(
        "config-unknown-key",
        "version: 1\nappsdir: kubernetes/apps\n",
        "unknown key 'appsdir' (did you mean 'apps_dir'?)",
    ),
    _config(
        "config-unknown-nested-key",
        "version: 1\nmonitoring:\n  namspace: observability\n",
        "monitoring: unknown key 'namspace' (did you mean 'namespace'?)",
    ),
    _config(
        "config-flattened-key",
        "version: 1\ngateway_namespace: network\n",
        "unknown key 'gateway_namespace' (did you mean 'namespace' under 'gateway:'?)",
    ),
    _config(
        "config-yaml-syntax",
        "version: 1\ndns:\n  namespace: [unclosed\nmode: audit\n",
        "netpol.yaml:4: expected ',' or ']'",
    ),
    _config("config-duplicate-key", "version: 1\nmode: audit\nmode: enforce\n", "duplicate key"),
    _config("config-a-list", "- version: 1\n", "expected one YAML mapping (keys such as"),
    _config("config-a-string", "version 1\n", "found a string"),
    _config("config-empty", "", "netpol.yaml: the file is empty"),
    _config("config-two-documents", "version: 1\n---\nversion: 1\n", "found 2 YAML documents"),
    _config(
        "config-bad-for-scaffold",
        "version: 1\nmode: loud\n",
        "mode: 'loud' is not a valid mode",
        ("-C", "{repo}", "scaffold", "media"),
    ),
    _config(
        "config-bad-for-init",
        "version: 1\nmode: loud\n",
        "mode: 'loud' is not a valid mode",
        ("init", "{repo}"),
    ),
    _config(
        "config-bad-json",
        "version: 1\nmode: loud\n",
        "mode: 'loud' is not a valid mode",
        ("-C", "{repo}", "upgrade", "--json"),
    ),
    # -C and init REPO: a directory that exists (click usage errors, like a file)
    Case(
        "repo-option-missing",
        "example",
        ("-C", "{repo}/nonexistent", "upgrade"),
        2,
        "does not exist",
    ),
    Case("repo-option-file", "example", ("-C", "{repo}/README.md", "upgrade"), 2, "is a file"),
    Case("init-missing-directory", "example", ("init", "{repo}/nonexistent"), 2, "does not exist"),
    Case("init-on-a-file", "example", ("init", "{repo}/README.md"), 2, "is a file"),
    Case("init-no-apps-dir", "empty", ("init", "{repo}"), 1, "no Flux apps directory"),
    # init: directories inside the repository (was: internal error, exit 3)
    Case(
        "init-apps-dir-absolute-outside",
        "example",
        ("init", "--apps-dir", "/etc", "{repo}"),
        1,
        "--apps-dir /etc: must be a directory inside the repository",
    ),
    Case(
        "init-apps-dir-parent",
        "example",
        ("init", "--apps-dir", "../outside", "{repo}"),
        1,
        "--apps-dir ../outside: must be a directory inside the repository",
    ),
    Case(
        "init-apps-dir-missing",
        "example",
        ("init", "--apps-dir", "clusters/apps", "{repo}"),
        1,
        "the directory clusters/apps does not exist",
    ),
    Case(
        "init-apps-dir-a-file",
        "example",
        ("init", "--apps-dir", "README.md", "{repo}"),
        1,
        "README.md is not a directory",
    ),
    Case(
        "init-components-dir-tmp",
        "example",
        ("init", "--components-dir", "/tmp", "{repo}"),
        1,
        "--components-dir /tmp: must be a directory inside the repository",
    ),
    Case(
        "init-json-apps-dir",
        "example",
        ("init", "--json", "--apps-dir", "/etc", "{repo}"),
        1,
        "must be a directory inside the repository",
    ),
    # bad option values: usage errors blamed on the option
    Case(
        "init-gateway-namespace",
        "example",
        ("init", "--gateway-namespace", "Bad_Name", "{repo}"),
        2,
        f"'--gateway-namespace': 'Bad_Name' {_NS_WORDS}",
    ),
    Case(
        "init-apiserver-port-zero",
        "example",
        ("init", "--apiserver-port", "0", "{repo}"),
        2,
        "Invalid value for '--apiserver-port': 0 is not in the range 1<=x<=65535",
    ),
    Case(
        "init-github-repo",
        "example",
        ("init", "--github-repo", "home-ops", "{repo}"),
        2,
        "'--github-repo': 'home-ops' is not a GitHub repository as owner/name",
    ),
    Case(
        "init-json-apiserver-port",
        "example",
        ("init", "--json", "--apiserver-port", "0", "{repo}"),
        2,
        "'--apiserver-port'",
    ),
    Case(
        "init-mode-choice",
        "example",
        ("init", "--mode", "loud", "{repo}"),
        2,
        "'loud' is not one of",
    ),
    # usage
    Case(
        "completion-powershell",
        "empty",
        ("completion", "powershell"),
        2,
        "'powershell' is not one of",
    ),
    Case("completion-no-shell", "empty", ("completion",), 2, "Missing argument 'SHELL'"),
    Case(
        "scaffold-no-namespace",
        "initialised",
        ("-C", "{repo}", "scaffold"),
        2,
        "no namespace given",
    ),
    Case(
        "scaffold-namespaces-and-all",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--all"),
        2,
        "give namespaces or --all, not both",
    ),
    Case(
        "scaffold-json-no-namespace",
        "initialised",
        ("-C", "{repo}", "scaffold", "--json"),
        2,
        "no namespace given",
    ),
    Case(
        "upgrade-json-without-config",
        "empty",
        ("-C", "{repo}", "upgrade", "--json"),
        1,
        "no netpol.yaml",
    ),
]

# --------------------------------------------------------------------------- scaffold
SCAFFOLD_CASES = [
    Case(
        "scaffold-invalid-namespace-name",
        "initialised",
        ("-C", "{repo}", "scaffold", "Media_"),
        1,
        "not a valid namespace name",
    ),
    Case(
        "scaffold-bad-fqdn-syntax",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "no-port"),
        1,
        "expected [APP=]HOST:PORT",
    ),
    Case(
        "scaffold-allow-fqdn-unknown-app",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "typo=api.x.com:443"),
        1,
        "no app 'typo' in namespace(s) media",
    ),
    Case(
        "scaffold-allow-fqdn-close-match",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "downloads", "--allow-fqdn", "sonar=api.x.com:443"),
        1,
        "in namespace(s) media, downloads (did you mean sonarr?)",
    ),
    Case(
        "scaffold-allow-fqdn-bad-host",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=bad_host!:443"),
        1,
        "host 'bad_host!' is not a DNS name",
    ),
    Case(
        "scaffold-allow-fqdn-middle-wildcard",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=a.*.example.com:443"),
        1,
        "is not a DNS name",
    ),
    Case(
        "scaffold-allow-fqdn-numeric-host",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=1.2.3:443"),
        1,
        "neither an IP address nor a DNS name",
    ),
    Case(
        "scaffold-allow-fqdn-port-0",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=api.x.com:0"),
        1,
        "port 0 is not a port number 1-65535",
    ),
    Case(
        "scaffold-allow-fqdn-port-70000",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=api.x.com:70000"),
        1,
        "port 70000 is not a port number 1-65535",
    ),
    Case(
        "scaffold-allow-fqdn-bad-protocol",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=api.x.com:443/sctp"),
        1,
        "protocol 'sctp' is not tcp or udp",
    ),
    Case(
        "scaffold-allow-fqdn-bad-ipv6",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=[2001:db8::zz]:443"),
        1,
        "is not an IPv6 address",
    ),
    Case(
        "scaffold-allow-fqdn-unbracketed-ipv6",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "sonarr=2001:db8::1:443"),
        1,
        "expected [APP=]HOST:PORT",
    ),
    Case(
        "scaffold-allow-fqdn-bad-app-name",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "Sonarr=api.x.com:443"),
        1,
        "'Sonarr' is not an app name",
    ),
    Case(
        "scaffold-allow-fqdn-which-app",
        "initialised",
        ("-C", "{repo}", "scaffold", "media", "--allow-fqdn", "api.x.com:443"),
        1,
        "say which one",
    ),
    Case(
        "scaffold-allow-fqdn-hand-written-app",
        "initialised",
        ("-C", "{repo}", "scaffold", "selfhosted", "--allow-fqdn", "glance=api.x.com:443"),
        1,
        "selfhosted/glance has its own policies",
    ),
    Case(
        "scaffold-ip-with-fqdn-style-is-fine",
        "initialised",
        (
            "-C",
            "{repo}",
            "scaffold",
            "media",
            "--dry-run",
            "--fqdn-style",
            "fqdn",
            "--allow-fqdn",
            "sonarr=1.2.3.4:443",
        ),
        0,
        "",
    ),
    Case(
        "scaffold-remove-fqdn-not-recorded",
        "scaffolded",
        ("-C", "{repo}", "scaffold", "media", "--remove-fqdn", "sonarr=api.x.com:443"),
        1,
        "not recorded for media/sonarr (recorded: none)",
    ),
    Case(
        "scaffold-remove-fqdn-unknown-app",
        "scaffolded",
        ("-C", "{repo}", "scaffold", "media", "--remove-fqdn", "typo=api.x.com:443"),
        1,
        "no app 'typo'",
    ),
    Case(
        "scaffold-remove-fqdn-bad-spec",
        "scaffolded",
        ("-C", "{repo}", "scaffold", "media", "--remove-fqdn", "sonarr=api.x.com"),
        1,
        "--remove-fqdn 'sonarr=api.x.com': expected",
    ),
    Case(
        "scaffold-allow-and-remove-the-same",
        "scaffolded",
        (
            "-C",
            "{repo}",
            "scaffold",
            "media",
            "--allow-fqdn",
            "sonarr=api.x.com:443",
            "--remove-fqdn",
            "sonarr=api.x.com:443",
        ),
        1,
        "both name sonarr=api.x.com:443",
    ),
    Case(
        "scaffold-out-of-scope-namespace",
        "initialised",
        ("-C", "{repo}", "scaffold", "kube-system"),
        1,
        "'netpol scaffold kube-system --include-out-of-scope'",
    ),
    Case(
        "scaffold-unknown-namespace",
        "initialised",
        ("-C", "{repo}", "scaffold", "medai"),
        1,
        "unknown namespace 'medai'",
    ),
    Case(
        "scaffold-hand-edited-overlay",
        "scaffolded",
        ("-C", "{repo}", "scaffold", "media"),
        1,
        "'netpol scaffold media --overwrite' replaces them",
        prepare=_append("kubernetes/apps/media/sonarr/app/cnp-netpol.yaml", "# my edit\n"),
    ),
]

# --------------------------------------------------------------------------- edit
_MEDIA = "{repo}/kubernetes/apps/media/kustomization.yaml"


def _edit(id: str, flag: str, entry: str, fragment: str, *, file: str = _MEDIA) -> Case:
    return Case(id, "initialised", ("edit", file, flag, entry), 1, fragment)


EDIT_CASES = [
    Case(
        "edit-nothing-to-do",
        "initialised",
        ("edit", "{repo}/kubernetes/apps/media/kustomization.yaml"),
        2,
        "nothing to do",
    ),
    _edit(
        "edit-empty-entry", "--add-resource", "", "cannot add '' to resources: the entry is empty"
    ),
    _edit("edit-whitespace-entry", "--add-component", "  ", "the entry is only whitespace"),
    _edit("edit-newline-entry", "--add-resource", "./a\n./b", "contains a line break"),
    _edit("edit-tab-entry", "--add-resource", "./a\tb", "control character U+0009"),
    _edit(
        "edit-leading-space-entry",
        "--add-resource",
        " ./jellyfin/ks.yaml",
        "leading or trailing whitespace",
    ),
    _edit("edit-comment-entry", "--add-resource", "#comment", "starts a YAML comment"),
    _edit(
        "edit-escaping-path",
        "--add-resource",
        "../../../../../../etc/passwd",
        "'..' leave the repository",
    ),
    _edit("edit-absolute-path", "--add-resource", "/etc/passwd", "an absolute path"),
    _edit("edit-missing-target", "--add-resource", "./nope/ks.yaml", "does not exist"),
    _edit(
        "edit-file-outside-kustomization-root",
        "--add-resource",
        "../../flux/cluster/ks.yaml",
        "LoadRestrictionsRootOnly",
    ),
    _edit("edit-file-as-component", "--add-component", "./jellyfin/ks.yaml", "it is a file"),
    _edit(
        "edit-kustomization-as-component",
        "--add-component",
        "./jellyfin/app",
        "components: takes kind Component",
    ),
    _edit(
        "edit-component-as-resource", "--add-resource", "../../components/common", "is a Component"
    ),
    _edit("edit-cycle", "--add-resource", "..", "own directory or a parent of it"),
    _edit(
        "edit-directory-without-kustomization-entry",
        "--add-resource",
        "./jellyfin",
        "no kustomization.yaml",
    ),
    _edit("edit-remove-empty", "--remove-component", "", "cannot remove '' from components"),
    _edit(
        "edit-helmrelease-file",
        "--add-resource",
        "./x.yaml",
        "helmrelease.yaml is a HelmRelease, not a kustomization",
        file="{repo}/kubernetes/apps/media/jellyfin/app/helmrelease.yaml",
    ),
    _edit(
        "edit-flux-kustomization-file",
        "--add-resource",
        "./app",
        "ks.yaml is a Flux Kustomization",
        file="{repo}/kubernetes/apps/media/jellyfin/ks.yaml",
    ),
    _edit(
        "edit-missing-file",
        "--add-resource",
        "./x",
        "nope.yaml: no such file",
        file="{repo}/kubernetes/apps/media/nope.yaml",
    ),
    _edit(
        "edit-directory-without-kustomization",
        "--add-resource",
        "./app",
        "a directory without kustomization.yaml",
        file="{repo}/kubernetes/apps/media/jellyfin",
    ),
    Case(
        "edit-invalid-yaml",
        "initialised",
        ("edit", "{repo}/broken/kustomization.yaml", "--add-resource", "./x"),
        1,
        "kustomization.yaml:3: ",
        prepare=_write("broken/kustomization.yaml", "resources:\n  - ./a\n bad: [\n"),
    ),
    Case(
        "edit-several-documents",
        "initialised",
        ("edit", "{repo}/two", "--remove-resource", "./a"),
        1,
        "kustomization.yaml:4: 2 YAML documents",
        prepare=_write("two/kustomization.yaml", "resources:\n  - ./a\n---\nresources: []\n"),
    ),
    Case(
        "edit-anchor-on-key",
        "initialised",
        ("edit", "{repo}/anchored", "--remove-resource", "./a"),
        1,
        "resources uses the YAML anchor &res",
        prepare=_write("anchored/kustomization.yaml", "resources: &res\n  - ./a\n"),
    ),
    Case(
        "edit-alias-entry",
        "initialised",
        ("edit", "{repo}/aliased", "--remove-resource", "./a"),
        1,
        "resources uses the YAML alias *x",
        prepare=_write("aliased/kustomization.yaml", "x: &x ./b\nresources:\n  - ./a\n  - *x\n"),
    ),
]


# --------------------------------------------------------------------------- writes and faults
def _jobs(id: str, value: str, *extra: str) -> Case:
    return Case(
        id,
        "initialised",
        ("-C", "{repo}", "scaffold", *extra),
        1,
        f"NETPOL_JOBS must be a whole number >= 1 (got {value!r})",
        env=(("NETPOL_JOBS", value),),
    )


def _symlink_outside(rel: str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        outside = root.parent / "outside.yaml"
        outside.write_text("kind: NotYours\n")
        (root / rel).symlink_to(outside)

    return prepare


def _chmod_denies() -> bool:
    """Whether a read-only mode stops this process (not for root, which overrides it)."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe"
        probe.touch(mode=0o444)
        return not os.access(probe, os.W_OK)


def _read_only(*rels: str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        for rel in rels:
            (root / rel).chmod(0o555 if (root / rel).is_dir() else 0o444)

    return prepare


def _mkdir(rel: str) -> Callable[[Path], None]:
    def prepare(root: Path) -> None:
        (root / rel).mkdir(parents=True)
        (root / rel / "keep.txt").write_text("a directory where netpol renders a file\n")

    return prepare


APPLY_CASES: list[Case] = [
    Case(
        "scaffold-directory-where-the-overlay-goes",
        "initialised",
        ("-C", "{repo}", "scaffold", "media"),
        1,
        "kubernetes/apps/media/sonarr/app/cnp-netpol.yaml is a directory",
        prepare=_mkdir("kubernetes/apps/media/sonarr/app/cnp-netpol.yaml"),
    ),
    _jobs("scaffold-netpol-jobs-letters", "abc", "media"),
    _jobs("scaffold-netpol-jobs-zero", "0", "media"),
    _jobs("scaffold-netpol-jobs-negative", "-3", "media"),
    _jobs("scaffold-all-netpol-jobs-fraction", "1.5", "--all"),
    _jobs("scaffold-dry-run-netpol-jobs-word", "two", "media", "--dry-run"),
    Case(
        "scaffold-policy-file-symlinked-outside",
        "initialised",
        ("-C", "{repo}", "scaffold", "media"),
        1,
        "resolves outside the repository",
        prepare=_symlink_outside("kubernetes/apps/media/sonarr/app/cnp-netpol.yaml"),
    ),
    # root writes through chmod: only an unprivileged run can show a read-only file refused
    *(
        [
            Case(
                "scaffold-read-only-kustomization",
                "initialised",
                ("-C", "{repo}", "scaffold", "media"),
                1,
                "cannot write kubernetes/apps/media/kustomization.yaml: permission denied; "
                "nothing was written",
                prepare=_read_only("kubernetes/apps/media/kustomization.yaml"),
            ),
            Case(
                "scaffold-read-only-app-directory",
                "initialised",
                ("-C", "{repo}", "scaffold", "media"),
                1,
                "permission denied; nothing was written",
                prepare=_read_only("kubernetes/apps/media/radarr/app"),
            ),
        ]
        if _chmod_denies()
        else []
    ),
]

CASES = [*CLI_CASES, *SCAFFOLD_CASES, *EDIT_CASES, *APPLY_CASES]


@pytest.fixture
def tree(
    request: pytest.FixtureRequest, tmp_path: Path, netpol: Callable[..., Result]
) -> Callable[[str], Path]:
    def make(setup: str) -> Path:
        if setup == "empty":
            root = tmp_path / "empty"
            root.mkdir()
            return root
        root: Path = request.getfixturevalue("example_repo")
        if setup in {"initialised", "scaffolded"}:
            result = netpol("init", root)
            assert result.exit_code == 0, result.output
        if setup == "scaffolded":
            result = netpol("-C", root, "scaffold", "media")
            assert result.exit_code == 0, result.output
        return root

    return make


def test_the_table_is_large() -> None:
    assert len(CASES) >= 60, len(CASES)
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(
    case: Case, tree: Callable[[str], Path], netpol: Callable[..., Result], monkeypatch
) -> None:
    root = tree(case.setup)
    if case.prepare is not None:
        case.prepare(root)
    monkeypatch.chdir(root)
    before = snapshot(root)
    args = [a.replace("{repo}", str(root)) for a in case.args]
    result = netpol(*args, env=dict(case.env))
    assert result.exit_code == case.code, result.output + result.stderr
    assert case.fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output + result.stderr
    if case.code == 1:
        assert result.stderr.count("\n") == 1, result.stderr
    if "--json" in args and case.code == 1:
        payload = json.loads(result.stdout)
        assert case.fragment in payload["error"]
    assert snapshot(root) == before, "the tree changed"
