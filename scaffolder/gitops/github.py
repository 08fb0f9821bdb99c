"""The little of GitHub the rollout needs: find, open and update a pull request.

:class:`PullRequests` is the interface workflows use; :class:`GitHubPullRequests` is the
PyGithub implementation (GitHub.com or GitHub Enterprise through ``base_url``). Tests run it
against a fake HTTP server that checks the requests. PyGithub is imported on first use.

The token is only ever handed to PyGithub: it is never part of a message, a log line or an
exception netpol shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from scaffolder.core.errors import GitHubError

DEFAULT_API = "https://api.github.com"


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    head: str
    base: str
    title: str
    body: str
    state: str = "open"
    draft: bool = False


class PullRequests(Protocol):
    """Pull requests of one repository."""

    def find_open(self, head: str, base: str) -> PullRequest | None:
        """The open pull request from branch ``head`` into ``base``, if there is one."""

    def create(
        self, *, head: str, base: str, title: str, body: str, draft: bool = False
    ) -> PullRequest: ...

    def update(self, number: int, *, title: str, body: str) -> PullRequest: ...


def _redact(text: str, token: str) -> str:
    return text.replace(token, "***") if len(token) >= 4 else text


def _reason(exc: BaseException) -> str:
    """The last ``[Errno N] why`` of a connection error chain, else the error's first line."""
    import re

    found = re.findall(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    if found:
        return str(found[-1]).strip().lower()
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class GitHubPullRequests:
    """:class:`PullRequests` for ``owner/name`` through the GitHub REST API (PyGithub)."""

    def __init__(self, slug: str, token: str, *, base_url: str = DEFAULT_API) -> None:
        owner, sep, name = slug.partition("/")
        if not sep or not owner or not name or "/" in name:
            raise GitHubError(
                f"{slug!r} is not a GitHub repository name",
                hint="use OWNER/NAME (github_repo in netpol.yaml)",
            )
        if not token:
            raise GitHubError(
                "no GitHub token", hint="set GITHUB_TOKEN (or GH_TOKEN) to a token with repo scope"
            )
        self.slug, self.owner = slug, owner
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._repo: Any = None

    def _call(self, what: str, action: Any) -> Any:
        from github import GithubException

        try:
            return action()
        except GithubException as exc:
            data = exc.data if isinstance(exc.data, dict) else {}
            message = str(data.get("message") or "request failed")
            errors = data.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                detail = errors[0].get("message") or errors[0].get("code")
                if detail:
                    message = f"{message}: {detail}"
            hint = {
                401: "check the token (GITHUB_TOKEN): it is missing, wrong or expired",
                403: "the token lacks permission (repo scope / pull requests: write)",
                404: f"check github_repo in netpol.yaml ({self.slug}) and the token's access",
            }.get(exc.status, "retry later; GitHub may be having trouble")
            raise GitHubError(
                _redact(f"GitHub refused to {what} ({exc.status}: {message})", self._token),
                hint=hint,
            ) from None
        except OSError as exc:  # connection refused, DNS, TLS...
            raise GitHubError(
                _redact(
                    f"cannot reach GitHub ({self._base_url}) to {what}: {_reason(exc)}", self._token
                ),
                hint="check the network (and the API URL for GitHub Enterprise)",
            ) from None

    def _repository(self) -> Any:
        if self._repo is None:
            from github import Auth, Github

            client = Github(
                auth=Auth.Token(self._token), base_url=self._base_url, retry=None, timeout=30
            )
            self._repo = self._call("read the repository", lambda: client.get_repo(self.slug))
        return self._repo

    @staticmethod
    def _convert(pr: Any) -> PullRequest:
        return PullRequest(
            number=int(pr.number),
            url=str(pr.html_url),
            head=str(pr.head.ref),
            base=str(pr.base.ref),
            title=str(pr.title),
            body=str(pr.body or ""),
            state=str(pr.state),
            draft=bool(pr.draft),
        )

    def find_open(self, head: str, base: str) -> PullRequest | None:
        repo = self._repository()

        def find() -> Any:
            for pr in repo.get_pulls(state="open", head=f"{self.owner}:{head}", base=base):
                return pr
            return None

        found = self._call(f"list pull requests for {head}", find)
        return self._convert(found) if found is not None else None

    def create(
        self, *, head: str, base: str, title: str, body: str, draft: bool = False
    ) -> PullRequest:
        repo = self._repository()
        pr = self._call(
            f"open a pull request for {head}",
            lambda: repo.create_pull(title=title, body=body, head=head, base=base, draft=draft),
        )
        return self._convert(pr)

    def update(self, number: int, *, title: str, body: str) -> PullRequest:
        repo = self._repository()

        def edit() -> Any:
            pr = repo.get_pull(number)
            pr.edit(title=title, body=body)
            return repo.get_pull(number)

        return self._convert(self._call(f"update pull request #{number}", edit))
