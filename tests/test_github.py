"""The GitHub interface against a fake API: the requests sent, and errors as one line
without the token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scaffolder.core.errors import GitHubError
from scaffolder.gitops.github import GitHubPullRequests

from .fake_github import FakeGitHub, serve


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serve(FakeGitHub())


def client(fake: FakeGitHub, token: str | None = None) -> GitHubPullRequests:
    return GitHubPullRequests(fake.slug, token or fake.token, base_url=fake.url)


def test_open_find_and_update_a_pull_request(github: FakeGitHub) -> None:
    prs = client(github)
    assert prs.find_open("netpol/media", "main") is None
    created = prs.create(
        head="netpol/media", base="main", title="netpol: media", body="body", draft=True
    )
    assert (created.number, created.head, created.base, created.draft) == (
        1,
        "netpol/media",
        "main",
        True,
    )
    post = next(r for r in github.requests if r.method == "POST")
    assert post.path == "/repos/owner/home-ops/pulls"
    assert post.body == {
        "title": "netpol: media",
        "body": "body",
        "head": "netpol/media",
        "base": "main",
        "draft": True,
    }
    found = prs.find_open("netpol/media", "main")
    assert found is not None and found.number == 1
    listing = [r for r in github.requests if r.method == "GET" and r.path.endswith("/pulls")]
    assert listing[-1].query == {
        "state": ["open"],
        "head": ["owner:netpol/media"],
        "base": ["main"],
    }
    updated = prs.update(1, title="netpol: media (2 apps)", body="new body")
    assert (updated.title, updated.body) == ("netpol: media (2 apps)", "new body")
    assert github.pulls[1]["body"] == "new body"
    assert prs.find_open("netpol/other", "main") is None


def test_errors_are_one_line_and_never_show_the_token(github: FakeGitHub) -> None:
    bad = "ghp_wrongtoken_SECRET"
    with pytest.raises(GitHubError) as info:
        client(github, bad).find_open("netpol/media", "main")
    assert "401" in str(info.value) and "Bad credentials" in str(info.value)
    assert "token" in str(info.value.hint)
    assert bad not in str(info.value) and "\n" not in str(info.value)

    prs = client(github)
    prs.create(head="netpol/media", base="main", title="t", body="b")
    with pytest.raises(GitHubError, match="already exists for netpol/media"):
        prs.create(head="netpol/media", base="main", title="t", body="b")


def test_a_missing_repository_names_the_setting(github: FakeGitHub) -> None:
    prs = GitHubPullRequests("owner/nope", github.token, base_url=github.url)
    with pytest.raises(GitHubError, match="404") as info:
        prs.find_open("netpol/media", "main")
    assert "github_repo in netpol.yaml (owner/nope)" in str(info.value.hint)


def test_bad_settings_are_refused_before_any_request() -> None:
    with pytest.raises(GitHubError, match="not a GitHub repository name"):
        GitHubPullRequests("just-a-name", "t")
    with pytest.raises(GitHubError, match="no GitHub token"):
        GitHubPullRequests("owner/name", "")


def test_an_unreachable_api_is_one_clear_error() -> None:
    prs = GitHubPullRequests("owner/name", "ghp_secret_token", base_url="http://127.0.0.1:9")
    with pytest.raises(GitHubError, match="cannot reach GitHub") as info:
        prs.find_open("netpol/media", "main")
    assert "network" in str(info.value.hint)
    assert str(info.value).startswith(
        "cannot reach GitHub (http://127.0.0.1:9) to read the repository: connection refused"
    )
