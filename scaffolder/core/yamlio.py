"""Reading YAML the way every netpol command needs it.

* ``load_documents`` parses a (multi-document) file into plain Python data with
  ruamel.yaml's safe loader, rejecting duplicate keys, and turns every parse error
  into a :class:`~scaffolder.core.errors.YamlError` naming the file and line.
* ``read_text`` / ``detect_newline`` keep the exact bytes so editors can splice lines.

Round-trip (comment-preserving) editing lives in :mod:`scaffolder.edit.kustomization`.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import struct
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scaffolder.core.errors import YamlError

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError


@cache
def _safe_yaml() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = False
    return yaml


def read_text(path: Path | str) -> str:
    """Read a file as UTF-8 without newline translation (CRLF stays CRLF)."""
    try:
        return _read_bytes(path).decode("utf-8")
    except FileNotFoundError as exc:
        raise YamlError(path, "file not found") from exc
    except UnicodeDecodeError as exc:
        raise YamlError(path, "not UTF-8 text") from exc
    except OSError as exc:
        raise YamlError(path, f"cannot read ({exc.strerror})") from exc


def _read_bytes(path: Path | str) -> bytes:
    """The bytes of a file: plain system calls (no buffered file object for a whole-file
    read; thousands of small manifests are read per run)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, 1 << 16)
        if not data:
            return data
        chunks = [data]
        while data := os.read(fd, 1 << 20):
            chunks.append(data)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(fd)


def detect_newline(text: str) -> str:
    """The line ending a file uses: ``\\r\\n`` if its first line ends so, else ``\\n``."""
    first = text.find("\n")
    return "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"


def _problem(exc: YAMLError) -> tuple[str, int | None]:
    from ruamel.yaml.error import MarkedYAMLError

    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if "duplicate key" in str(exc).lower():
            problem = (
                "duplicate key " + str(exc).split('"')[1] if '"' in str(exc) else "duplicate key"
            )
        return problem.strip(), line
    return str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid YAML", None


def check_duplicates(node: Any, source: Path | str) -> None:
    """Raise :class:`YamlError` at the first duplicate mapping key of a libyaml node tree."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise YamlError(
                        source, f"duplicate key {key.value!r}", line=key.start_mark.line + 1
                    )
                seen.add(key.value)
            check_duplicates(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            check_duplicates(item, source)


def parse_documents(text: str, source: Path | str) -> list[Any]:
    """Parse every document of ``text`` strictly (duplicate keys are errors); empty
    documents are dropped. libyaml parses; on any problem ruamel.yaml's pure loader
    re-parses, so error messages name the file and line consistently."""
    yaml = _libyaml()
    if yaml is not None:
        try:
            for node in yaml.compose_all(text, Loader=yaml.CSafeLoader):
                check_duplicates(node, source)
            return [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
        except YamlError:
            raise
        except Exception:  # the reference loader decides and explains
            pass
    from ruamel.yaml.error import YAMLError

    try:
        return [doc for doc in _safe_yaml().load_all(text) if doc is not None]
    except YAMLError as exc:
        problem, line = _problem(exc)
        raise YamlError(source, problem, line=line, hint="fix the YAML and retry") from exc


@cache
def _libyaml() -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        return None
    return yaml if hasattr(yaml, "CSafeLoader") else None


class _Unusual(Exception):
    """A node :func:`_fast_loader`'s constructor leaves to PyYAML's (merge keys, !!set...)."""


_IMPLICIT_SCALAR_TAGS = (
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:binary",
    "tag:yaml.org,2002:timestamp",
)


@cache
def _fast_loader() -> Any:
    """``load_all(text)`` equal to ``yaml.load_all(text, Loader=yaml.CSafeLoader)``, faster.

    libyaml parses and composes the node tree either way; PyYAML's Python constructor then
    builds the data through generators and per-node dispatch, and its resolver is called
    for every scalar. Here plain mappings, sequences and strings are built by one tight
    function and scalar tags are resolved through a memo; every other scalar goes to
    PyYAML's own constructor function, and anything unusual (merge keys, ``!!set`` / custom
    tags, unhashable keys, recursive aliases) makes the caller use PyYAML's loader.
    """
    yaml = _libyaml()
    if yaml is None:
        return None
    scalar_node, mapping_node, sequence_node = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode
    str_tag, map_tag, seq_tag = (
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
    )
    resolved: dict[tuple[str, bool, bool], str] = {}
    base_resolve = yaml.CSafeLoader.resolve

    class Loader(yaml.CSafeLoader):  # type: ignore[misc, name-defined]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is not scalar_node:
                return base_resolve(self, kind, value, implicit)
            key = (value, implicit[0], implicit[1])
            tag = resolved.get(key)
            if tag is None:
                tag = base_resolve(self, kind, value, implicit)
                if len(resolved) < 100_000:
                    resolved[key] = tag
            return tag

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass  # path resolvers: the safe loader has none

        def ascend_resolver(self) -> None:
            pass

    if Loader.yaml_path_resolvers:  # pragma: no cover - PyYAML's SafeLoader has none
        return None
    constructor = yaml.constructor.SafeConstructor()
    scalars = {tag: constructor.yaml_constructors[tag] for tag in _IMPLICIT_SCALAR_TAGS}

    def build(node: Any, memo: dict[int, Any]) -> Any:
        cls = node.__class__
        tag = node.tag
        if cls is scalar_node:
            if tag == str_tag:
                return node.value
            make = scalars.get(tag)
            if make is None:
                raise _Unusual
            return make(constructor, node)
        ident = id(node)
        if ident in memo:  # an alias
            value = memo[ident]
            if value is None:
                raise _Unusual  # recursive
            return value
        memo[ident] = None
        if cls is mapping_node and tag == map_tag:
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag != str_tag or key_node.__class__ is not scalar_node:
                    key = build(key_node, memo)  # merge ('<<') and value ('=') keys: unusual
                    if key_node.tag in ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"):
                        raise _Unusual
                    try:
                        hash(key)
                    except TypeError:
                        raise _Unusual from None
                else:
                    key = key_node.value
                mapping[key] = build(value_node, memo)
            memo[ident] = mapping
            return mapping
        if cls is sequence_node and tag == seq_tag:
            sequence = [build(item, memo) for item in node.value]
            memo[ident] = sequence
            return sequence
        raise _Unusual

    def load_all(text: str) -> list[Any]:
        loader = Loader(text)
        try:
            docs = []
            while loader.check_node():
                docs.append(build(loader.get_node(), {}))
            return docs
        finally:
            loader.dispose()

    return load_all


# --------------------------------------------------------------------------- parse memo
#
# Parsing is a pure function of the text. A rerun on a large repository parses the same
# thousands of manifests (and the overlays the previous run validated before writing
# them) again, so results are kept in netpol's cache: an append-only log of records
# ``blake2b-128(text) | length | crc32 | marshal(documents)``, read once per process.
# A hit is unmarshalled afresh (callers get their own objects), ~10x faster than libyaml.

_MEMO_KEY_SIZE = 16
_MEMO_HEADER = struct.Struct(">II")  # payload length, crc32
_MEMO_MAX_BYTES = 32 * 1024 * 1024
_MEMO: dict[str, dict[bytes, bytes]] = {}  # per memo file
_MEMO_FD: dict[str, int] = {}


@cache
def _memo_fingerprint() -> str:
    import sys

    yaml = _libyaml()
    version = getattr(yaml, "__version__", "none") if yaml is not None else "none"
    digest = hashlib.sha256(f"{sys.version}|{version}".encode())
    digest.update(Path(__file__).read_bytes())  # this module's loaders
    return digest.hexdigest()[:16]


_MEMO_PATHS: dict[tuple[str | None, str | None], str] = {}


def _memo_path() -> str:
    """The memo file for the current ``$XDG_CACHE_HOME`` (and ``$HOME``), looked up cheaply."""
    env = (os.environ.get("XDG_CACHE_HOME"), os.environ.get("HOME"))
    path = _MEMO_PATHS.get(env)
    if path is None:
        from scaffolder.core.fs import cache_dir

        path = _MEMO_PATHS[env] = str(cache_dir() / f"parse-memo-{_memo_fingerprint()}.log")
    return path


def _parse_memo(path: str) -> dict[bytes, bytes]:
    memo = _MEMO.get(path)
    if memo is not None:
        return memo
    memo = _MEMO[path] = {}
    try:
        with open(path, "rb") as fh:  # noqa: PTH123 - plain bytes, hot path
            data = fh.read(_MEMO_MAX_BYTES + 1)
    except OSError:
        return memo
    if len(data) > _MEMO_MAX_BYTES:
        with contextlib.suppress(OSError):
            os.unlink(path)  # noqa: PTH108 - start over rather than grow without bound
        return memo
    view = memoryview(data)
    offset, end, header = 0, len(data), _MEMO_HEADER.size
    while offset + _MEMO_KEY_SIZE + header <= end:
        key = bytes(view[offset : offset + _MEMO_KEY_SIZE])
        size, crc = _MEMO_HEADER.unpack_from(view, offset + _MEMO_KEY_SIZE)
        start = offset + _MEMO_KEY_SIZE + header
        payload = bytes(view[start : start + size])
        if len(payload) != size or zlib.crc32(payload) != crc:
            break  # a torn or foreign record: ignore the rest
        memo[key] = payload
        offset = start + size
    return memo


_MEMO_ON = False


def enable_parse_memo() -> None:
    """Use the parse memo from now on (bulk runs: loading it costs more than a few parses),
    and load it now, before workers fork, so they share it."""
    global _MEMO_ON
    _MEMO_ON = True
    _parse_memo(_memo_path())


def _remember(path: str, key: bytes, docs: list[Any]) -> None:
    try:
        payload = marshal.dumps(docs)
    except ValueError:
        return  # timestamps and other objects marshal cannot store
    _MEMO[path][key] = payload
    record = key + _MEMO_HEADER.pack(len(payload), zlib.crc32(payload)) + payload
    try:
        fd = _MEMO_FD.get(path)
        if fd is None:
            os.makedirs(os.path.dirname(path), exist_ok=True)  # noqa: PTH103, PTH120
            if not os.path.exists(path):  # noqa: PTH110 - a new fingerprint: drop the old logs
                _remove_other_logs(path, "parse-memo-")
            fd = _MEMO_FD[path] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(fd, record)  # one O_APPEND write per record: processes do not interleave
    except OSError:
        pass  # an optimisation only


def _parse_documents_fast(text: str, source: Path | str) -> list[Any]:
    load_all = _fast_loader()
    if load_all is not None:
        try:
            return [doc for doc in load_all(text) if doc is not None]
        except Exception:
            pass
    yaml = _libyaml()
    if yaml is not None:
        try:
            return [doc for doc in yaml.load_all(text, Loader=yaml.CSafeLoader) if doc is not None]
        except Exception:
            pass
    return parse_documents(text, source)


def _remove_other_logs(path: str, prefix: str) -> None:
    """Delete the memo logs next to ``path`` named ``prefix*.log`` (older fingerprints)."""
    current = Path(path)
    for other in current.parent.glob(f"{prefix}*.log"):
        if other.name != current.name:
            with contextlib.suppress(OSError):
                other.unlink()


def parse_documents_fast(text: str, source: Path | str) -> list[Any]:
    """Like :func:`parse_documents`, but with libyaml's C loader when available (~20x faster).

    For bulk reads of manifests (discovery). It tolerates duplicate keys and reads YAML 1.1
    booleans, so files netpol *edits* go through :func:`parse_documents`. On any error the
    reference loader re-parses, so messages (file and line) are the same.
    """
    if not _MEMO_ON:
        return _parse_documents_fast(text, source)
    return _parse_memoised(_memo_path(), text, source)


def document_parser() -> Callable[[str, Path | str], list[Any]]:
    """:func:`parse_documents_fast` for a run reading thousands of files (discovery): the
    memo file's location (from the environment) is looked up once, on first use."""
    path: str | None = None

    def parse(text: str, source: Path | str) -> list[Any]:
        nonlocal path
        if not _MEMO_ON:
            return _parse_documents_fast(text, source)
        if path is None:
            path = _memo_path()
        return _parse_memoised(path, text, source)

    return parse


def _parse_memoised(path: str, text: str, source: Path | str) -> list[Any]:
    memo = _parse_memo(path)
    key = hashlib.blake2b(
        text.encode("utf-8", "surrogatepass"), digest_size=_MEMO_KEY_SIZE
    ).digest()
    payload = memo.get(key)
    if payload is not None:
        try:
            docs: list[Any] = marshal.loads(payload)
            return docs
        except (ValueError, EOFError, TypeError):
            pass
    load_all = _fast_loader()
    if load_all is not None:
        try:
            docs = [doc for doc in load_all(text) if doc is not None]
        except Exception:
            pass
        else:
            _remember(path, key, docs)
            return docs
    yaml = _libyaml()
    if yaml is not None:
        try:
            docs = [doc for doc in yaml.load_all(text, Loader=yaml.CSafeLoader) if doc is not None]
        except Exception:
            pass
        else:
            _remember(path, key, docs)
            return docs
    return parse_documents(text, source)


def load_documents(path: Path) -> list[Any]:
    """Parse every document of the YAML file at ``path``."""
    return parse_documents(read_text(path), path)


def load_mapping(path: Path, *, what: str = "a YAML mapping") -> dict[str, Any]:
    """Load a single-document file whose top level must be a mapping."""
    docs = load_documents(path)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        shape = (
            "empty"
            if not docs
            else f"{len(docs)} documents"
            if len(docs) > 1
            else type(docs[0]).__name__
        )
        raise YamlError(path, f"expected {what}, found {shape}")
    return docs[0]


def safe_load_all(text: str) -> list[Any]:
    """``yaml.load_all(text, Loader=yaml.CSafeLoader)`` without its ``None`` documents, through
    the fast constructor when it applies. Raises PyYAML's ``YAMLError`` on bad YAML."""
    load_all = _fast_loader()
    if load_all is not None:
        try:
            return [doc for doc in load_all(text) if doc is not None]
        except Exception:  # PyYAML's own loader decides, and raises the error
            pass
    import yaml

    return [doc for doc in yaml.load_all(text, Loader=yaml.CSafeLoader) if doc is not None]
