"""Config versioning: files record the netpol that wrote them; newer files are refused in
one line, older ones are migrated in memory and never rewritten by reading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scaffolder import __version__
from scaffolder.core.errors import ConfigError, NetpolError
from scaffolder.core.versioning import WRITTEN_BY, major_minor, newer_than_running
from scaffolder.repo import config as config_module
from scaffolder.repo.config import CONFIG_VERSION, Config, load_config, render_config
from scaffolder.templates.recorded import read_recorded
from scaffolder.templates.render import BASELINE, render

UPGRADE = "upgrade netpol (pip install -U netpol)"
NEXT_MINOR = f"{major_minor(__version__)[0]}.{major_minor(__version__)[1] + 1}"  # type: ignore[index]


def test_version_parsing() -> None:
    assert major_minor("1.2") == (1, 2)
    assert major_minor("1.2.3rc1") == (1, 2)
    assert major_minor("x") is None
    assert ".".join(__version__.split(".")[:2]) == WRITTEN_BY
    assert newer_than_running(NEXT_MINOR)
    assert newer_than_running("99.0")
    assert not newer_than_running(WRITTEN_BY)
    assert not newer_than_running(f"{WRITTEN_BY}.99")  # patch levels never matter
    assert not newer_than_running("0.0")
    assert not newer_than_running(None)


def test_netpol_yaml_records_the_netpol_that_wrote_it(tmp_path: Path) -> None:
    text = render_config(Config())
    assert f'netpol_version: "{WRITTEN_BY}"\n' in text
    path = tmp_path / "netpol.yaml"
    path.write_text(text)
    assert load_config(path) == Config()


def test_netpol_yaml_from_a_newer_netpol_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text(f'version: {CONFIG_VERSION}\nnetpol_version: "{NEXT_MINOR}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.message == (
        f"{path} was written by netpol {NEXT_MINOR}; this is netpol {WRITTEN_BY}: {UPGRADE}"
    )
    assert "\n" not in str(info.value)


def test_a_newer_config_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text(f'version: {CONFIG_VERSION + 1}\nnetpol_version: "{NEXT_MINOR}"\nnew_key: 1\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.message.endswith(
        f"netpol.yaml was written by netpol {NEXT_MINOR}; this is netpol {WRITTEN_BY}: {UPGRADE}"
    )
    path.write_text(f"version: {CONFIG_VERSION + 1}\n")  # no netpol_version recorded
    with pytest.raises(ConfigError, match=r"newer netpol \(config version 2; .*pip install -U"):
        load_config(path)


def test_an_older_netpol_yaml_is_read_and_migrated_in_memory_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate a file of schema version 0, where apps_dir was called "apps".
    def from_0(data: dict[str, Any]) -> dict[str, Any]:
        data["apps_dir"] = data.pop("apps")
        return {**data, "version": 1}

    monkeypatch.setattr(config_module, "MIGRATIONS", {0: from_0})
    path = tmp_path / "netpol.yaml"
    old = 'version: 0\nnetpol_version: "0.0"\napps: clusters/main/apps\n'
    path.write_text(old)
    assert str(load_config(path).apps_dir) == "clusters/main/apps"
    assert path.read_text() == old  # reading never writes


def test_a_config_without_netpol_version_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "netpol.yaml"
    path.write_text(f"version: {CONFIG_VERSION}\n")  # as netpol 0.1.0 wrote it before this
    assert load_config(path) == Config()


def test_answers_files_record_the_version_and_newer_ones_are_refused() -> None:
    rendering = render(BASELINE, Config().baseline_answers())
    [answers] = [data for path, data in rendering.files.items() if path.name.startswith(".")]
    text = answers.decode()
    assert text.count(f'_netpol_version: "{WRITTEN_BY}"\n') == 1
    recorded = read_recorded(text, "components/baseline/.netpol-answers.yaml")
    assert "_netpol_version" not in recorded.answers and recorded.template == BASELINE

    newer = text.replace(f'"{WRITTEN_BY}"', f'"{NEXT_MINOR}"')
    with pytest.raises(NetpolError) as info:
        read_recorded(newer, "apps/media/sonarr/.netpol-answers.yaml")
    assert info.value.message == (
        f"apps/media/sonarr/.netpol-answers.yaml was written by netpol {NEXT_MINOR}; "
        f"this is netpol {WRITTEN_BY}: {UPGRADE}"
    )
    older = text.replace(f'_netpol_version: "{WRITTEN_BY}"\n', "")  # before versions existed
    assert read_recorded(older, "x").answers == recorded.answers


def test_a_newer_repository_is_refused_by_the_cli(initialised_repo: Path, netpol) -> None:
    config = initialised_repo / "netpol.yaml"
    config.write_text(config.read_text().replace(f'"{WRITTEN_BY}"', f'"{NEXT_MINOR}"'))
    result = netpol("-C", initialised_repo, "scaffold", "media", "--dry-run")
    assert result.exit_code == 1
    assert f"was written by netpol {NEXT_MINOR}; this is netpol {WRITTEN_BY}: {UPGRADE}" in (
        result.stderr
    )
