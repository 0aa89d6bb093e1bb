"""Batch recalculation of .xlsx workbooks with LibreOffice headless and with Gnumeric.

The test-suite uses this module to prove that the Excel formulas we generate
compute the same numbers as the Python scorer:

1. :func:`recalc_files` copies the workbooks to a scratch directory (optionally
   removing every cached formula result first), then converts all of them to
   .xlsx in a *single* ``soffice --headless --convert-to`` invocation (chunked
   for very long lists).  soffice runs with a private, throw-away user profile
   that sets "recalculate on load" to *always*, so every formula is computed
   by LibreOffice and the cached values in the output are LibreOffice's own.
2. :func:`read_values` and :func:`read_defined_name_values` read the cached
   values back with lxml (no formula evaluation on our side).

LibreOffice behaviour worth knowing (observed with LibreOffice 7.4):

* Without the profile setting LibreOffice keeps the cached ``<v>`` values of an
  .xlsx verbatim (default OOXML recalc mode is "never"), and it ignores
  ``<calcPr fullCalcOnLoad="1"/>``.
* Numbers are written with at most 15 significant digits (``1/3`` is stored as
  ``0.333333333333333``), so compare with a tolerance or round both sides
  to 15 significant digits.
* String formula results are written inline as ``t="str"`` (not to the shared
  string table); an empty-string result is ``t="str"`` with an empty ``<v>``.
  Booleans are ``t="b"`` (``1``/``0``), errors ``t="e"`` (``#DIV/0!``).
* Number-to-text conversion (``"x"&1.5``) follows the LibreOffice locale, which
  is therefore pinned to ``en-US`` by default (``de-DE`` would give ``x1,5``).
* soffice converts its file arguments in order; a file it cannot load as a
  spreadsheet may crash it (SIGABRT, exit code 134) and lose every later file.
  :func:`recalc_files` retries the rest and names the culprit.

:func:`recalc_files_gnumeric` does the same with Gnumeric's ``ssconvert
--recalc`` (an independent implementation of the spreadsheet functions), one
process per file since ssconvert converts one file per call (about 0.2 s each).

Gnumeric behaviour worth knowing (observed with Gnumeric 1.12.55):

* ``N()`` of a blank cell is ``#NUM!``; a function of a range inside
  ``SUMPRODUCT`` (``SUMPRODUCT(--(LEN(A1:A9)>0))``) is ``#VALUE!`` (not
  evaluated element by element), while comparisons of a range are
  (``SUMPRODUCT(--(A1:A9<>""))``).  See :mod:`xlsx_engine.kernel.excel`.
* It computes in long double and turns some numbers into text with 20
  significant digits (``"x"&50.37`` gives ``x50.369999999999999999``).
* It saves ``--(x)`` as ``-(-(x))`` and rewrites number spellings; it drops
  custom document properties whose ``vt:`` namespace is not declared on the
  root element (as openpyxl writes them).
* String results are written as ``t="str"`` too; number-to-text follows the
  locale, pinned to ``C.UTF-8``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from lxml import etree

from xlsx_engine.ooxml.cells import col_letters, parse_name_ref, split_ref

__all__ = [
    "CellError",
    "RecalcError",
    "find_soffice",
    "find_ssconvert",
    "read_defined_name_values",
    "read_values",
    "recalc_files",
    "recalc_files_gnumeric",
    "strip_cached_values",
]

PathLike = Union[str, "os.PathLike[str]"]

#: Places where a LibreOffice executable is looked for, in order.
SOFFICE_CANDIDATES: Tuple[str, ...] = (
    "soffice",
    "libreoffice",
    "/usr/lib/libreoffice/program/soffice",
)
#: ``--convert-to`` argument: target extension plus the Calc export filter name.
XLSX_CONVERT_TARGET = "xlsx:Calc MS Excel 2007 XML"
#: ssconvert exporter writing .xlsx (ISO/IEC 29500, as Excel 2010 does).
GNUMERIC_XLSX_EXPORTER = "Gnumeric_Excel:xlsx2"
#: Number of files passed to one soffice process (keeps the command line short).
DEFAULT_CHUNK_SIZE = 200
_STDERR_TAIL = 3000  # characters of soffice/ssconvert stderr kept in error messages
#: File suffixes treated as OOXML spreadsheet packages by ``strip_cached``.
OOXML_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_C = f"{{{_NS_MAIN}}}c"
_F = f"{{{_NS_MAIN}}}f"
_V = f"{{{_NS_MAIN}}}v"
_T = f"{{{_NS_MAIN}}}t"
_IS = f"{{{_NS_MAIN}}}is"
_RPH = f"{{{_NS_MAIN}}}rPh"
_ROW = f"{{{_NS_MAIN}}}row"
_SHEET_DATA = f"{{{_NS_MAIN}}}sheetData"

_WORKSHEET_ENTRY_RE = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_PROFILE_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">\
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N">\
<prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>{locale}</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc">\
<prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


class RecalcError(Exception):
    """LibreOffice or Gnumeric is missing, failed, timed out or produced no output."""


class CellError(str):
    """An Excel error value read from a cell, e.g. ``CellError("#DIV/0!")``.

    It is a ``str`` and compares equal to the plain error text, but
    ``isinstance(value, CellError)`` tells it apart from a text cell that
    happens to contain the same characters.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"CellError({str.__repr__(self)})"


# --------------------------------------------------------------------------
# soffice discovery and invocation
# --------------------------------------------------------------------------


def find_soffice() -> Optional[str]:
    """Locate the LibreOffice executable.

    Returns:
        The path of the first usable candidate of :data:`SOFFICE_CANDIDATES`
        (looked up on ``PATH`` or as an absolute path), or ``None`` when
        LibreOffice is not installed.
    """
    for candidate in SOFFICE_CANDIDATES:
        if os.path.isabs(candidate):
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
        else:
            found = shutil.which(candidate)
            if found:
                return found
    return None


def find_ssconvert() -> Optional[str]:
    """Locate Gnumeric's ``ssconvert`` on ``PATH`` (``None`` when Gnumeric is not installed)."""
    return shutil.which("ssconvert")


def recalc_files(
    paths: Sequence[PathLike],
    outdir: PathLike,
    *,
    timeout: float = 600,
    strip_cached: bool = True,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    locale: str = "en-US",
    soffice: Optional[str] = None,
) -> Dict[Path, Path]:
    """Recalculate workbooks with LibreOffice and save them as .xlsx.

    All files are handled by one soffice process (one per ``chunk_size``
    files).  soffice runs with a private throw-away user profile that forces
    recalculation on load, with ``HOME`` pointing into the scratch directory,
    and is killed together with its children if it exceeds ``timeout``.

    Args:
        paths: Input workbooks (normally .xlsx).  Identical basenames from
            different folders are fine; a file given several times (even as
            different spellings of its path) is converted once.
        outdir: Directory for the results; created if missing.  Existing files
            with the same names are overwritten.  Output names are the input
            stems with an ``.xlsx`` suffix; a stem already used in this call
            gets ``_2``, ``_3``, ... appended.
        timeout: Seconds allowed for each soffice invocation.
        strip_cached: Remove every cached formula result from the worksheets
            (see :func:`strip_cached_values`) before LibreOffice sees them, so
            stale values can never survive.  Only applied to OOXML packages.
        chunk_size: Maximum number of files per soffice invocation.
        locale: LibreOffice locale (affects number-to-text conversion such as
            ``"x"&1.5``).
        soffice: Executable to use; defaults to :func:`find_soffice`.

    Returns:
        Mapping of each input path (as ``Path(p)`` of the given value) to its
        recalculated .xlsx inside ``outdir``, in input order.  Nothing is
        written to ``outdir`` when an error is raised.

    Raises:
        FileNotFoundError: An input file does not exist.
        ValueError: ``chunk_size`` is smaller than 1.
        RecalcError: LibreOffice is not installed, timed out, or did not
            produce an output for some input (the message names the files and
            includes soffice's stderr); or, with ``strip_cached``, an input is
            not a readable .xlsx package.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")

    def find() -> str:
        exe = soffice or find_soffice()
        if exe is None:
            raise RecalcError("LibreOffice (soffice) not found; tried " + ", ".join(SOFFICE_CANDIDATES))
        return exe

    def convert(exe: str, tmp: Path, inputs: List[Path], staged: List[Path], conv_dir: Path) -> List[Tuple[Path, str]]:
        profile_dir = tmp / "profile"
        (profile_dir / "user").mkdir(parents=True)
        (profile_dir / "user" / "registrymodifications.xcu").write_text(
            _PROFILE_XCU.format(locale=_xml_escape(locale)), encoding="utf-8"
        )
        env = dict(os.environ, HOME=str(tmp))
        failures: List[Tuple[Path, str]] = []
        for start in range(0, len(staged), chunk_size):
            chunk = staged[start : start + chunk_size]
            failures.extend(_convert_chunk(exe, chunk, conv_dir, profile_dir, env, timeout))
        index = dict(zip(staged, inputs))
        return [(index[stage], report) for stage, report in failures]

    return _recalc(paths, outdir, strip_cached, "LibreOffice", find, convert)


def recalc_files_gnumeric(
    paths: Sequence[PathLike],
    outdir: PathLike,
    *,
    timeout: float = 120,
    strip_cached: bool = True,
    ssconvert: Optional[str] = None,
) -> Dict[Path, Path]:
    """Recalculate workbooks with Gnumeric (``ssconvert --recalc``) and save them as .xlsx.

    The Gnumeric counterpart of :func:`recalc_files`, with the same inputs,
    output naming, de-duplication and result mapping.  Each file is converted
    by its own ssconvert process (ssconvert takes one input per call), started
    in a new session with ``HOME`` in a scratch directory and the ``C.UTF-8``
    locale, and killed with its process group if it exceeds ``timeout``
    seconds.

    Raises:
        FileNotFoundError: An input file does not exist.
        RecalcError: Gnumeric is not installed, timed out on a file, or did
            not produce an output for some input (the message names the files
            and includes ssconvert's stderr); or, with ``strip_cached``, an
            input is not a readable .xlsx package.
    """
    def find() -> str:
        exe = ssconvert or find_ssconvert()
        if exe is None:
            raise RecalcError("Gnumeric (ssconvert) not found on PATH")
        return exe

    def convert(exe: str, tmp: Path, inputs: List[Path], staged: List[Path], conv_dir: Path) -> List[Tuple[Path, str]]:
        env = dict(os.environ, HOME=str(tmp), LANG="C.UTF-8", LC_ALL="C.UTF-8")
        failures: List[Tuple[Path, str]] = []
        for src, stage in zip(inputs, staged):
            converted = conv_dir / (stage.stem + ".xlsx")
            cmd = [exe, "--recalc", "-T", GNUMERIC_XLSX_EXPORTER, str(stage), str(converted)]
            report = _run_killable(cmd, conv_dir, env, timeout, f"Gnumeric converting {src}")
            if not _is_valid_output(converted):
                failures.append((src, report))
        return failures

    return _recalc(paths, outdir, strip_cached, "Gnumeric", find, convert)


def _recalc(paths: Sequence[PathLike], outdir: PathLike, strip_cached: bool, engine: str,
            find: Callable[[], str], convert: Callable[..., List[Tuple[Path, str]]]) -> Dict[Path, Path]:
    """What both engines share: unique inputs, staging (cached values stripped) in a scratch folder, the
    engine's ``convert(exe, tmp, inputs, staged, conv_dir)`` -> failures, then the results moved into ``outdir``
    under unique names — nothing is written there when an input fails."""
    given, keys, inputs, slot = _unique_inputs(paths)
    exe = find()
    out_root = Path(outdir)
    out_root.mkdir(parents=True, exist_ok=True)
    if not inputs:
        return {}
    out_names = _unique_output_names(inputs)
    with tempfile.TemporaryDirectory(prefix=f"xlsx_recalc_{engine.lower()}_") as tmp_name:
        tmp = Path(tmp_name)
        stage_dir, conv_dir = tmp / "in", tmp / "out"
        for d in (stage_dir, conv_dir):
            d.mkdir(parents=True)
        staged = _stage_inputs(inputs, stage_dir, strip_cached)
        failures = convert(exe, tmp, inputs, staged, conv_dir)
        if failures:
            details = "\n".join(f"- {src}\n  {report}" for src, report in failures)
            raise RecalcError(f"{engine} did not convert {len(failures)} of {len(inputs)} file(s):\n{details}")
        targets = [out_root / name for name in out_names]
        for stage, target in zip(staged, targets):
            shutil.move(str(conv_dir / (stage.stem + ".xlsx")), str(target))
    return {path: targets[slot[key]] for path, key in zip(given, keys)}


def _unique_inputs(
    paths: Sequence[PathLike],
) -> Tuple[List[Path], List[str], List[Path], Dict[str, int]]:
    """``(given, keys, inputs, slot)``: the paths as given, their real-path keys, the unique
    files in input order, and the index of each key into the unique files.

    Raises:
        FileNotFoundError: An input file does not exist.
    """
    given = [Path(p) for p in paths]
    for path in given:
        if not path.is_file():
            raise FileNotFoundError(f"input workbook not found: {path}")
    keys = [os.path.normcase(os.path.realpath(path)) for path in given]
    inputs: List[Path] = []  # unique files, in input order
    slot: Dict[str, int] = {}  # real path -> index into inputs
    for path, key in zip(given, keys):
        if key not in slot:
            slot[key] = len(inputs)
            inputs.append(path)
    return given, keys, inputs, slot


def _stage_inputs(inputs: List[Path], stage_dir: Path, strip_cached: bool) -> List[Path]:
    """Copy every input to ``stage_dir`` under a unique ASCII name (so outputs cannot collide
    and non-ASCII paths never reach a command line), stripping cached formula results of
    OOXML packages when ``strip_cached``.

    Raises:
        RecalcError: With ``strip_cached``, an input is not a readable .xlsx package.
    """
    staged: List[Path] = []
    for i, src in enumerate(inputs):
        suffix = src.suffix.lower() or ".xlsx"
        dst = stage_dir / f"f{i:05d}{suffix}"
        if strip_cached and suffix in OOXML_SUFFIXES:
            try:
                strip_cached_values(src, dst)
            except (zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
                raise RecalcError(f"not a valid .xlsx package: {src}: {exc}") from exc
        else:
            shutil.copyfile(src, dst)
        staged.append(dst)
    return staged


def convert_files(
    paths: Sequence[PathLike],
    outdir: PathLike,
    target: str = "pdf",
    *,
    timeout: float = 240,
    soffice: Optional[str] = None,
) -> Dict[Path, Path]:
    """Convert documents (e.g. .docx or .xlsx to ``pdf``, .xlsx to ``xls``) in one soffice process.

    Same safeguards as :func:`recalc_files`: a private throw-away profile and ``HOME``, and the
    process group killed on timeout. No recalculation setting and no staging: outputs are named
    after the inputs' stems.

    Returns:
        ``{input: output}``.

    Raises:
        RecalcError: LibreOffice is missing, timed out, or did not produce an output.
    """
    exe = soffice or find_soffice()
    if exe is None:
        raise RecalcError("LibreOffice (soffice) not found; tried " + ", ".join(SOFFICE_CANDIDATES))
    inputs = [Path(p).resolve() for p in paths]
    out_root = Path(outdir).resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jxzp_convert_") as tmp_name:
        profile_dir = Path(tmp_name) / "profile"
        (profile_dir / "user").mkdir(parents=True)
        report = _run_soffice(exe, inputs, out_root, profile_dir, dict(os.environ, HOME=tmp_name), timeout, target)
    ext = target.split(":", 1)[0]
    outputs = {src: out_root / f"{src.stem}.{ext}" for src in inputs}
    missing = [str(src) for src, out in outputs.items() if not out.exists()]
    if missing:
        raise RecalcError(f"LibreOffice did not convert to {ext}: {', '.join(missing)}\n{report}")
    return {Path(p): outputs[src] for p, src in zip(paths, inputs)}


def _convert_chunk(
    exe: str,
    files: List[Path],
    conv_dir: Path,
    profile_dir: Path,
    env: Dict[str, str],
    timeout: float,
) -> List[Tuple[Path, str]]:
    """Convert ``files`` into ``conv_dir``; return ``(file, soffice report)`` failures.

    soffice converts its arguments in order and a broken file can crash the
    whole process, losing the files after it.  So the first missing output is
    taken to be the culprit and the remaining missing files are retried in a
    new soffice process.

    Raises:
        RecalcError: soffice timed out or could not be started.
    """
    failures: List[Tuple[Path, str]] = []
    pending = list(files)
    while pending:
        stderr = _run_soffice(exe, pending, conv_dir, profile_dir, env, timeout)
        missing = [f for f in pending if not _is_valid_output(conv_dir / (f.stem + ".xlsx"))]
        if not missing:
            break
        failures.append((missing[0], stderr))
        pending = missing[1:]
    return failures


def _run_soffice(
    exe: str,
    files: List[Path],
    conv_dir: Path,
    profile_dir: Path,
    env: Dict[str, str],
    timeout: float,
    target: str = XLSX_CONVERT_TARGET,
) -> str:
    """Run one ``soffice --convert-to`` process (``target``: a filter such as ``pdf`` or ``xls``).

    soffice is started in a new session so that it and all its children
    (``oosplash`` -> ``soffice.bin``) can be killed as one process group on
    timeout, and any straggler is killed after it returns.

    Returns:
        A short report for error messages: exit code and the tail of stderr.

    Raises:
        RecalcError: soffice could not be started or exceeded ``timeout``.
    """
    cmd = [
        exe,
        f"-env:UserInstallation={profile_dir.resolve().as_uri()}",
        "--headless",
        "--invisible",
        "--norestore",
        "--nologo",
        "--nodefault",
        "--nolockcheck",
        "--convert-to",
        target,
        "--outdir",
        str(conv_dir),
        *(str(f) for f in files),
    ]
    return _run_killable(cmd, conv_dir, env, timeout, f"LibreOffice converting {len(files)} file(s)")


def _run_killable(cmd: List[str], cwd: Path, env: Dict[str, str], timeout: float, what: str) -> str:
    """Run ``cmd`` in a new session; kill its whole process group on timeout and afterwards.

    Returns:
        A short report for error messages: exit code and the tail of stderr.

    Raises:
        RecalcError: The program could not be started or exceeded ``timeout``
            (``what`` names the job in the message).
    """
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=str(cwd),
            start_new_session=True,
        )
    except OSError as exc:
        raise RecalcError(f"cannot start {cmd[0]!r}: {exc}") from exc
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        _, err = proc.communicate()
        raise RecalcError(
            f"{what}: timed out after {timeout:g}s; stderr:\n{err.decode('utf-8', 'replace')}"
        ) from None
    finally:
        _kill_group(proc.pid)
    text = err.decode("utf-8", "replace").strip()
    if len(text) > _STDERR_TAIL:
        text = "..." + text[-_STDERR_TAIL:]
    return f"{Path(cmd[0]).name} exit code {proc.returncode}; stderr:\n{text or '(empty)'}"


def _kill_group(pgid: int) -> None:
    """SIGKILL the process group ``pgid`` (our soffice session) if it exists."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _is_valid_output(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0 and zipfile.is_zipfile(path)


def _unique_output_names(inputs: Iterable[Path]) -> List[str]:
    """``<stem>.xlsx`` per input, with ``_2``, ``_3``... for repeated stems."""
    used = set()
    names = []
    for src in inputs:
        stem = src.stem or "workbook"
        name, n = f"{stem}.xlsx", 1
        while name.casefold() in used:
            n += 1
            name = f"{stem}_{n}.xlsx"
        used.add(name.casefold())
        names.append(name)
    return names


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------
# Removing cached formula results
# --------------------------------------------------------------------------


def strip_cached_values(src: PathLike, dst: PathLike) -> int:
    """Copy an .xlsx package, dropping the cached result of every formula cell.

    In each ``xl/worksheets/*.xml`` entry, every ``<c>`` that has an ``<f>``
    loses its ``<v>`` children and its ``t`` attribute (the type of the cached
    result).  Worksheets without formulas and all other zip entries are copied
    with byte-identical content and the same zip metadata.

    Args:
        src: Source .xlsx/.xlsm file.
        dst: Destination path (overwritten).

    Returns:
        The number of formula cells whose cached value was removed.

    Raises:
        zipfile.BadZipFile: ``src`` is not a zip package.
        lxml.etree.XMLSyntaxError: A worksheet is not well-formed XML.
    """
    stripped = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if _WORKSHEET_ENTRY_RE.match(info.filename):
                root = etree.fromstring(data, _xml_parser())
                count = 0
                for cell in root.iter(_C):
                    if cell.find(_F) is None:
                        continue
                    for v in cell.findall(_V):
                        cell.remove(v)
                    cell.attrib.pop("t", None)
                    count += 1
                if count:
                    data = etree.tostring(
                        root, xml_declaration=True, encoding="UTF-8", standalone=True
                    )
                    stripped += count
            zout.writestr(info, data)
    return stripped


# --------------------------------------------------------------------------
# Reading values back
# --------------------------------------------------------------------------

CellValue = Union[float, str, bool]


def read_values(path: PathLike) -> Dict[str, Dict[str, CellValue]]:
    """Read the stored (cached) values of every worksheet of an .xlsx file.

    No formula is evaluated: this returns what the file contains, e.g. the
    results LibreOffice wrote in :func:`recalc_files`.  Number formats are not
    interpreted, so dates come back as serial numbers.

    Args:
        path: The .xlsx file.

    Returns:
        ``{sheet name: {"A1": value}}`` in workbook order (chart sheets are
        skipped).  Values are ``float`` for numbers, ``str`` for text
        (including empty-string formula results, returned as ``""``), ``bool``
        for booleans and :class:`CellError` for error values such as
        ``#DIV/0!``.  Cells without a value (empty, style-only, or formulas
        without a cached result) are omitted.

    Raises:
        zipfile.BadZipFile: ``path`` is not a zip package.
        KeyError: A required package part is missing.
        lxml.etree.XMLSyntaxError: A part is not well-formed XML.
    """
    with zipfile.ZipFile(path) as zf:
        book = _Workbook(zf)
        return {name: book.sheet_values(name) for name in book.sheet_names()}


def read_defined_name_values(path: PathLike) -> Dict[str, object]:
    """Read the values behind the workbook-scoped defined names of an .xlsx.

    Only names whose definition is a plain reference are resolved, for example
    ``'自评表'!$K$50`` or ``自评表!$B$2:$C$3`` (quoted or unquoted sheet names,
    ``''`` escapes, with or without ``$``).  Sheet-scoped names
    (``localSheetId``), formulas, constants, external, whole-row/column,
    multi-area and ``#REF!`` names, and references to unknown sheets are
    omitted.

    Args:
        path: The .xlsx file.

    Returns:
        ``{name: value}``: the cell value (as in :func:`read_values`, ``None``
        for an empty cell) for single-cell names, and a flat row-major list of
        such values for ranges.

    Raises:
        zipfile.BadZipFile: ``path`` is not a zip package.
        KeyError: A required package part is missing.
        lxml.etree.XMLSyntaxError: A part is not well-formed XML.
    """
    with zipfile.ZipFile(path) as zf:
        book = _Workbook(zf)
        result: Dict[str, object] = {}
        for name, text in book.defined_names():
            ref = parse_name_ref(text)
            if ref is None or ref.sheet not in book.sheet_names():
                continue
            values = book.sheet_values(ref.sheet)
            cells = [values.get(cell) for cell in ref.cells]
            result[name] = cells[0] if ref.first == ref.last else cells
        return result


class _Workbook:
    """Lazy reader of the parts of an open .xlsx zip needed for values."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._zf = zf
        self._root = _parse(zf.read("xl/workbook.xml"))
        rels = self._relationships("xl/_rels/workbook.xml.rels")
        self._sheet_parts: Dict[str, str] = {}
        for sheet in self._root.iter(f"{{{_NS_MAIN}}}sheet"):
            rel = rels.get(sheet.get(f"{{{_NS_REL_DOC}}}id", ""))
            if rel and rel[0].endswith("/worksheet"):
                self._sheet_parts[sheet.get("name", "")] = rel[1]
        sst_parts = [t for typ, t in rels.values() if typ.endswith("/sharedStrings")]
        self._sst_part = sst_parts[0] if sst_parts else None
        self._shared: Optional[List[str]] = None
        self._cache: Dict[str, Dict[str, CellValue]] = {}

    def sheet_names(self) -> List[str]:
        return list(self._sheet_parts)

    def defined_names(self) -> List[Tuple[str, str]]:
        """``(name, definition)`` of every workbook-scoped defined name."""
        return [
            (dn.get("name", ""), dn.text or "")
            for dn in self._root.iter(f"{{{_NS_MAIN}}}definedName")
            if dn.get("localSheetId") is None
        ]

    def sheet_values(self, name: str) -> Dict[str, CellValue]:
        if name not in self._cache:
            root = _parse(self._zf.read(self._sheet_parts[name]))
            self._cache[name] = self._cells(root)
        return self._cache[name]

    def _cells(self, root: etree._Element) -> Dict[str, CellValue]:
        values: Dict[str, CellValue] = {}
        sheet_data = root.find(_SHEET_DATA)
        if sheet_data is None:
            return values
        row_no = 0
        for row in sheet_data.iter(_ROW):
            row_no = int(row.get("r") or row_no + 1)
            col_no = 0
            for cell in row.iter(_C):
                ref = cell.get("r")
                if ref:
                    row_no, col_no = split_ref(ref.upper())
                else:
                    col_no += 1
                value = self._cell_value(cell)
                if value is not None:
                    values[f"{col_letters(col_no)}{row_no}"] = value
        return values

    def _cell_value(self, cell: etree._Element) -> Optional[CellValue]:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(_IS)
            return _rich_text(inline) if inline is not None else None
        v = cell.find(_V)
        if v is None:
            return None
        text = v.text or ""
        if kind == "str":
            return text
        if text == "":
            return None
        if kind == "n":
            return float(text)
        if kind == "s":
            return self._shared_strings()[int(text)]
        if kind == "b":
            return text.strip() in ("1", "true")
        if kind == "e":
            return CellError(text)
        return text  # "d" (ISO 8601 date) and unknown types: raw text

    def _shared_strings(self) -> List[str]:
        if self._shared is None:
            self._shared = []
            if self._sst_part:
                root = _parse(self._zf.read(self._sst_part))
                self._shared = [_rich_text(si) for si in root.iter(f"{{{_NS_MAIN}}}si")]
        return self._shared

    def _relationships(self, part: str) -> Dict[str, Tuple[str, str]]:
        """``{rId: (type, zip entry name)}`` of a .rels part."""
        rels: Dict[str, Tuple[str, str]] = {}
        try:
            root = _parse(self._zf.read(part))
        except KeyError:
            return rels
        base = PurePosixPath(part).parent.parent  # "xl/_rels/x.rels" -> "xl"
        for rel in root.iter(f"{{{_NS_PKG_REL}}}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target", "")
            entry = target.lstrip("/") if target.startswith("/") else _normpath(base / target)
            rels[rel.get("Id", "")] = (rel.get("Type", ""), entry)
        return rels


def _rich_text(element: etree._Element) -> str:
    """Concatenated ``<t>`` texts of a string item, ignoring phonetic runs."""
    return "".join(
        t.text or ""
        for t in element.iter(_T)
        if not any(a.tag == _RPH for a in t.iterancestors())
    )


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True)


def _parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, _xml_parser())


def _normpath(path: PurePosixPath) -> str:
    parts: List[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


