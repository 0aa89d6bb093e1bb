"""Formulas compared by meaning: a canonical form that every spreadsheet's rewrite of a formula shares.

Excel, WPS, LibreOffice and Gnumeric rewrite the text of a formula they open and save without changing it:
spacing and letter case, ``--(x)`` as ``-(-(x))``, redundant parentheses, number spelling (``0.8`` as
``0.800000000000000000011``, ``1`` as ``1.0``), absolute markers, quoted sheet names, the ``_xlfn.`` prefix,
``TRUE``/``FALSE`` as ``TRUE()``/``FALSE()``. :func:`canonical_formula` tokenises a formula with openpyxl's
tokenizer, parses the tokens by Excel's operator precedence into a tree (so grouping, not parentheses,
counts) and writes the tree back in one spelling. Two formulas with the same canonical form compute the same
thing; a change of a reference, operator, function, argument, constant or string literal changes it.
Shared formulas are expanded to each cell before comparing (:func:`xlsx_engine.integrity.tamper.parse_sheet`).
"""

from __future__ import annotations

import functools
import re

Token = Tokenizer = TokenizerError = None   # openpyxl's tokenizer, bound by _load_tokenizer() on first use


def _load_tokenizer() -> None:
    """Import openpyxl's tokenizer when a formula is first compared (openpyxl pulls in numpy: not at start-up)."""
    global Token, Tokenizer, TokenizerError
    if Tokenizer is None:
        from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError  # noqa: PLW0621

__all__ = ["canonical_formula"]

#: Binding power of the infix operators, Excel's precedence (all left-associative).
_INFIX = {
    "=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1,
    "&": 2,
    "+": 3, "-": 3,
    "*": 4, "/": 4,
    "^": 5,
    " ": 8,        # intersection (a space between two references)
    ",": 9,        # union (a comma inside parentheses; in a function call it separates arguments)
    ":": 10,       # range between two references or names
}
_PERCENT = 6       #: postfix %
_PREFIX = 7        #: unary minus and plus bind tighter than ^ in Excel (=-2^2 is 4)
_MAX_TOKENS = 20000

_LOGICAL_FUNCS = {"TRUE", "FALSE"}
_FUNC_PREFIXES = ("_XLFN._XLWS.", "_XLFN.", "_XLWS.")


class _Unparsable(Exception):
    pass


def canonical_formula(formula: str | None) -> str:
    """One spelling of a formula's meaning (without the leading ``=``), for comparing formulas.

    A formula the tokenizer or the parser cannot read is compared as its text without spaces, upper-cased
    outside string literals, so an edit that breaks a formula still shows as a difference.
    """
    if formula is None:
        return ""
    return _canonical(formula) if len(formula) <= 8192 else _canonical.__wrapped__(formula)


@functools.lru_cache(maxsize=8192)
def _canonical(formula: str) -> str:
    text = formula.strip()
    if text.startswith("="):
        text = text[1:]
    if not text:
        return ""
    _load_tokenizer()
    try:
        tokens = Tokenizer("=" + text).items
        if len(tokens) > _MAX_TOKENS:
            raise _Unparsable("too long")
        return _Parser(_meaningful(tokens)).formula()
    except (TokenizerError, _Unparsable, IndexError, ValueError):
        return "?" + _squeeze(text)


def _squeeze(text: str) -> str:
    """Text without whitespace, upper case outside string literals."""
    out, pos = [], 0
    for m in re.finditer(r'"(?:[^"]|"")*"', text):
        out.append(re.sub(r"\s+", "", text[pos:m.start()]).upper())
        out.append(m.group(0))
        pos = m.end()
    out.append(re.sub(r"\s+", "", text[pos:]).upper())
    return "".join(out)


def _meaningful(tokens: list[Token]) -> list[Token]:
    """Drop whitespace, except a space between two operands, which is Excel's intersection operator."""
    out: list[Token] = []
    for i, tok in enumerate(tokens):
        if tok.type != Token.WSPACE:
            out.append(tok)
            continue
        before = out[-1] if out else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if before is not None and after is not None and _ends_operand(before) and _starts_operand(after):
            out.append(Token(" ", Token.OP_IN))
    return out


def _ends_operand(tok: Token) -> bool:
    return tok.type == Token.OPERAND or tok.subtype == Token.CLOSE or tok.type == Token.OP_POST


def _starts_operand(tok: Token) -> bool:
    return tok.type in (Token.OPERAND, Token.FUNC, Token.PAREN) and tok.subtype != Token.CLOSE


class _Parser:
    """Precedence-climbing parser from tokens to the canonical text of the tree."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def formula(self) -> str:
        out = self.expr(0)
        if self.pos != len(self.tokens):
            raise _Unparsable("trailing tokens")
        return out

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise _Unparsable("unexpected end")
        self.pos += 1
        return tok

    def expr(self, min_bp: int) -> str:
        left = self.prefix()
        while True:
            tok = self.peek()
            if tok is None:
                return left
            if tok.type == Token.OP_POST:
                if _PERCENT < min_bp:
                    return left
                self.take()
                left = f"%({left})"
                continue
            op = tok.value
            if tok.type != Token.OP_IN:
                return left
            bp = _INFIX.get(op)
            if bp is None:
                raise _Unparsable(f"operator {op!r}")
            if bp <= min_bp:
                return left
            self.take()
            right = self.expr(bp)
            left = f"{op}({left};{right})"

    def prefix(self) -> str:
        tok = self.take()
        if tok.type == Token.OP_PRE:
            operand = self.expr(_PREFIX)
            return operand if tok.value == "+" else f"NEG({operand})"
        if tok.type == Token.PAREN and tok.subtype == Token.OPEN:
            inner = self.expr(0)
            self.close(Token.PAREN)
            return inner
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            return self.call(tok.value[:-1])
        if tok.type == Token.ARRAY and tok.subtype == Token.OPEN:
            return self.array()
        if tok.type == Token.OPERAND:
            return _operand(tok)
        raise _Unparsable(f"unexpected {tok.value!r}")

    def close(self, kind: str) -> None:
        tok = self.take()
        if tok.type != kind or tok.subtype != Token.CLOSE:
            raise _Unparsable(f"expected ) got {tok.value!r}")

    def call(self, raw_name: str) -> str:
        name = raw_name.upper()
        for prefix in _FUNC_PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix):]
        args: list[str] = []
        tok = self.peek()
        if tok is not None and tok.type == Token.FUNC and tok.subtype == Token.CLOSE:
            self.take()
        else:
            while True:
                nxt = self.peek()
                empty = nxt is not None and (nxt.type == Token.SEP or
                                             (nxt.type == Token.FUNC and nxt.subtype == Token.CLOSE))
                args.append("" if empty else self.expr(0))
                sep = self.take()
                if sep.type == Token.SEP and sep.subtype == Token.ARG:
                    continue
                if sep.type == Token.FUNC and sep.subtype == Token.CLOSE:
                    break
                raise _Unparsable(f"unexpected {sep.value!r} in {name}(")
        if name in _LOGICAL_FUNCS and not args:
            return name
        return f"{name}({';'.join(args)})"

    def array(self) -> str:
        rows: list[list[str]] = [[]]
        while True:
            rows[-1].append(self.expr(0))
            sep = self.take()
            if sep.type == Token.SEP and sep.subtype == Token.ARG:
                continue
            if sep.type == Token.SEP and sep.subtype == Token.ROW:
                rows.append([])
                continue
            if sep.type == Token.ARRAY and sep.subtype == Token.CLOSE:
                return "{" + "|".join(";".join(r) for r in rows) + "}"
            raise _Unparsable(f"unexpected {sep.value!r} in array")


def _operand(tok: Token) -> str:
    if tok.subtype == Token.TEXT:
        return tok.value                                   # string literals keep their case and spaces
    if tok.subtype == Token.NUMBER:
        return f"{float(tok.value):.15g}"
    if tok.subtype in (Token.LOGICAL, Token.ERROR):
        return tok.value.upper()
    return _reference(tok.value)


def _reference(text: str) -> str:
    """A reference or name: no ``$``, upper case, the sheet name unquoted."""
    sheet, bang, ref = text.rpartition("!")
    if bang:
        if len(sheet) >= 2 and sheet[0] == sheet[-1] == "'":
            sheet = sheet[1:-1].replace("''", "'")
        return f"{sheet.upper()}!{ref.replace('$', '').upper()}"
    return ref.replace("$", "").upper()
