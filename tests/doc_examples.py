"""Run the commands of a Markdown document and compare what they print with the document.

A document is read top to bottom:

- an HTML comment ``<!-- now: 2026-11-28T13:04:22.469435+01:00 -->`` pins the clock for the
  commands that follow it (invisible once rendered; a reader's clock is their own);
- the commands of ``sh`` blocks run in order: ``curl`` against the application (through
  Django's test client), ``python manage.py ...`` as a management command, ``cat FILE``
  reads a file a command wrote; any other command (``make run``, ``psql``) is not run;
- the code block right after a ``sh`` block is what its last command printed. For ``curl``,
  a ``json`` block is the body, with the status named on the prose line just before it
  (`` `201 Created`: ``; 200 when none is named), and a ``text`` block that starts with
  ``HTTP/1.1`` gives the status, headers and body, as ``curl -i`` or ``-D -`` print them.
  For the other commands, a ``text`` block is their output;
- a command without a documented output must succeed (a 2xx, exit code 0).

In documented output, ``…`` stands for what was left out: inside a JSON object, the other
keys; at the end of an array, the other items; inside a string or a line of text, its middle
(``"483c3d7c…2f19d4"``); a line of text that is only ``…``, any lines. Everything else must be
exactly what the service answers.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management import CommandError, call_command
from django.test import Client

ELLIPSIS = "\u2026"
BASE_URL = "http://127.0.0.1:8000"
DOCS = Path(__file__).resolve().parents[1] / "docs"

_FENCE = re.compile(r"^(\s*)```(.*)$")
_NOW = re.compile(r"<!--\s*now:\s*(\S+)\s*-->")
_STATUS_LINE = re.compile(r"^`(\d{3})(?: [^`]*)?`")
_HTTP_STATUS = re.compile(r"^HTTP/1\.1 (\d{3})\b")


@dataclass
class Block:
    """A fenced code block, the prose before it and where it starts in the document."""

    info: str
    text: str
    prose: str
    line: int

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""


@dataclass
class Request:
    """One ``curl`` command, as the application receives it."""

    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    line: int
    command: str


@dataclass
class Command:
    """A command run in the repository: ``python manage.py ...`` or ``cat FILE``."""

    argv: list[str]
    line: int
    command: str


@dataclass
class Expected:
    """A documented answer: status, the headers shown, and the body with its ellipses."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    line: int = 0
    output: str | None = None  # what a command printed


@dataclass
class Step:
    """A command, the instant the clock shows while it runs, and its documented output."""

    request: Request | Command
    now: datetime | None
    expected: Expected | None


def blocks(text: str) -> Iterator[Block]:
    """Yield the fenced code blocks of a Markdown text with the prose before each."""
    lines = text.splitlines()
    prose: list[str] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            prose.append(lines[index])
            index += 1
            continue
        indent, info = opening.group(1), opening.group(2).strip()
        start = index + 1
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        yield Block(info=info, text="\n".join(body), prose="\n".join(prose), line=start)
        prose = []
        index += 1  # the closing fence


def steps(path: Path) -> Iterator[Step]:
    """Yield the document's requests in order, each with its clock and documented answer."""
    now: datetime | None = None
    pending: list[Request | Command] = []
    pending_now: datetime | None = None
    for block in blocks(path.read_text(encoding="utf-8")):
        expected = _expected(block, pending[-1]) if pending else None
        if pending:
            *silent, last = pending
            for request in silent:
                yield Step(request, pending_now, None)
            yield Step(last, pending_now, expected)
            pending = []
        for found in _NOW.findall(block.prose):
            now = datetime.fromisoformat(found)
        if expected is None and block.language in {"sh", "bash", "console"}:
            pending, pending_now = list(_commands(block)), now
    for request in pending:
        yield Step(request, pending_now, None)


def _expected(block: Block, command: Request | Command) -> Expected | None:
    if isinstance(command, Command):
        if block.language == "text":
            return Expected(status=0, output=block.text, line=block.line)
        return None
    if block.language == "json":
        return Expected(
            status=_status_named_before(block),
            body=relaxed_json(block.text),
            has_body=True,
            line=block.line,
        )
    if block.language == "text" and _HTTP_STATUS.match(block.text):
        return _http_answer(block)
    return None


def _status_named_before(block: Block) -> int:
    lines = [line.strip() for line in block.prose.splitlines() if line.strip()]
    if lines:
        named = _STATUS_LINE.match(lines[-1])
        if named:
            return int(named.group(1))
    return 200


def _http_answer(block: Block) -> Expected:
    head, _, body = block.text.partition("\n\n")
    status_line, *header_lines = head.splitlines()
    match = _HTTP_STATUS.match(status_line)
    assert match is not None
    headers = {}
    for line in header_lines:
        if line.strip() == ELLIPSIS:
            continue
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Expected(
        status=int(match.group(1)),
        headers=headers,
        body=relaxed_json(body) if body.strip() else None,
        has_body=bool(body.strip()),
        line=block.line,
    )


def _commands(block: Block) -> Iterator[Request | Command]:
    """Yield the block's commands that can run here, each from its possibly wrapped lines."""
    pending, start = "", 0
    for offset, line in enumerate(block.text.splitlines()):
        if not pending:
            start = offset
        pending = f"{pending}\n{line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1]
            continue
        try:
            argv = shlex.split(pending, comments=True)
        except ValueError:
            continue  # a quoted argument goes on over the next line
        command, pending = pending.strip(), ""
        if not argv:
            continue
        if argv[0] == "curl":
            yield _parse_curl(argv, command, block.line + start)
        elif argv[:2] in (["python", "manage.py"], [".venv/bin/python", "manage.py"]):
            yield Command(argv[2:], block.line + start, command)
        elif argv[0] == "cat" and len(argv) == 2:
            yield Command(argv, block.line + start, command)


def _parse_curl(words: list[str], command: str, line: int) -> Request:
    argv = words[1:]
    method, url, body = None, None, None
    headers: dict[str, str] = {}
    index = 0
    while index < len(argv):
        argument = argv[index]
        if argument in {"-X", "--request"}:
            method, index = argv[index + 1], index + 2
        elif argument in {"-H", "--header"}:
            name, _, value = argv[index + 1].partition(":")
            headers[name.strip()] = value.strip()
            index += 2
        elif argument in {"-d", "--data", "--data-raw"}:
            body, index = argv[index + 1], index + 2
        elif argument in {"-o", "--output", "-D", "--dump-header"}:
            index += 2
        elif argument.startswith("-"):
            index += 1  # -s, -i, -OJ: how curl prints, not what it sends
        else:
            url, index = argument, index + 1
    assert url is not None and url.startswith(BASE_URL), f"line {line}: no {BASE_URL} URL"
    return Request(
        method=method or ("POST" if body is not None else "GET"),
        path=url.removeprefix(BASE_URL),
        headers=headers,
        body=body,
        line=line,
        command=command,
    )


def relaxed_json(text: str) -> Any:
    """Parse JSON in which a bare ``…`` stands for left-out keys or items."""
    out: list[str] = []
    stack: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            stack.append(char)
        elif char in "}]":
            stack.pop()
        elif char == ELLIPSIS:
            out.append(f'"{ELLIPSIS}": null' if stack and stack[-1] == "{" else f'"{ELLIPSIS}"')
            continue
        out.append(char)
    return json.loads("".join(out))


def mismatches(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Return where ``actual`` differs from the documented ``expected`` (empty: it matches)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: documented an object, got {actual!r}"]
        partial = ELLIPSIS in expected
        keys = [key for key in expected if key != ELLIPSIS]
        found = [f"{where}.{key}: documented but absent" for key in keys if key not in actual]
        if not partial:
            found += [
                f"{where}.{key}: present but not documented"
                for key in actual
                if key not in expected
            ]
        for key in keys:
            if key in actual:
                found += mismatches(expected[key], actual[key], f"{where}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: documented an array, got {actual!r}"]
        partial = bool(expected) and expected[-1] == ELLIPSIS
        items = expected[:-1] if partial else expected
        if len(actual) < len(items) or (not partial and len(actual) != len(items)):
            return [f"{where}: documented {len(items)} items, got {len(actual)}"]
        found = []
        for index, item in enumerate(items):
            found += mismatches(item, actual[index], f"{where}[{index}]")
        return found
    if isinstance(expected, str) and ELLIPSIS in expected and expected != ELLIPSIS:
        prefix, _, suffix = expected.partition(ELLIPSIS)
        if isinstance(actual, str) and actual.startswith(prefix) and actual.endswith(suffix):
            return []
        return [f"{where}: documented {expected!r}, got {actual!r}"]
    if type(expected) is not type(actual) or expected != actual:
        return [f"{where}: documented {expected!r}, got {actual!r}"]
    return []


def text_mismatches(expected: str, actual: str) -> list[str]:
    """Return where printed ``actual`` differs from the documented ``expected`` text."""
    wanted = [line.rstrip() for line in expected.strip("\n").splitlines()]
    got = [line.rstrip() for line in actual.replace("\r\n", "\n").strip("\n").splitlines()]
    pieces = []
    for line in wanted:
        if line == ELLIPSIS:
            pieces.append(r"(?:.*\n)*?")  # any lines
        else:
            pieces.append(".*".join(map(re.escape, line.split(ELLIPSIS))) + r"\n")
    pattern = "".join(pieces)
    if re.fullmatch(pattern, "\n".join(got) + "\n"):
        return []
    return ["printed text differs"]


def send(client: Client, request: Request) -> Any:
    """Send one request through the test client, as curl would send it."""
    headers = dict(request.headers)
    content_type = headers.pop("Content-Type", "application/octet-stream")
    return client.generic(
        request.method,
        request.path,
        data=(request.body or "").encode("utf-8"),
        content_type=content_type,
        headers=headers,
    )


def run(command: Command) -> tuple[int, str]:
    """Run a command in the current directory; return its exit code and what it printed."""
    if command.argv[0] == "cat":
        return 0, Path(command.argv[1]).read_text(encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = 0
    # A shell command's print() goes to sys.stdout rather than to the command's stdout.
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            call_command(*command.argv, stdout=out, stderr=err, no_color=True)
        except CommandError as exc:
            err.write(f"CommandError: {exc}\n")
            code = exc.returncode
    return code, out.getvalue() + err.getvalue()


def check(step: Step, answer: Any, document: str) -> list[str]:
    """Return how an answer differs from what the document shows for it."""
    if isinstance(step.request, Command):
        return _check_command(step, answer, document)
    request, expected, response = step.request, step.expected, answer
    where = f"{document}:{request.line} {request.method} {request.path}"
    body = _body_of(response)
    if expected is None:
        if 200 <= response.status_code < 300:
            return []
        return [f"{where}: answered {response.status_code}, documented nothing\n{_show(body)}"]
    problems = []
    if response.status_code != expected.status:
        problems.append(f"status: documented {expected.status}, got {response.status_code}")
    for name, value in expected.headers.items():
        if response.get(name) != value:
            problems.append(f"header {name}: documented {value!r}, got {response.get(name)!r}")
    if expected.has_body:
        problems += mismatches(expected.body, body)
    if not problems:
        return []
    listed = "\n  ".join(problems)
    return [f"{where} (answer at {document}:{expected.line}):\n  {listed}\nActual:\n{_show(body)}"]


def _check_command(step: Step, answer: tuple[int, str], document: str) -> list[str]:
    code, printed = answer
    where = f"{document}:{step.request.line} {step.request.command}"
    if step.expected is None or step.expected.output is None:
        return [] if code == 0 else [f"{where}: exit code {code}, documented nothing\n{printed}"]
    if code == 0 and not text_mismatches(step.expected.output, printed):
        return []
    return [f"{where} (output at {document}:{step.expected.line}): exit code {code}\n{printed}"]


def _body_of(response: Any) -> Any:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


def _show(body: Any) -> str:
    if isinstance(body, str):
        return body
    return json.dumps(body, indent=2, ensure_ascii=False)


def run_document(
    document: str,
    client: Client,
    set_clock: Callable[[datetime], None],
    between: Callable[[], None] = lambda: None,
) -> list[str]:
    """Run a document's commands in order; return every difference from what it shows.

    ``between`` runs after each command: what happens before the reader types the next one
    (the worker rendering the documents just issued).
    """
    problems = []
    for step in steps(DOCS / document):
        if step.now is not None:
            set_clock(step.now)
        if isinstance(step.request, Command):
            answer: Any = run(step.request)
        else:
            answer = send(client, step.request)
        problems += check(step, answer, document)
        between()
    return problems
