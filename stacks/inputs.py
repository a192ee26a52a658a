"""Reading untrusted documents (blueprint files, structured stack config values) within limits.

A blueprint is user input: it may be binary, not UTF-8, a device such as
``/dev/zero``, or a few kilobytes of YAML aliases that expand to billions of
values ("billion laughs"). PyYAML builds such a document cheaply (an alias is a
shared reference) but everything that walks it afterwards (pydantic, the
overrides merge, error messages) would expand it. So every limit is enforced
*while reading*, before any value reaches the rest of the program:

- the file is read up to :data:`MAX_BYTES` and must be UTF-8;
- composition counts the values each node stands for once aliases are
  expanded (merge keys included) and refuses more than :data:`MAX_VALUES`;
- nesting deeper than :data:`MAX_DEPTH` is refused (libyaml's composer
  recurses in C and crashes the interpreter on ~100 000 nested brackets);
- a scalar the YAML constructors cannot turn into a value (a 5000-digit
  integer, month 13) is a YAML error with its line, not a ``ValueError``.

The same limits apply to structured stack config values (JSON text from the
engine), see :func:`check_value`. Every refusal is an :class:`InputError` whose
message names the limit, so the caller can report it as one config problem.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner


class _PyParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python parser: only for a PyYAML built without libyaml."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


_FastParser: type[Any]
try:  # libyaml's parser (issue 16: the C parser is ~10x faster than PyYAML's own)
    from yaml._yaml import CParser as _FastParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _FastParser = _PyParser


MAX_BYTES = 1024 * 1024
MAX_VALUES = 100_000
MAX_DEPTH = 64

# The largest shipped blueprint (bev.yaml, 40 KB) has ~2 700 values nested 7 deep.
LIMITS_RULE = (
    f"a blueprint or config value may be at most {MAX_BYTES // 1024} KiB of UTF-8 text, "
    f"{MAX_VALUES} values once YAML aliases are expanded, nested at most {MAX_DEPTH} deep"
)


PATH = "(path)"


class InputError(Exception):
    """A document broke a limit or could not be read.

    ``where`` is a line and column, ``(whole file)``, ``(value)``, or :data:`PATH` when
    the path itself is wrong (a directory, a device, unreadable): the caller then
    blames the config key that named the path, not the file.
    """

    def __init__(self, where: str, value: object, allowed: str) -> None:
        self.where = where
        self.value = value
        self.allowed = allowed
        super().__init__(f"{where}: {allowed}")


def read_text(path: Path) -> str:
    """The file's text, refusing what is not a readable regular UTF-8 file of bounded size."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(PATH, f"it is {_kind(info.st_mode)}", "a blueprint must be a regular YAML file")
        with path.open("rb") as handle:  # read at most one byte past the limit: a file may grow or lie
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        reason = (error.strerror or type(error).__name__).lower()
        raise InputError(PATH, f"cannot read it ({reason})", "a blueprint must be a readable YAML file") from None
    if len(data) > MAX_BYTES:
        size = max(info.st_size, len(data))
        raise InputError("(whole file)", f"{size} bytes", LIMITS_RULE)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputError(
            f"line {line}, column {column}",
            f"byte 0x{data[error.start]:02x}",
            "a blueprint is UTF-8 text (is this a binary file?)",
        ) from None


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` within :data:`MAX_VALUES` and :data:`MAX_DEPTH`; raises ``yaml.YAMLError`` or InputError."""
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


class _BoundedLoader(_FastParser, Composer, SafeConstructor, Resolver):
    """libyaml's parser, PyYAML's Python composer (so it can count), the safe constructor.

    Each composed node records how many values it stands for with every alias
    expanded; an alias adds the size of its anchor, so the running total is the
    document's expanded size, exact, and costs one addition per node however
    large the expansion would be. It only grows, so reading stops at the limit.
    """

    get_single_node = Composer.get_single_node
    compose_document = Composer.compose_document
    get_single_data = SafeConstructor.get_single_data

    def __init__(self, stream: str) -> None:
        _FastParser.__init__(self, stream)  # pyright: ignore[reportCallIssue] - the stub omits str
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._sizes: dict[int, int] = {}
        self._depth = 0
        self._total = 0  # values of the document so far, aliases expanded: its size once composed

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()
        where = f"line {event.start_mark.line + 1}, column {event.start_mark.column + 1}"
        if isinstance(event, AliasEvent):
            anchored = self.anchors.get(event.anchor)
            if anchored is not None and id(anchored) not in self._sizes:
                raise InputError(where, f"*{event.anchor}", "an alias must not refer to a value that contains it")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise InputError(where, f"{self._depth} levels", LIMITS_RULE)
        try:
            node = Composer.compose_node(self, parent, index)
        finally:
            self._depth -= 1
        if node is None:  # an empty document
            return None
        known = self._sizes.get(id(node))
        if known is None:  # a new node: it is one value, its children were counted as they were composed
            self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in _children(node))
            self._total += 1
        else:  # an alias: it stands for its anchor's whole (expanded) value once more
            self._total += known
        if self._total > MAX_VALUES:
            raise InputError(where, f"more than {MAX_VALUES} values", LIMITS_RULE)
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return SafeConstructor.construct_object(self, node, deep)
        except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as error:
            # e.g. int("1" * 5000) or date(2024, 13, 1): the scalar matched a tag but is no value.
            raise ConstructorError(None, None, f"cannot read {node.tag} value: {error}", node.start_mark) from None


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def decode_json(text: str) -> Any:
    """A structured config value as the engine passes it (JSON text), within the same limits."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InputError("(value)", f"{len(text)} characters", LIMITS_RULE)
    try:
        value = json.loads(text)
    except RecursionError:
        raise InputError("(value)", "deeper than Python can read", LIMITS_RULE) from None
    except json.JSONDecodeError:
        raise  # not JSON at all: the caller treats the text as a plain string
    except ValueError as error:  # JSON, but e.g. an integer of more than 4300 digits
        raise InputError("(value)", str(error)[:80], "numbers must fit in 4300 digits") from None
    check_value(value)
    return value


def check_value(value: Any) -> None:
    """Refuse a decoded value with more than :data:`MAX_VALUES` values or deeper than :data:`MAX_DEPTH`.

    Iterative, and counts a shared or repeated container each time it is reached
    (what a walk over it would cost); stops as soon as a limit is passed.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise InputError("(value)", f"more than {MAX_VALUES} values", LIMITS_RULE)
        if depth > MAX_DEPTH:
            raise InputError("(value)", f"{depth} levels", LIMITS_RULE)
        if isinstance(item, dict):
            stack += [(child, depth + 1) for pair in item.items() for child in pair]
        elif isinstance(item, (list, tuple)):
            stack += [(child, depth + 1) for child in item]
