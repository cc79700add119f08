"""The fuzzing harness of tests/test_fuzz.py (docs/fuzzing.md).

Three parts:

- ``run_case``: run ``costcalc.cli.main(argv)`` in a forked child under a memory limit
  (RLIMIT_AS) and a wall-clock alarm, with stdout and stderr sent to files; return what
  happened (exit status, output, hang, memory blow-up, crash).
- ``check_case``: the properties every run must have (exit status 0 or 2, 1 only from
  ``check``; no traceback; every stderr line a one-line error; strict and consistent JSON
  reports; byte-identical output when run twice). Returns a ``Failure`` or None.
- hypothesis strategies: specs generated from the language's own declarations
  (``costcalc.layers.TYPES``, ``costcalc.lang.entries.*_KEYS``, ``costcalc.lang.spec.TOP_KEYS``),
  mutations of every shipped spec, hostile YAML text and hostile command-line options.

Everything here reads the declarations at run time, so a new layer type, attribute kind
or key is fuzzed without a change to this file.
"""
import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import pathlib
import re
import resource
import shutil
import signal
import sys
import tempfile
import traceback

import yaml
from hypothesis import strategies as st

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SPECS_DIR = ROOT / "specs"
CASES_DIR = pathlib.Path(__file__).resolve().parent / "cases" / "fuzz"

# ---------------------------------------------------------------- modes and budgets

MODE = os.environ.get("COSTCALC_FUZZ", "ci").strip().lower() or "ci"
LONG = MODE == "long"
SEED = int(os.environ.get("COSTCALC_FUZZ_SEED", "0"))
# examples per fuzz test: small in CI (tests/test_fuzz.py has 4 of them), large locally
EXAMPLES = int(os.environ.get("COSTCALC_FUZZ_EXAMPLES", "2500" if LONG else "60"))
TIMEOUT = float(os.environ.get("COSTCALC_FUZZ_TIMEOUT", "10"))        # seconds per run
MEMORY = int(os.environ.get("COSTCALC_FUZZ_MEMORY", str(2 << 30)))     # bytes (RLIMIT_AS)
# COSTCALC_FUZZ_COLLECT=DIR: record each distinct failure under DIR and keep going
# instead of stopping at the first one (the long mode's campaign, see docs/fuzzing.md)
COLLECT = os.environ.get("COSTCALC_FUZZ_COLLECT", "")

MEMORY_STATUS = 101      # the child ran out of memory (MemoryError under RLIMIT_AS)
TRACEBACK_STATUS = 102   # the child raised an exception main() did not handle
COUNTS = ("mult_adds", "params", "bn_params", "other_ops")


# ---------------------------------------------------------------- running one case

def _preimport():
    """Import costcalc and what it imports lazily, once, so that each forked child
    starts warm (a few ms per case instead of tens)."""
    import importlib
    import pkgutil
    import costcalc
    for module in pkgutil.walk_packages(costcalc.__path__, "costcalc."):
        try:
            importlib.import_module(module.name)
        except Exception:  # a module being edited: the child imports it itself
            pass
    for name in ("rich.console", "rich.table", "rich.markup", "click", "csv"):
        try:
            importlib.import_module(name)
        except Exception:
            pass


@dataclasses.dataclass
class Outcome:
    status: int | None      # exit status, None if killed by a signal
    signal: int | None      # the signal that killed the child
    out: bytes
    err: bytes

    @property
    def hang(self):
        return self.signal == signal.SIGALRM

    @property
    def memory(self):
        return self.status == MEMORY_STATUS


def _child(argv, out_path, err_path, cwd):
    """In the forked child: limits, redirected output, main(argv); never returns."""
    status = TRACEBACK_STATUS
    try:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)   # the alarm kills the child
        signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        # MEMORY more than the child starts with: a test process that has imported torch
        # (the zoo tests) already maps gigabytes of address space it never touches
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * resource.getpagesize()
        budget = mapped + MEMORY
        limit = budget if hard == resource.RLIM_INFINITY else min(budget, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                      line_buffering=False)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                      errors="backslashreplace", line_buffering=True)
        sys.stdin = io.TextIOWrapper(io.BytesIO(b""))
        os.environ.update(COLUMNS="80", NO_COLOR="1", TERM="dumb")
        os.environ.pop("FORCE_COLOR", None)
        os.chdir(cwd)
        from costcalc.cli import main
        try:
            main(list(argv))
            status = 0
        except SystemExit as exc:
            code = exc.code
            status = code if isinstance(code, int) else (0 if code is None else 1)
        except MemoryError:
            status = MEMORY_STATUS
            try:
                sys.stderr.write("fuzz: MemoryError\n")
            except BaseException:
                pass
        except BaseException:  # what the real command would print as a traceback
            status = TRACEBACK_STATUS
            try:
                sys.stderr.write(traceback.format_exc())
            except MemoryError:
                status = MEMORY_STATUS
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except MemoryError:
                status = MEMORY_STATUS
            except BaseException:
                pass
    except MemoryError:
        status = MEMORY_STATUS
    except BaseException:
        try:
            os.write(2, traceback.format_exc().encode("utf-8", "replace"))
        except BaseException:
            pass
    finally:
        os._exit(status)


def run_many(jobs, parallel=4):
    """Run each (argv, cwd) of ``jobs`` in its own forked child, up to ``parallel`` at
    once; return their Outcomes in order."""
    _preimport()
    results = [None] * len(jobs)
    running = {}   # pid -> (index, tmp)
    pending = list(enumerate(jobs))
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        while pending or running:
            while pending and len(running) < max(1, parallel):
                index, (argv, cwd) = pending.pop(0)
                tmp = tempfile.mkdtemp(prefix="costcalc-fuzz-run-")
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child
                    _child(argv, os.path.join(tmp, "out"), os.path.join(tmp, "err"), cwd or tmp)
                running[pid] = (index, tmp)
            pid, wait_status = os.wait()
            if pid not in running:
                continue
            index, tmp = running.pop(pid)
            results[index] = _outcome(os.waitstatus_to_exitcode(wait_status), tmp)
    finally:
        for pid, (_, tmp) in running.items():  # only if interrupted
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
            shutil.rmtree(tmp, ignore_errors=True)
    return results


def _outcome(status, tmp):
    out_path, err_path = os.path.join(tmp, "out"), os.path.join(tmp, "err")
    out = pathlib.Path(out_path).read_bytes() if os.path.exists(out_path) else b""
    err = pathlib.Path(err_path).read_bytes() if os.path.exists(err_path) else b""
    shutil.rmtree(tmp, ignore_errors=True)
    if status < 0:
        return Outcome(None, -status, out, err)
    return Outcome(status, None, out, err)


def run_case(argv, cwd=None):
    """Run ``costcalc ARGV`` in a forked child; return its Outcome."""
    return run_many([(argv, cwd)], 1)[0]


# ---------------------------------------------------------------- properties

@dataclasses.dataclass
class Failure:
    kind: str               # hang, memory, crash, traceback, status, message, json, ...
    detail: str             # one line: what is wrong
    signature: str          # what makes two failures the same class
    argv: list
    files: dict             # name -> bytes, written to the case's folder
    outcome: Outcome

    def describe(self):
        err = self.outcome.err.decode("utf-8", "replace")
        shown = "".join(f"\n  {name}:\n{data[:1200]!r}" for name, data in self.files.items())
        return (f"{self.kind}: {self.detail}\n  argv: {self.argv!r}{shown}\n"
                f"  status: {self.outcome.status} signal: {self.outcome.signal}\n"
                f"  files: {', '.join(f'{k} ({len(v)} bytes)' for k, v in self.files.items())}"
                f"\n  stderr (last 1500 chars):\n{err[-1500:]}")


class Bad(Exception):
    """One property does not hold: (kind, detail, signature)."""

    def __init__(self, kind, detail, signature=None):
        super().__init__(detail)
        self.kind, self.detail, self.signature = kind, detail, signature or detail


def _shipped_paths():
    return {str(p) for p in SPECS_DIR.glob("*.y*ml")} | {
        str(p) for p in (ROOT / "costcalc" / "specs").glob("*.y*ml")}


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _path_pattern(path):
    """A path as a regular expression, each control character in it allowed raw in no
    form but an escape (``\\x1b``, ``\\n``, ``U+001B``)."""
    return r"(?:\\[a-z0-9]{1,8}|U\+[0-9A-F]{4})".join(
        re.escape(part) for part in _CONTROL.split(path))


_NOTE = re.compile(r"costcalc: note: [^\x00-\x1f]+\Z")   # an option's one-line note


def _error_line_pattern(argv, cwd):
    """``PATH:LINE:COL: error: MESSAGE``, ``PATH: error: MESSAGE`` or ``costcalc: error:
    MESSAGE``, where PATH is a spec the command was given (as typed, or resolved)."""
    paths = set(_shipped_paths())
    for arg in argv:
        for candidate in (arg, arg.split("@")[0]):
            paths.update((candidate, repr(candidate)))
            if cwd:
                paths.add(os.path.join(cwd, candidate))
            if cwd and candidate and os.path.isdir(os.path.join(cwd, candidate)):
                top = os.path.join(cwd, candidate)
                for folder, dirs, names in os.walk(top):
                    for name in dirs + names:
                        paths.add(os.path.join(candidate, os.path.relpath(
                            os.path.join(folder, name), top)))
    paths.add("<spec>")
    alternatives = "|".join(_path_pattern(p) for p in sorted(paths, key=len, reverse=True))
    return re.compile(rf"(?:(?:{alternatives}):\d+:\d+: error: .+|(?:{alternatives}): error: .+"
                      rf"|costcalc: error: .+)\Z", re.S)


def _traceback_signature(err):
    """'ValueError at costcalc/yamlload.py:_build' from the last costcalc frame."""
    text = err.decode("utf-8", "replace")
    lines = text.rstrip().splitlines()
    exc_line = lines[-1] if lines else ""
    exc_type = exc_line.split(":")[0].strip() or "?"
    frames = re.findall(r'File "([^"]+)", line \d+, in (\S+)', text)
    inside = [(f, fn) for f, fn in frames if "/costcalc/" in f and "/tests/" not in f]
    last = inside[-1] if inside else (frames[-1] if frames else ("?", "?"))
    where = re.sub(r".*/(costcalc/[^/]+|[^/]+/[^/]+)$", r"\1", last[0])
    return f"{exc_type} at {where}:{last[1]}"


def last_frames(err, count=4):
    """The last ``count`` frames and the exception line of a traceback text."""
    lines = err.decode("utf-8", "replace").rstrip().splitlines()
    frame_starts = [i for i, line in enumerate(lines) if line.lstrip().startswith('File "')]
    if not frame_starts:
        return "\n".join(lines[-3:])
    start = frame_starts[-count] if len(frame_starts) >= count else frame_starts[0]
    return "\n".join(line.replace(str(ROOT) + "/", "") for line in lines[start:])


def _strict_json(text):
    def reject(constant):
        raise ValueError(f"non-standard JSON constant {constant}")
    return json.loads(text, parse_constant=reject)


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _walk_numbers(value, path="$"):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_numbers(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_numbers(item, f"{path}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


def check_report_json(data):
    """A report (``costcalc SPEC --format json``): counts are non-negative integers and
    every breakdown sums to the totals."""
    if not isinstance(data, dict) or "totals" not in data or "layers" not in data:
        raise Bad("json", "a report without totals or layers", "json: no totals/layers")
    totals, rows = data["totals"], data["layers"]
    for key in COUNTS + ("layers",) + (("flops",) if "flops" in totals else ()):
        if not _is_count(totals.get(key)):
            raise Bad("json", f"totals.{key} = {totals.get(key)!r} is not a non-negative integer",
                      f"json: totals.{key} not a count")
    if totals["layers"] != len(rows):
        raise Bad("json", f"totals.layers = {totals['layers']} but {len(rows)} rows",
                  "json: layer count")
    for row in rows:
        for key in COUNTS + (("flops",) if "flops" in row else ()):
            if not _is_count(row.get(key)):
                raise Bad("json", f"layer {row.get('name')!r}: {key} = {row.get(key)!r} is not "
                          "a non-negative integer", f"json: layer {key} not a count")
        output = row.get("output")
        if not (isinstance(output, list) and all(_is_count(v) and v > 0 for v in output)):
            raise Bad("json", f"layer {row.get('name')!r}: output {output!r}", "json: output")
    for key in COUNTS:
        if sum(row[key] for row in rows) != totals[key]:
            raise Bad("json", f"the layers' {key} sum to {sum(r[key] for r in rows)}, "
                      f"totals say {totals[key]}", f"json: {key} column sum")
    for section in ("by_type", "by_resolution", "by_stage"):
        groups = data.get(section)
        if groups is None:
            continue
        for key in COUNTS + ("layers",):
            if not all(_is_count(g.get(key)) for g in groups):
                raise Bad("json", f"{section}: {key} not a count", f"json: {section} {key}")
            if sum(g[key] for g in groups) != totals[key]:
                raise Bad("json", f"{section}: {key} sums to {sum(g[key] for g in groups)}, "
                          f"totals say {totals[key]}", f"json: {section} {key} sum")
    for path, number in _walk_numbers({k: v for k, v in data.items() if k != "params"}):
        if path.endswith("_share") and not 0 <= number <= 1:
            raise Bad("json", f"{path} = {number} is not a share in [0, 1]", "json: share range")
        if number < 0:
            raise Bad("json", f"{path} = {number} is negative", "json: negative number")


def check_other_json(data):
    """compare / sweep / check JSON: no negative numbers, counts are integers."""
    for path, number in _walk_numbers(data):
        leaf = path.rsplit(".", 1)[-1].split("[")[0]
        if leaf in COUNTS + ("layers", "flops") and isinstance(number, float):
            raise Bad("json", f"{path} = {number!r} is not an integer", f"json: {leaf} float")
        if leaf in COUNTS + ("layers", "flops") and number < 0:
            raise Bad("json", f"{path} = {number!r} is negative", f"json: {leaf} negative")


def check_report_csv(text, totals):
    """``--format csv`` of a report: the columns sum to the JSON report's totals."""
    rows = list(csv.DictReader(io.StringIO(text)))
    for key in COUNTS:
        try:
            values = [int(row[key]) for row in rows]
        except (KeyError, ValueError, TypeError) as exc:
            raise Bad("csv", f"column {key}: {exc}", f"csv: column {key}") from None
        if any(v < 0 for v in values) or sum(values) != totals[key]:
            raise Bad("csv", f"column {key} sums to {sum(values)}, JSON totals say "
                      f"{totals[key]}", f"csv: {key} column sum")


def _option(argv, name):
    """The last value of option ``name`` in argv, or None."""
    value = None
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def command_of(argv):
    if argv and argv[0] in ("check", "compare", "sweep", "list", "report"):
        return argv[0]
    return "report"


def check_outcome(argv, outcome, cwd=None):
    """Raise Bad if one run's outcome breaks a property."""
    command = command_of(argv)
    if outcome.hang:
        raise Bad("hang", f"no answer within {TIMEOUT:g} s (killed)", "hang")
    if outcome.memory:
        frames = _traceback_signature(outcome.err) if b"Traceback" in outcome.err else ""
        raise Bad("memory", f"MemoryError under a {MEMORY >> 20} MiB address-space limit",
                  f"memory {frames}".strip())
    if outcome.signal is not None:
        name = signal.Signals(outcome.signal).name
        raise Bad("crash", f"killed by {name}", f"crash {name}")
    err = outcome.err
    if b"Traceback (most recent call last)" in err:
        raise Bad("traceback", _traceback_signature(err), "traceback " + _traceback_signature(err))
    if b"internal error" in err or b"too large or too deep to analyse" in err:
        # the CLI's last guards: one clean line, but a bug that a located error should catch
        raise Bad("internal", err.decode("utf-8", "replace")[:200],
                  "internal " + err.decode("utf-8", "replace")[:80])
    allowed = (0, 1, 2) if command == "check" else (0, 2)
    if outcome.status not in allowed:
        raise Bad("status", f"exit status {outcome.status} from {command}",
                  f"status {outcome.status} from {command}")
    try:
        err_text = err.decode("utf-8")
    except UnicodeDecodeError:
        raise Bad("message", "stderr is not UTF-8", "message: not UTF-8") from None
    pattern = _error_line_pattern(argv, cwd)
    lines = err_text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    notes = [line for line in lines if _NOTE.match(line)]
    lines = [line for line in lines if not _NOTE.match(line)]
    if len(notes) > 4:
        raise Bad("message", f"{len(notes)} notes", "message: more than four notes")
    for line in lines:
        if not pattern.match(line):
            raise Bad("message", f"stderr line is not a one-line error: {line[:200]!r}",
                      "message: " + _message_class(line, err_text))
    if outcome.status == 2 and not lines:
        raise Bad("message", "exit status 2 without an error message", "message: silent exit 2")
    if outcome.status == 0 and lines:
        raise Bad("message", f"success with an error message: {lines[0][:200]!r}",
                  "message: error on success")
    if outcome.status == 0 and command in ("report", "compare", "sweep", "check"):
        fmt = _option(argv, "--format")
        if fmt == "json":
            try:
                data = _strict_json(outcome.out.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise Bad("json", f"not strict JSON: {str(exc)[:200]}",
                          "json: not strict JSON" + (" (NaN/Infinity)"
                                                     if "constant" in str(exc) else "")) from None
            if command == "report":
                check_report_json(data)
            else:
                check_other_json(data)
        else:
            check_output_format(argv, outcome.out)



# ---------------------------------------------------------------- outputs read back

# Characters no output line may carry raw: C0 controls but line feed (CSV's CR LF line
# ends allowed), DEL, C1 controls, and the non-characters XML cannot hold.
_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?\Z")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GRAPHVIZ = shutil.which("dot")


def _no_raw_controls(fmt, text, allow_crlf=False):
    body = text.replace("\r\n", "\n") if allow_crlf else text
    found = _RAW_CONTROL.search(body)
    if found:
        line = body[:found.start()].count("\n") + 1
        raise Bad("output", f"{fmt}: raw U+{ord(found.group()):04X} on line {line}",
                  f"{fmt}: raw control character U+{ord(found.group()):04X}")


def check_csv_text(text):
    """CSV read back with csv.reader: one header, every row as long as it, no cell that a
    spreadsheet would run as a formula (OWASP: a text cell never starts with = + - @ tab
    or CR), no line break inside a cell."""
    _no_raw_controls("csv", text, allow_crlf=True)
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if row]
    except csv.Error as exc:
        raise Bad("csv", f"csv.reader: {exc}", "csv: unreadable") from None
    if not rows:
        raise Bad("csv", "no rows", "csv: empty")
    width = len(rows[0])
    for number, row in enumerate(rows, 1):
        if len(row) != width:
            raise Bad("csv", f"row {number} has {len(row)} cells, the header {width}",
                      "csv: ragged rows")
        for cell in row:
            if "\n" in cell or "\r" in cell:
                raise Bad("csv", f"row {number}: a line break in cell {cell[:60]!r}",
                          "csv: line break in a cell")
            if cell.startswith(_FORMULA_START) and not _NUMBER.match(cell):
                raise Bad("csv", f"row {number}: cell {cell[:60]!r} would run as a formula",
                          "csv: formula injection")


def _markdown_cells(line):
    """The cells of a markdown table row, splitting on '|' not escaped by a backslash."""
    cells = re.split(r"(?<!\\)\|", line.strip())
    return cells[1:-1] if len(cells) >= 2 else cells


def check_markdown_text(text):
    """Markdown: each table (a run of lines starting with '|') has a separator row and
    the same number of cells in every row; no raw control characters."""
    _no_raw_controls("markdown", text)
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if not lines[i].startswith("|"):
            i += 1
            continue
        start = i
        while i < len(lines) and lines[i].startswith("|"):
            i += 1
        table = lines[start:i]
        width = len(_markdown_cells(table[0]))
        if len(table) < 2 or not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", table[1].strip()):
            raise Bad("markdown", f"table at line {start + 1} has no separator row",
                      "markdown: table without separator")
        for offset, row in enumerate(table):
            if len(_markdown_cells(row)) != width:
                raise Bad("markdown", f"line {start + offset + 1} has "
                          f"{len(_markdown_cells(row))} cells, its header {width}: "
                          f"{row[:120]!r}", "markdown: ragged table")


def check_junit_text(text):
    """JUnit XML parses (xml.etree), its root is testsuites or testsuite."""
    import xml.etree.ElementTree as ET
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise Bad("junit", f"not well-formed XML: {exc}", "junit: not XML") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise Bad("junit", f"root element {root.tag!r}", "junit: root element")


_ANNOTATION = re.compile(r"::(error|warning|notice)( [a-z]+=[^,:]*(,[a-z]+=[^,:]*)*)?::.+\Z")


def check_github_text(text):
    """GitHub workflow commands: each line an annotation (``::error file=..,line=N::``)
    or the closing count line; properties hold no raw ':' or ','."""
    _no_raw_controls("github", text)
    for line in text.rstrip("\n").split("\n"):
        if line and not (_ANNOTATION.match(line) or re.match(r"\d+ passed", line)):
            raise Bad("github", f"not an annotation: {line[:120]!r}", "github: bad line")


def check_dot_text(text):
    """dot: graphviz reads it back (``dot -Tcanon``), when graphviz is installed."""
    _no_raw_controls("dot", text)
    if not GRAPHVIZ:
        return
    import subprocess
    try:
        done = subprocess.run([GRAPHVIZ, "-Tcanon"], input=text.encode("utf-8"),
                              capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise Bad("dot", "graphviz took over 60 s", "dot: graphviz timeout") from None
    if done.returncode != 0 or b"syntax error" in done.stderr:
        raise Bad("dot", "graphviz: " + done.stderr.decode("utf-8", "replace")[:200],
                  "dot: graphviz refuses it")


def check_table_text(text):
    """The plain table (NO_COLOR set): no raw control characters."""
    _no_raw_controls("table", text)


def check_mermaid_text(text):
    """mermaid: no raw control characters; the text itself is parsed by Mermaid at the end
    of the campaign (mermaid_failures), all diagrams in one node process."""
    _no_raw_controls("mermaid", text)


MERMAID_DIR = ROOT / "tests" / "mermaid"


def mermaid_available():
    return bool(shutil.which("node")) and (MERMAID_DIR / "node_modules" / "mermaid").exists()


def mermaid_failures(texts):
    """[(index, detail)] of the diagrams Mermaid's parser refuses, or that set Mermaid's
    configuration (front matter or %%{init}%% from a spec's text); [] without node."""
    if not texts or not mermaid_available():
        return []
    import subprocess
    done = subprocess.run(["node", str(MERMAID_DIR / "parse_many.mjs")], capture_output=True,
                          input=json.dumps(texts).encode("utf-8"), timeout=600)
    if done.returncode != 0:
        return [(0, "the parser failed: " + done.stderr.decode("utf-8", "replace")[-300:])]
    found = []
    for i, result in enumerate(json.loads(done.stdout)):
        if not result["ok"]:
            found.append((i, "Mermaid refuses it: " + result["error"].split("\n")[0]))
        elif result["config"]:
            found.append((i, f"the diagram sets Mermaid's configuration {result['config']}"))
    return found
READERS = {"csv": check_csv_text, "markdown": check_markdown_text, "junit": check_junit_text,
           "github": check_github_text, "dot": check_dot_text, "table": check_table_text,
           "mermaid": check_mermaid_text}


def check_output_format(argv, out):
    """A successful run's stdout read back by its own format's reader."""
    fmt = _option(argv, "--format") or "table"
    reader = READERS.get(fmt)
    if reader is None:
        return
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError:
        raise Bad("output", f"{fmt}: stdout is not UTF-8", f"{fmt}: not UTF-8") from None
    reader(text)


def _message_class(line, err_text):
    if "\x1b" in line or "\x00" in line:
        return "control characters in the message"
    if err_text.count("\n") > 1:
        return "multi-line message"
    return "unexpected line"


class Link(bytes):
    """A case file that is a symbolic link to ``target`` (its bytes), not a file."""


class Fifo(bytes):
    """A case file that is a named pipe nobody writes to (reading it would block)."""


def _write_files(cwd, files):
    for name, data in files.items():
        path = pathlib.Path(cwd, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, Link):
            os.symlink(data.decode("utf-8", "surrogateescape"), path)
        elif isinstance(data, Fifo):
            os.mkfifo(path)
        else:
            path.write_bytes(data)


def _normal(argv, files):
    files = {name: (data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
             for name, data in (files or {}).items()}
    # a Link or Fifo keeps its kind (bytes subclasses)
    return [str(a) for a in argv], files


def _judge(argv, files, cwd, first, second, cross_format=True):
    """The properties of one case, given its first and (optional) second run."""
    try:
        check_outcome(argv, first, cwd)
        if second is not None and (second.status, second.signal, second.out, second.err) != (
                first.status, first.signal, first.out, first.err):
            check_outcome(argv, second, cwd)
            raise Bad("nondeterministic", "two runs of the same argv differ "
                      f"(status {first.status}/{second.status}, stdout equal: "
                      f"{first.out == second.out}, stderr equal: {first.err == second.err})",
                      "nondeterministic output")
        if (cross_format and first.status == 0 and command_of(argv) == "report"
                and _option(argv, "--format") == "csv" and "--explain" not in argv):
            json_argv = argv + ["--format", "json"]
            as_json = run_case(json_argv, cwd)
            check_outcome(json_argv, as_json, cwd)
            if as_json.status == 0:
                totals = _strict_json(as_json.out.decode("utf-8"))["totals"]
                check_report_csv(first.out.decode("utf-8"), totals)
    except Bad as bad:
        return Failure(bad.kind, bad.detail, bad.signature, argv, files, first)
    return None


def check_case(argv, files=None, deterministic=True, cross_format=True):
    """Write ``files`` (name -> bytes or str) to a fresh folder, run ``costcalc ARGV``
    there (twice when ``deterministic``) and check every property. Returns a Failure or
    None. ``argv`` names the files by their plain names: the run's cwd is the folder."""
    argv, files = _normal(argv, files)
    with tempfile.TemporaryDirectory(prefix="costcalc-fuzz-") as cwd:
        _write_files(cwd, files)
        first = run_case(argv, cwd)
        second = None
        if deterministic and not first.hang and not first.memory:
            second = run_case(argv, cwd)
        return _judge(argv, files, cwd, first, second, cross_format)


def check_cases(cases, parallel=4):
    """check_case for each (argv, files) of ``cases``, the runs in parallel children;
    returns a list of Failure or None."""
    cases = [_normal(argv, files) for argv, files in cases]
    dirs = [tempfile.mkdtemp(prefix="costcalc-fuzz-") for _ in cases]
    try:
        for cwd, (_, files) in zip(dirs, cases):
            _write_files(cwd, files)
        firsts = run_many([(argv, cwd) for (argv, _), cwd in zip(cases, dirs)], parallel)
        again = [i for i, o in enumerate(firsts) if not o.hang and not o.memory]
        seconds = dict(zip(again, run_many([(cases[i][0], dirs[i]) for i in again], parallel)))
        return [_judge(argv, files, cwd, firsts[i], seconds.get(i))
                for i, ((argv, files), cwd) in enumerate(zip(cases, dirs))]
    finally:
        for cwd in dirs:
            shutil.rmtree(cwd, ignore_errors=True)


# ---------------------------------------------------------------- recording failures

def record(failure, directory):
    """Save ``failure`` under DIRECTORY/<signature hash>/ (the first one of each class is
    kept; later ones only count). Returns True if it was a new class."""
    key = hashlib.sha1(failure.signature.encode()).hexdigest()[:12]
    folder = pathlib.Path(directory, key)
    new = not folder.exists()
    if new:
        folder.mkdir(parents=True)
        for name, data in failure.files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, (Link, Fifo)):   # described, not recreated
                target.with_name(target.name + f".{type(data).__name__.lower()}").write_bytes(data)
            else:
                target.write_bytes(data)
        (folder / "argv.json").write_text(json.dumps(failure.argv) + "\n")
        (folder / "failure.txt").write_text(
            f"signature: {failure.signature}\n{failure.describe()}\n\nlast frames:\n"
            f"{last_frames(failure.outcome.err)}\n")
    with open(folder / "count", "a") as handle:
        handle.write("1\n")
    return new


def assert_ok(argv, files=None, **kwargs):
    """check_case, then fail the test (or, with COSTCALC_FUZZ_COLLECT, record it)."""
    failure = check_case(argv, files, **kwargs)
    if failure is None:
        return
    if COLLECT:
        record(failure, COLLECT)
        return
    raise AssertionError(failure.describe())


# ---------------------------------------------------------------- the regression cases

def regression_cases():
    """tests/cases/fuzz/NAME.{yaml,args}: (name, argv, files). NAME.args is a JSON list,
    the argv, in which "{spec}" stands for the spec file; without it the argv is
    ``[spec, --format, json]``."""
    cases = []
    names = sorted({p.stem for p in CASES_DIR.glob("*") if p.suffix in (".yaml", ".args")})
    for name in names:
        spec, args = CASES_DIR / f"{name}.yaml", CASES_DIR / f"{name}.args"
        files = {"spec.yaml": spec.read_bytes()} if spec.exists() else {}
        argv = json.loads(args.read_text()) if args.exists() else ["{spec}", "--format", "json"]
        argv = [a.replace("{spec}", "spec.yaml") for a in argv]
        cases.append((name, argv, files))
    return cases


# ---------------------------------------------------------------- declarations

def declarations():
    """What the spec language declares, read from costcalc at run time."""
    from costcalc import layers
    from costcalc.lang import entries as graph
    from costcalc.lang import spec
    types = {}
    for name, layer_type in layers.TYPES.items():
        attrs = {key: (kind, None if default is layers.REQUIRED else default,
                       default is layers.REQUIRED)
                 for key, (kind, default) in layer_type.attrs.items()}
        types[name] = (layer_type, attrs)
    return {
        "types": types,
        "entry_keys": tuple(graph.ENTRY_KEYS),
        "call_keys": tuple(graph.CALL_KEYS),
        "repeat_keys": tuple(graph.REPEAT_KEYS),
        "group_keys": tuple(graph.GROUP_KEYS),
        "top_keys": tuple(spec.TOP_KEYS),
        "width_rules": tuple(getattr(spec, "WIDTH_RULES", ("floor",))),
        "reserved": tuple(getattr(spec, "MULTIPLIERS", ("alpha", "rho", "resolution"))),
    }


def shipped_specs():
    """{file name: text} of every shipped spec."""
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(SPECS_DIR.glob("*.yaml"))}


# ---------------------------------------------------------------- hostile values

HUGE_DIGITS = "1" + "0" * 5000                       # past Python's 4300-digit int limit
EXTREME_NUMBERS = [0, -1, 1, 2, 3, 7, 2 ** 31, 2 ** 63, 2 ** 64 + 1, 10 ** 12, 10 ** 400,
                   1e308, -1e308, 1e-320, 0.5, -0.0, float("inf"), float("-inf"),
                   float("nan"), 10 ** 9, 1000000000]
EXTREME_TOKENS = ["0", "-1", "1e308", "1e309", "-1e308", ".inf", "-.inf", ".nan", ".NaN",
                  "10" + "0" * 400, HUGE_DIGITS, "0x7fffffffffffffff", "0o777", "0b1111",
                  "1_000_000", "+12", "1e-400", "1000000000", "4.5e18", "-0", "0.0",
                  "123456789012345678901234567890"]
HOSTILE_EXPRESSIONS = [
    "${10**400}", "${2**10**10}", "${10**10**10}", "${'a'*10**10}", "${[0]*10**9}",
    "${(1,)*10**9}", "${" + "+".join(["1"] * 3000) + "}", "${" + "(" * 200 + "1" + ")" * 200 + "}",
    "${" + "-" * 3000 + "1}", "${1/0}", "${1//0}", "${1%0}", "${0**-1}", "${1e308*10}",
    "${int(1e308*10)}", "${round(1e308*10)}", "${-1}", "${0}", "${0.5}", "${1e308}",
    "${int(1e308)}", "${ch(10**400)}", "${ch(-5)}", "${ch(1e308)}", "${ch(0)}",
    "${make_divisible(1e308)}", "${make_divisible(10**400, 0)}", "${max()}", "${min([])}",
    "${[1][5]}", "${ {}[1] }", "${ {1: 2}[[1]] }", "${[1, 2]}", "${ {1: 2} }", "${None}",
    "${True}", "${'x'}", "${'x' * 3}", "${nope}", "${i}", "${__import__}", "${().__class__}",
    "${lambda: 1}", "${[x for x in [1]]}", "${f'{1}'}", "${abs(-10**400)}",
    "${floor(1e308*10)}", "${ceil(-1e308*10)}", "${int('9' * 5000)}", "${1 if 1 else}",
    "${", "$", "${}", "$$", "${'}'}", "${1<2<3}", "${2**-1000000}", "${10**-400}",
    "${round(1.5, 10**9)}", "${round(1, -10**9)}", "${int(1e20)}", "${max(1e308, 10**400)}",
    "${[[[[[[[[[[1]]]]]]]]]]}", "${'%s' % 1}", "${1 in 2}", "${'a' < 1}",
    "${" + "[" * 500 + "]" * 500 + "}",
]
HOSTILE_STRINGS = [
    "", " ", "\x00", "a\x00b", "\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "\r", "\n", "a\nb",
    "\t", "\x7f", "\u200b", "\ufeff", "\U0001F600", "é", "[/x]", "[bold]",
    "[red]x[/red]", "[link=file:///etc/passwd]x[/link]", ":smile:", "[", "]", "\\", "%s",
    "{0}", "${}", "$", "/", "a/b", "input", "..", "x" * 10000, "-", "--help", "@", "a@b",
    "a,b", "a=b", "=", ",", '"', "'", "#", "&a", "*a", "!!int", "|", ">", "<script>",
]
HOSTILE_YAML = [
    "!!int abc", "!!float xyz", "!!bool maybe", "!!null x", "!!str", "!!binary AAAA",
    "!!python/object:os.system ls", "!!python/name:os.system", "!!python/tuple [1, 2]",
    "!!set {a, b}", "!!omap [a: 1]", "!!pairs [a: 1]", "!!timestamp 2001-12-14",
    "!!timestamp not-a-date", "!custom 1", "!<tag:x> 1", "!!map [1]", "!!seq {a: 1}",
    "&a [*a]", "&a {x: *a}", "*undefined", "&a 1", "{<<: {a: 1}}", "<<", "? [1, 2]\n: 3",
    "{[1]: 2}", "{{a: 1}: 2}", "[" * 3000 + "]" * 3000, "{a: " * 1500 + "1" + "}" * 1500,
    "- " * 200 + "x", "\x00", "\x01\x02\x03", "\x1b[2J", "\ufeff", "\t", "'unterminated",
    '"unterminated', '"\\x00"', '"\\ud800"', '"\\U0010FFFF"', "%YAML 1.1", "---", "...",
    "|\n  block", ">-\n  folded", "@reserved", "`reserved", "1e308", ".inf", ".nan",
    HUGE_DIGITS, "-" + HUGE_DIGITS, "0x" + "f" * 5000, "1." + "0" * 5000, "[bold]x[/bold]", "[/x]",
]


def alias_bomb(levels=9, width=9):
    """The 'billion laughs' document: ``width ** levels`` leaves from a few hundred bytes."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def deep_nesting(depth, opener="[", closer="]"):
    return opener * depth + closer * depth


# ---------------------------------------------------------------- YAML writing

class _Dumper(yaml.SafeDumper):
    pass


def _represent_float(dumper, value):
    if math.isnan(value):
        text = ".nan"
    elif math.isinf(value):
        text = ".inf" if value > 0 else "-.inf"
    else:
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            text = text.replace("e", ".0e")
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


def _represent_int(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:int", str(value))


class Raw(str):
    """A YAML text written as is in the value's place (a hostile token)."""


_Dumper.add_representer(float, _represent_float)
_Dumper.add_representer(int, _represent_int)


def _take_raw(tree, raws):
    """``tree`` with each Raw replaced by a placeholder scalar (recorded in ``raws``)."""
    if isinstance(tree, Raw):
        raws.append(str(tree))
        return f"RAWTOKEN{len(raws) - 1}X"
    if isinstance(tree, dict):
        return {_take_raw(k, raws) if isinstance(k, Raw) else k: _take_raw(v, raws)
                for k, v in tree.items()}
    if isinstance(tree, list):
        return [_take_raw(v, raws) for v in tree]
    return tree


def dump(tree):
    """YAML text of ``tree``: flow style for the small mappings, Raw values verbatim."""
    raws = []
    tree = _take_raw(tree, raws)
    old = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
    if old is not None:
        sys.set_int_max_str_digits(0)
    try:
        text = yaml.dump(tree, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=None, width=1 << 20)
    finally:
        if old is not None:
            sys.set_int_max_str_digits(old)
    return re.sub(r"RAWTOKEN(\d+)X", lambda m: raws[int(m.group(1))], text)


# ---------------------------------------------------------------- strategies: values

def _scalar_kinds():
    return st.one_of(
        st.integers(-5, 300), st.sampled_from(EXTREME_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(HOSTILE_STRINGS), st.text(max_size=8), st.booleans(), st.none())


def hardware_file():
    """A hardware file (docs/roofline.md) from costcalc.memory's declarations
    (FIGURE_LIMITS, PRECISION_KEYS, ACTIVATION_BITS, PROFILE_KEYS): zero to three
    profiles, each a valid one with one figure replaced, or with up to two keys deleted
    and up to two values replaced, by figures at and just past their limits, denormal, infinite, NaN or hostile tokens,
    precisions, names, sources and notes of any type, or a misspelt key."""
    from costcalc.analysis import memory

    limits = [float(v) * f for pair in memory.FIGURE_LIMITS.values() for v in pair
              for f in (0.999999, 1.0, 1.000001)]
    valid_figure = st.floats(min_value=1e6, max_value=1e18)
    figure = st.one_of(
        st.floats(min_value=5e-324, max_value=1e-250),   # tiny: a time of inf seconds
        st.sampled_from(limits + [5e-324, 1e-300, 2.2e-308, 1e-6, 0.0, -0.0]),
        st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
        st.integers(-2, 10**19),
        st.sampled_from(EXTREME_TOKENS).map(Raw),
        hostile_value())
    bits = st.sampled_from(memory.ACTIVATION_BITS)
    hostile_bits = st.one_of(st.sampled_from([0, 4, 64, True, 8.0]), hostile_value())
    precision = st.fixed_dictionaries({}, optional={key: bits for key in memory.PRECISION_KEYS})
    hostile_precision = st.one_of(st.fixed_dictionaries(
        {}, optional={key: hostile_bits for key in memory.PRECISION_KEYS}), hostile_value())
    texts = st.text(max_size=12)
    valid = st.fixed_dictionaries({key: valid_figure for key in memory.FIGURE_LIMITS},
                                  optional={"precision": precision, "name": texts,
                                            "sources": st.lists(texts, max_size=2),
                                            "notes": texts})
    replacements = {**{key: figure for key in memory.FIGURE_LIMITS},
                    "precision": hostile_precision, "name": hostile_value(),
                    "sources": hostile_value(), "notes": hostile_value(),
                    "precison": hostile_value()}
    change = st.one_of([st.tuples(st.just(key), value) for key, value in replacements.items()])

    def edited(base, deleted, changes):
        profile = {k: v for k, v in base.items() if k not in deleted}
        profile.update(changes)
        return profile

    one_figure = st.builds(lambda base, key, value: {**base, key: value}, valid,
                           st.sampled_from(list(memory.FIGURE_LIMITS)), figure)
    profile = st.one_of(one_figure, st.builds(
        edited, valid, st.sets(st.sampled_from(memory.PROFILE_KEYS), max_size=2),
        st.lists(change, max_size=2)))
    return st.one_of(
        st.dictionaries(st.sampled_from(["toy", "board", "phone", "1"]), profile,
                        min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(["toy", "1"]), st.one_of(profile, hostile_value()),
                        max_size=2))


def hostile_value():
    """Any value, biased towards the extreme, in any type."""
    return st.one_of(
        _scalar_kinds(),
        st.sampled_from(HOSTILE_EXPRESSIONS),
        st.sampled_from(HOSTILE_YAML).map(Raw),
        st.lists(st.one_of(st.integers(-2, 9), st.text(max_size=3)), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(-2, 9), max_size=2),
    )


def attr_value(kind, names=(), h=1):
    """A value of attribute kind ``kind``: mostly valid, hostile with weight ``h``
    (0: never), or an expression of the names in scope."""
    valid = {
        "channels": st.integers(1, 48),
        "count": st.sampled_from([1, 1, 2, 3, 4]),
        "pair": st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=2,
                                                      max_size=2)),
        "padding": st.one_of(st.sampled_from(["same", "valid"]), st.integers(0, 2),
                             st.lists(st.integers(0, 2), min_size=2, max_size=2)),
        "bool": st.booleans(),
        "scale": st.one_of(st.booleans(), st.sampled_from([0.5, 1.0, 1.5, 2])),
        "fraction": st.sampled_from([0.0, 0.2, 0.5, 0.99]),
        "number": st.one_of(st.integers(0, 10), st.floats(0, 10)),
    }.get(kind, _scalar_kinds())
    options = [(valid, 14), (hostile_value(), h)]
    numeric = sorted(set(names) - {"alpha", "rho", "block_name"})
    if numeric and kind in ("channels", "count", "pair"):
        options.append((st.tuples(st.sampled_from(numeric), st.integers(1, 4)).map(
            lambda t: "${" + f"int({t[0]}) % {t[1]} + 1" + "}"), 2))
    if names and h:
        options.append((st.sampled_from(sorted(names)).map(lambda n: "$" + n), h))
    return st.one_of(*[s for s, w in options for _ in range(w)])


# ---------------------------------------------------------------- strategies: specs

@st.composite
def _layer_entry(draw, decl, env, defined, depth, h):
    """One layer entry: a type from TYPES with its declared attributes."""
    types = decl["types"]
    type_name = draw(st.sampled_from(sorted(types)))
    layer_type, attrs = types[type_name]
    entry = {"type": type_name}
    for key, (kind, default, required) in attrs.items():
        if (required and draw(st.integers(0, 30)) > 0) or draw(st.integers(0, 3)) == 0:
            entry[key] = draw(attr_value(kind, env, h))
    if layer_type.inputs != 1:
        if defined and draw(st.booleans()):   # the same layer twice: shapes agree
            entry["inputs"] = [defined[-1]] * draw(st.integers(1, 3))
        elif defined and (h == 0 or draw(st.integers(0, 8)) > 0):
            entry["inputs"] = draw(st.lists(st.sampled_from(defined + ["input"]), min_size=1,
                                            max_size=3))
        elif h and draw(st.booleans()):
            entry["inputs"] = draw(hostile_value())
        else:
            entry["inputs"] = ["input", "input"]
    _entry_keys(draw, entry, decl["entry_keys"], decl, env, defined, h)
    return entry


def _name(draw, env, h):
    base = draw(st.sampled_from(["a", "b", "conv", "x", "unit", "l"]))
    suffix = draw(st.integers(0, 99))
    choice = draw(st.integers(0, 20))
    if choice < h:
        return draw(hostile_value())
    if choice < 2 * h:
        return draw(st.sampled_from(HOSTILE_STRINGS))
    if choice == 20 and env:
        return f"{base}${{{draw(st.sampled_from(sorted(env)))}}}"
    return f"{base}{suffix}"


def _entry_keys(draw, entry, keys, decl, env, defined, h):
    """The keys every entry may have (ENTRY_KEYS and friends), from the declaration."""
    new_names = []
    for key in keys:
        if key in entry or key in ("type", "block", "repeat", "layers", "inputs"):
            continue
        if key == "input" and "inputs" in entry and not h:
            continue
        if draw(st.integers(0, 5)) != 0:
            continue
        if key == "name":
            entry[key] = _name(draw, env, h)
            if isinstance(entry[key], str):
                new_names.append(entry[key])
        elif key == "input":
            entry[key] = draw(st.sampled_from(defined + ["input"])) if (
                defined and draw(st.integers(0, 6)) >= h) else (
                draw(hostile_value()) if h else "input")
        elif key == "stage":
            entry[key] = draw(st.sampled_from(["s1", "s2", "stem", "${'s' * 2}"])) if (
                draw(st.integers(0, 6)) >= h) else draw(hostile_value())
        elif key == "when":
            good = ["${True}", "${False}", "${in_channels > 4}", "${alpha < 1}", "${1 == 1}",
                    "${in_height >= 8}", True, False] + (["${i == 0}"] if "i" in env else [])
            entry[key] = draw(st.sampled_from(good if draw(st.integers(0, 6)) >= h else
                                              ["yes", 1, None, "${nope}", "${i == 0}", [1]]))
        elif key == "as":
            entry[key] = draw(st.sampled_from(["i", "j", "k", "i", "1x", ""]))
        else:  # a key this file does not know yet: any value
            entry[key] = draw(hostile_value())
    defined.extend(new_names)
    if h and draw(st.integers(0, 40)) < h:  # an unknown or misplaced key
        all_keys = sorted(set(decl["entry_keys"] + decl["repeat_keys"] + decl["call_keys"]
                              + decl["group_keys"] + decl["top_keys"]) | {"bogus"})
        entry[draw(st.sampled_from(all_keys))] = draw(hostile_value())


@st.composite
def _entries(draw, decl, env, blocks, defined, depth, max_size=5, h=1):
    entries = []
    for _ in range(draw(st.integers(1, max_size))):
        kind = draw(st.sampled_from(["layer"] * 8 + ["call", "repeat", "group"]))
        if kind == "call" and blocks:
            entries.append(draw(_call(decl, env, blocks, defined, h)))
        elif kind == "repeat" and depth < 3:
            entries.append(draw(_repeat(decl, env, blocks, defined, depth, h)))
        elif kind == "group" and depth < 3:
            group = {"layers": draw(_entries(decl, env, blocks, defined, depth + 1, 3, h))}
            _entry_keys(draw, group, decl["group_keys"], decl, env, defined, h)
            entries.append(group)
        else:
            entries.append(draw(_layer_entry(decl, env, defined, depth, h)))
        if h and draw(st.integers(0, 80)) < h:   # not a mapping where a layer is expected
            entries.append(draw(hostile_value()))
    return entries


@st.composite
def _call(draw, decl, env, blocks, defined, h):
    block = draw(st.sampled_from(sorted(blocks)))
    entry = {"block": block}
    for arg, required in blocks[block].items():
        if required or draw(st.booleans()):
            entry[arg] = draw(attr_value("channels", env, h))
    _entry_keys(draw, entry, decl["call_keys"], decl, env, defined, h)
    return entry


@st.composite
def _repeat(draw, decl, env, blocks, defined, depth, h):
    count = draw(st.sampled_from([0, 1, "${2}", "$n", 10 ** 9, -1, 1.5, "x", None, [1],
                                  "${10**400}"]) if draw(st.integers(0, 10)) < h
                 else st.integers(0, 4))
    var = draw(st.sampled_from(["i", "i", "j"]))
    entry = {"repeat": count, "as": var} if var != "i" or draw(st.booleans()) else {
        "repeat": count}
    inner_env = set(env) | {var}
    if blocks and draw(st.booleans()):
        block = draw(st.sampled_from(sorted(blocks)))
        entry["block"] = block
        for arg, required in blocks[block].items():
            if required or draw(st.booleans()):
                entry[arg] = draw(attr_value("channels", inner_env, h))
    else:
        entry["layers"] = draw(_entries(decl, inner_env, blocks, [], depth + 1, 3, h))
    if draw(st.integers(0, 3)) == 0:
        entry["name"] = draw(st.sampled_from([f"rep{var}", "r${" + var + "}", "u${" + var +
                                              " + 2}", "rep"] + (["r${nope}"] if h else [])))
    _entry_keys(draw, entry, [k for k in decl["repeat_keys"] if k != "as"], decl, inner_env,
                defined, h)
    return entry


HOSTILITY = [0, 0, 0, 1, 1, 2, 4]
_words = st.text(st.sampled_from("abc xyz-.,()0123456789"), max_size=20)


@st.composite
def generated_spec(draw):
    """A spec built from the language's declarations: mostly valid, sometimes not."""
    decl = declarations()
    h = draw(st.sampled_from(HOSTILITY))   # how hostile this spec is (0: not at all)
    top = {}
    params = {}
    for _ in range(draw(st.integers(0, 3))):
        pname = draw(st.sampled_from(["n", "c", "groups", "width_", "stem", "flag"]))
        params[pname] = draw(st.one_of(
            st.integers(1, 16), st.sampled_from(["${2 * 4}", "auto", True, 0.5]),
            st.fixed_dictionaries({"default": st.integers(1, 8)},
                                  optional={"choices": st.lists(st.integers(1, 8), max_size=3),
                                            "doc": _words})))
        if draw(st.integers(0, 20)) < h:
            params[pname] = draw(hostile_value())
    env = set(params) | {"alpha", "rho", "resolution", "input_channels", "input_height",
                         "input_width"}
    blocks = {}
    block_bodies = {}
    for b in range(draw(st.integers(0, 2))):
        bname = f"blk{b}"
        args = draw(st.lists(st.sampled_from(["out", "stride", "k", "t"]), max_size=3,
                             unique=True))
        arg_defaults = {a: (None if draw(st.booleans()) else draw(st.integers(1, 8)))
                        for a in args}
        inner_env = env | set(args) | {"block_name"}
        body = {"layers": draw(_entries(decl, inner_env, blocks, [], 1, 4, h))}
        if args or draw(st.booleans()):
            body["args"] = arg_defaults if draw(st.integers(0, 4)) else list(args)
        block_bodies[bname] = body
        blocks[bname] = {a: d is None for a, d in arg_defaults.items()}
    layers = draw(_entries(decl, env, blocks, [], 0, 8, h))
    c = draw(st.sampled_from([1, 3, 8, 16]))
    side = draw(st.sampled_from([1, 2, 7, 16, 32, 33]))
    for key in decl["top_keys"]:
        if key == "name":
            top[key] = "Fuzz" if draw(st.integers(0, 8)) >= h else draw(
                st.sampled_from(HOSTILE_STRINGS))
        elif key == "source" and draw(st.booleans()):
            top[key] = "generated" if draw(st.integers(0, 8)) >= h else draw(
                st.sampled_from(HOSTILE_STRINGS))
        elif key in ("description", "notes") and draw(st.integers(0, 4)) == 0:
            top[key] = draw(_words if draw(st.integers(0, 4)) >= h else st.text(max_size=20))
        elif key == "input":
            top[key] = [c, side, side] if draw(st.integers(0, 15)) >= h else draw(
                hostile_value())
        elif key == "params" and params:
            top[key] = params
        elif key == "width" and draw(st.booleans()):
            top[key] = {"rule": draw(st.sampled_from(decl["width_rules"]))}
            if draw(st.booleans()):
                top[key][draw(st.sampled_from(["min", "divisor"]))] = draw(
                    st.integers(1, 8) if draw(st.integers(0, 4)) >= h else hostile_value())
        elif key == "defaults" and draw(st.integers(0, 4)) == 0:
            tname = draw(st.sampled_from(sorted(decl["types"])))
            tattrs = decl["types"][tname][1]
            if tattrs:
                akey = draw(st.sampled_from(sorted(tattrs)))
                top[key] = {tname: {akey: draw(attr_value(tattrs[akey][0], env, h))}}
        elif key == "blocks" and block_bodies:
            top[key] = block_bodies
        elif key == "layers":
            top[key] = layers
        elif key == "expect" and draw(st.integers(0, 3)) == 0 and h == 0:
            top[key] = [{"metric": "params", "printed": "1M", "source": "fuzz"}]
        elif key == "expect" and draw(st.integers(0, 3)) == 0:
            top[key] = draw(st.lists(st.fixed_dictionaries(
                {"metric": st.sampled_from(["mult_adds", "params", "flops", "bogus"]),
                 "printed": st.sampled_from(["1M", "0", "4.2M", 12, "x", "1e308", ".nan"]),
                 "source": st.just("fuzz")},
                optional={"alpha": st.sampled_from([0.5, 1, 0, -1, 1e308]),
                          "rho": st.sampled_from([0.5, 1, float("nan")]),
                          "resolution": st.sampled_from([32, 0, 10 ** 9]),
                          "of": st.sampled_from(["conv1", "nope", [1]]),
                          "tolerance": st.sampled_from(["1%", 0, -1, "x"])}),
                min_size=1, max_size=3))
        elif key not in ("name", "source", "description", "notes", "input", "params",
                         "width", "defaults", "blocks", "layers", "expect") and \
                draw(st.integers(0, 6)) < h:
            top[key] = draw(hostile_value())   # a top-level key this file does not know yet
    return top


# ---------------------------------------------------------------- strategies: mutations

def _paths(tree, prefix=()):
    """Every (path, value) in a plain YAML tree."""
    yield prefix, tree
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _paths(value, prefix + (i,))


def _get_parent(tree, path):
    node = tree
    for step in path[:-1]:
        node = node[step]
    return node


def _swap_type(draw, value):
    options = [0, 1, "1", "x", "${1}", [value] if not isinstance(value, list) else value[:1],
               {"k": value} if not isinstance(value, dict) else list(value), None, True, 1.5]
    if isinstance(value, str):
        options.append([value])
        options.append({value: 1})
    return draw(st.sampled_from(options))


@st.composite
def tree_mutation(draw, text):
    """A structural mutation of a spec's YAML tree, written back as YAML."""
    import copy
    tree = yaml.safe_load(text)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p, _ in _paths(tree) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _get_parent(tree, path)
        value = parent[path[-1]]
        op = draw(st.sampled_from(["delete", "swap", "extreme", "hostile", "expression",
                                   "string", "wrap", "duplicate_item", "huge_repeat"]))
        if op == "delete":
            del parent[path[-1]]
        elif op == "swap":
            parent[path[-1]] = _swap_type(draw, value)
        elif op == "extreme":
            parent[path[-1]] = draw(st.sampled_from(EXTREME_NUMBERS))
        elif op == "hostile":
            parent[path[-1]] = Raw(draw(st.sampled_from(HOSTILE_YAML + EXTREME_TOKENS)))
        elif op == "expression":
            parent[path[-1]] = draw(st.sampled_from(HOSTILE_EXPRESSIONS))
        elif op == "string":
            parent[path[-1]] = draw(st.sampled_from(HOSTILE_STRINGS))
        elif op == "wrap":
            parent[path[-1]] = draw(st.sampled_from([[value], {"x": value}, [[value]]]))
        elif op == "duplicate_item" and isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(value))
        elif op == "huge_repeat":
            parent[path[-1]] = draw(st.sampled_from([10 ** 9, 10 ** 6, "${10**9}", 2 ** 62]))
    return dump(tree)


@st.composite
def text_mutation(draw, text):
    """A mutation of a spec's text: duplicated keys, hostile tokens, truncation, bytes."""
    data = text.encode("utf-8")
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(["duplicate_line", "insert_token", "replace_value",
                                   "truncate", "flip", "insert_bytes", "delete_range",
                                   "bomb", "nest"]))
        lines = data.split(b"\n")
        if op == "duplicate_line":     # a duplicated key (or list item)
            i = draw(st.integers(0, max(0, len(lines) - 1)))
            lines.insert(i, lines[i])
            data = b"\n".join(lines)
        elif op == "insert_token":
            at = draw(st.integers(0, len(data)))
            token = draw(st.sampled_from(HOSTILE_YAML + EXTREME_TOKENS + HOSTILE_STRINGS))
            data = data[:at] + token.encode("utf-8", "surrogatepass") + data[at:]
        elif op == "replace_value":    # the value after some "key: "
            spots = [m.end() for m in re.finditer(rb": ", data)]
            if spots:
                at = draw(st.sampled_from(spots))
                end = len(data)
                for stop in (b",", b"}", b"\n", b"]"):
                    found = data.find(stop, at)
                    if found != -1:
                        end = min(end, found)
                token = draw(st.sampled_from(HOSTILE_YAML + EXTREME_TOKENS + HOSTILE_EXPRESSIONS
                                             + ['"' + s.replace("\\", "\\\\").replace('"', '\\"')
                                                + '"' for s in HOSTILE_STRINGS
                                                if s.isprintable()]))
                data = data[:at] + token.encode("utf-8") + data[end:]
        elif op == "truncate":
            data = data[:draw(st.integers(0, len(data)))]
        elif op == "flip":
            if data:
                buf = bytearray(data)
                for _ in range(draw(st.integers(1, 8))):
                    at = draw(st.integers(0, len(buf) - 1))
                    buf[at] = draw(st.integers(0, 255))
                data = bytes(buf)
        elif op == "insert_bytes":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
        elif op == "delete_range":
            if data:
                at = draw(st.integers(0, len(data) - 1))
                data = data[:at] + data[at + draw(st.integers(1, 200)):]
        elif op == "bomb":
            data = alias_bomb(draw(st.integers(3, 10))).encode() + data
        elif op == "nest":
            spots = [m.end() for m in re.finditer(rb": ", data)] or [len(data)]
            at = draw(st.sampled_from(spots))
            depth = draw(st.sampled_from([50, 500, 1000, 3000, 10000]))
            data = data[:at] + deep_nesting(depth).encode() + data[at:]
    return data


# ---------------------------------------------------------------- strategies: options

NUMBER_OPTION_VALUES = ["nan", "inf", "-inf", "0", "-1", "1e308", "1e-308", "1e309",
                        "10" + "0" * 400, HUGE_DIGITS[:4400], "0.5", "1", "2", "0.01",
                        "1e-5", "100", "abc", "", " ", "1,2", "0x10", "1_0", "\u0661",
                        "NaN", "Infinity", "0.0000001", "4.9e-324"]
RESOLUTION_VALUES = ["1", "2", "0", "-1", "32", "224", "1000000", "10" + "0" * 30,
                     HUGE_DIGITS[:4400], "nan", "1.5", "abc", ""]


def _maybe_hostile(draw, good, hostile):
    return draw(st.sampled_from(good)) if draw(st.integers(0, 5)) else draw(
        st.sampled_from(hostile))


@st.composite
def report_options(draw, params=()):
    """Options of ``costcalc SPEC``: multipliers, --set, format, flags."""
    argv = []
    if draw(st.integers(0, 2)) == 0:
        argv += ["--alpha", _maybe_hostile(draw, ["0.5", "0.25", "0.75", "1", "1.4"],
                                           NUMBER_OPTION_VALUES)]
    if draw(st.integers(0, 2)) == 0:
        argv += ["--rho", _maybe_hostile(draw, ["0.5", "0.714", "1", "1.3"],
                                         NUMBER_OPTION_VALUES)]
    if draw(st.integers(0, 4)) == 0:
        argv += ["--resolution", _maybe_hostile(draw, ["32", "64", "128"], RESOLUTION_VALUES)]
    for _ in range(draw(st.integers(0, 2)) if draw(st.integers(0, 2)) == 0 else 0):
        name = draw(st.sampled_from(list(params) + ["groups", "classes", "nope", "alpha", ""]))
        value = draw(st.sampled_from(["1", "2", "8", "0", "-1", "true", "[1]", "{a: 1}",
                                      "!!int abc", "1e308", ".nan", "${10**400}", "x",
                                      HUGE_DIGITS, "", "&a [*a]"]))
        argv += ["--set", f"{name}={value}"]
    fmt = draw(st.sampled_from(["json", "json", "json", "table", "csv", "markdown", "dot",
                                "mermaid"]))
    argv += ["--format", fmt]
    for flag in ("--flops", "--all-layers", "--explain", "--standard-conv"):
        if draw(st.integers(0, 5)) == 0:
            argv.append(flag)
    argv += draw(analysis_options())
    return argv


CONVENTIONS = ["paper", "torch", "fvcore", "ptflops", "thop", "torchinfo", "keras"]


@st.composite
def analysis_options(draw, hardware_files=()):
    """--convention, the memory options and --hardware (a shipped profile, a hostile
    name or one of ``hardware_files``), --by and --depth; each drawn rarely."""
    argv = []
    if draw(st.integers(0, 4)) == 0:
        argv += ["--convention", _maybe_hostile(draw, CONVENTIONS, ["", "nope", "PAPER",
                                                                    "paper,torch"])]
    if draw(st.integers(0, 4)) == 0:
        argv += ["--activation-bits", draw(st.sampled_from(["32", "16", "8", "4", "x"]))]
    if draw(st.integers(0, 5)) == 0:
        argv += ["--weight-bits", draw(st.sampled_from(["1", "8", "32", "64", "0", "65"]))]
    if draw(st.integers(0, 6)) == 0:
        argv += ["--density", _maybe_hostile(draw, ["0.5", "1", "0.01"],
                                             NUMBER_OPTION_VALUES)]
    if draw(st.integers(0, 6)) == 0:
        argv += ["--index-bits", draw(st.sampled_from(["0", "4", "64", "65", "-1"]))]
    if draw(st.integers(0, 3)) == 0 or hardware_files:
        choices = ["phone", "phone", "jetson_nano", "nope", "", "/dev/null", "."]
        argv += ["--hardware", draw(st.sampled_from(list(hardware_files) * 4 + choices))]
    if draw(st.integers(0, 5)) == 0:
        argv += ["--by", draw(st.sampled_from(["type", "stage", "resolution", "x"]))]
    if draw(st.integers(0, 6)) == 0:
        argv += ["--depth", draw(st.sampled_from(["1", "2", "3", "0", "10000"]))]
    return argv


# ---------------------------------------------------------------- strategies: hostile text

HOSTILE_TEXT = HOSTILE_STRINGS + [
    "=cmd|' /C calc'!A0", "=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", "ResNet: the 50-layer one",
    "'Tiny' net", '"q"', "%%{init: {'theme': 'dark'}}%%", "---\nconfig:\n  theme: dark\n---",
    "#quot;", "#35;", "a;b", "a{b}", "a[b]", "a(b)", "a-->b", "end", "graph", "subgraph",
    "click a call alert(1)", "<b>x</b>", "<img src=x onerror=alert(1)>", "a|b", "a\\|b",
    "*emph*", "`code`", "<!-- c -->", "&amp;", "\u2028", "\u2029", "\u202e", "\ufffe",
    "\uffff", "\x85", "\x9b", "a\rb", "x\u0000", "\\n", "label=x]", '"]; b [label="x',
    "a -> b", "a -- b", "digraph", "node", "edge", "strict", "α/β", "名前",
]
TEXT_FIELDS = ("name", "source", "description", "notes")


@st.composite
def hostile_text_spec(draw):
    """A valid small spec whose texts (name, source, notes, layer names, stages, a block
    name) are hostile strings: control characters, CSV formulas, Mermaid and dot syntax,
    markdown and HTML. Each must be refused at its line or written escaped everywhere."""
    text = lambda: draw(st.sampled_from(HOSTILE_TEXT))   # noqa: E731
    tree = {"name": text() if draw(st.booleans()) else "Tiny", "input": [3, 16, 16]}
    for key in TEXT_FIELDS[1:]:
        if draw(st.integers(0, 2)) == 0:
            tree[key] = text()
    layers = []
    for i in range(draw(st.integers(1, 4))):
        layer = {"type": draw(st.sampled_from(["conv", "pointwise", "depthwise"]))}
        if layer["type"] != "depthwise":
            layer["out"] = 8
        if layer["type"] != "pointwise":
            layer["k"] = 3
        if draw(st.booleans()):
            layer["name"] = text() if draw(st.booleans()) else f"{text()}{i}"
        if draw(st.integers(0, 2)) == 0:
            layer["stage"] = text()
        layers.append(layer)
    layers += [{"type": "global_avgpool"}, {"type": "fc", "out": 10,
                                            **({"name": text()} if draw(st.booleans()) else {})}]
    tree["layers"] = layers
    return tree


# ---------------------------------------------------------------- strategies: check folders

@st.composite
def check_folder(draw, shipped):
    """A folder of specs for ``costcalc check DIR``: shipped specs (with their
    expectations), some mutated or broken, a nested folder, links (to a spec, dangling,
    a loop), a FIFO, file names with control characters; ``shipped`` is {name: text}."""
    files = {}
    names = sorted(shipped)
    for i in range(draw(st.integers(0, 5))):
        source = draw(st.sampled_from(names))
        text = shipped[source]
        kind = draw(st.sampled_from(["as is", "as is", "tree", "text", "broken", "empty"]))
        if kind == "tree":
            text = draw(tree_mutation(text))
        elif kind == "text":
            text = draw(text_mutation(text))
        elif kind == "broken":
            text = "name: [\n"
        elif kind == "empty":
            text = ""
        folder = draw(st.sampled_from(["dir", "dir", "dir/sub"]))
        fname = draw(st.sampled_from([source, f"s{i}.yaml", f"s{i}.yml", f"s{i}.txt",
                                      f"e\x1b[31m{i}.yaml", f"n\n{i}.yaml", f"q'{i}\".yaml",
                                      f"c,{i}:x.yaml", f"<{i}>&.yaml"]))
        files[f"{folder}/{fname}"] = text
    for extra in draw(st.lists(st.sampled_from(["loop", "dangling", "link", "fifo", "dirlink"]),
                               max_size=2, unique=True)):
        if extra == "loop":
            files["dir/loop.yaml"] = Link(b"loop.yaml")
        elif extra == "dangling":
            files["dir/gone.yaml"] = Link(b"nowhere.yaml")
        elif extra == "link" and files:
            files["dir/link.yaml"] = Link(os.path.basename(sorted(files)[0]).encode(
                "utf-8", "surrogateescape") if sorted(files)[0].startswith("dir/") and
                "/sub/" not in sorted(files)[0] else b"nowhere.yaml")
        elif extra == "fifo":
            files["dir/pipe.yaml"] = Fifo(b"")
        elif extra == "dirlink":
            files["dir/up"] = Link(b".")
    if not files:
        files["dir/.keep"] = b""
    paths = draw(st.sampled_from([["dir"], ["dir"], ["dir", "dir"], ["dir/sub"],
                                  ["dir", "mobilenet"], ["nope"]] + [[n] for n in files]))
    fmt = draw(st.sampled_from(["table", "json", "junit", "github"]))
    return ["check", *paths, "--format", fmt], files


@st.composite
def command_line(draw, spec_args, params=()):
    """A command of any subcommand over ``spec_args`` (file names or shipped names)."""
    command = draw(st.sampled_from(["report"] * 6 + ["compare", "sweep", "check"]))
    spec = draw(st.sampled_from(spec_args))
    if command == "report":
        return [spec] + draw(report_options(params))
    if command == "check":
        return ["check", spec, "--format", draw(st.sampled_from(
            ["json", "table", "junit", "github"]))]
    if command == "compare":
        columns = []
        for _ in range(draw(st.integers(1, 3))):
            column = draw(st.sampled_from(spec_args))
            settings = []
            for key, values in (("alpha", ["0.5", "nan", "inf", "0", "1e308", "-1"]),
                                ("rho", ["0.714", "nan", "0", "1e308"]),
                                ("resolution", ["64", "0", "-3", "1.5"]),
                                (draw(st.sampled_from(list(params) + ["groups", "nope"])),
                                 ["1", "8", "x", "[1]"])):
                if draw(st.integers(0, 3)) == 0:
                    settings.append(f"{key}={draw(st.sampled_from(values))}")
            if draw(st.integers(0, 15)) == 0:
                settings.append(draw(st.sampled_from(["", "=", "alpha", "alpha=", ",,"])))
            columns.append(column + ("@" + ",".join(settings) if settings else ""))
        argv = ["compare"] + columns
        argv += draw(report_options(params).map(
            lambda a: [x for x in a if x not in ("--flops", "--all-layers", "--explain",
                                                 "--standard-conv")]))
        if draw(st.integers(0, 3)) == 0:
            argv += ["--by", draw(st.sampled_from(["type", "stage", "resolution"]))]
        return argv
    argv = ["sweep", spec]
    for option, good, hostile in (
            ("--alpha", ["1,0.5", "0.25", "1,0.75,0.5,0.25"], NUMBER_OPTION_VALUES + [
                "1,,2", ",", "nan,1", "1," * 2000 + "1"]),
            ("--rho", ["1,0.5", "0.714"], NUMBER_OPTION_VALUES + ["1,nan"]),
            ("--resolution", ["64,32", "128"], RESOLUTION_VALUES + ["1,0"])):
        if draw(st.integers(0, 2)) == 0:
            argv += [option, _maybe_hostile(draw, good, hostile)]
    argv += ["--format", draw(st.sampled_from(["json", "json", "table", "csv", "markdown"]))]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--layout", draw(st.sampled_from(["grid", "long"]))]
    return argv


def params_of(text):
    """The parameter names a spec text declares (best effort)."""
    try:
        tree = yaml.safe_load(text)
        return tuple(tree.get("params") or ()) if isinstance(tree, dict) else ()
    except Exception:
        return ()


def fuzz_settings(examples=None, **kwargs):
    """hypothesis settings: fixed seed (COSTCALC_FUZZ_SEED) and a budget per mode."""
    from hypothesis import HealthCheck, settings
    return settings(max_examples=examples or EXAMPLES, deadline=None, database=None,
                    derandomize=False, print_blob=True,
                    suppress_health_check=list(HealthCheck), **kwargs)
