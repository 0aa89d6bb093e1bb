"""The sandbox narrative templates run in: read-only data, bounded size and time.

A finance bureau may edit the report templates (``--template``), so a template is untrusted code.
:class:`jinja2.sandbox.ImmutableSandboxedEnvironment` already forbids Python internals and
mutating methods; this module adds what it leaves open:

* **Read-only data** — :func:`freeze` turns the context into read-only views (mappings without
  setters, tuples), so no path through a template can change a figure another part of the report
  prints.
* **Size** — every operation that can build a large value is checked *before* it allocates:
  ``*``, ``**``, ``+``, ``%``, ``~``, the padding and formatting filters and string methods
  (``center``, ``indent``, ``format``, ``replace``, ``wordwrap``, ``join`` …), ``range`` and
  ``lipsum``; printing or joining nested lists is weighed first (a list literal repeated inside
  another is cheap to build and huge to print). All the text built in one render counts towards
  :data:`MAX_BUDGET`, the rendered output towards :data:`MAX_OUTPUT`.
* **Time** — each render has :data:`TIME_LIMIT` seconds, checked at every loop iteration, call,
  filter, operator and attribute access.

A breach raises :class:`TemplateLimitError` (a :class:`~jinja2.sandbox.SecurityError`), which the
narrative turns into a Chinese error naming the template file and line.
"""

from __future__ import annotations

import contextvars
import math
import re
import time
import types
from collections.abc import Mapping
from functools import update_wrapper, wraps
from typing import Any, Iterable, Iterator

import jinja2
from jinja2 import nodes
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import generate_lorem_ipsum

MAX_TEXT = 200_000        #: longest string (characters) or list (elements) one operation may build
MAX_BUDGET = 20_000_000   #: characters and elements all operations of one render may build together
MAX_OUTPUT = 2_000_000    #: characters one render may output
MAX_RANGE = 100_000       #: longest ``range``
MAX_POWER = 64            #: largest exponent of ``**``
MAX_INT_BITS = 16_384     #: largest integer (in bits) ``*`` and ``**`` may build
MAX_LIPSUM = 20           #: most paragraphs of ``lipsum``
TIME_LIMIT = 10.0         #: seconds one render may take
_CHECK_EVERY = 64         #: loop iterations between two clock readings


class TemplateLimitError(SecurityError):
    """A template exceeded a size or time limit (message in Chinese).

    ``filename``/``lineno`` name the template line when the breach is found outside the template's
    own code (the output limit, checked where the output is joined).
    """

    filename: str | None = None
    lineno: int | None = None


def _suspended_line(gen: Any) -> tuple[str | None, int | None]:
    """The template file and line where a suspended render generator (and what it delegates to) stands."""
    while getattr(gen, "gi_yieldfrom", None) is not None:
        gen = gen.gi_yieldfrom
    frame = getattr(gen, "gi_frame", None)
    template = frame.f_globals.get("__jinja_template__") if frame is not None else None
    if template is None:
        return None, None
    return template.filename, template.get_corresponding_lineno(frame.f_lineno)


# ----------------------------------------------------------------------------- read-only data

class ReadOnlyDict(Mapping):
    """A read-only view of a mapping: reads like a dict (``x.key``, ``x['key']``, ``.items()``), cannot change."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping):
        self._data = data

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __repr__(self):
        return repr(self._data)


def freeze(value: Any) -> Any:
    """A deep read-only copy of template data: dicts → :class:`ReadOnlyDict`, lists/tuples/sets → tuples."""
    if isinstance(value, Mapping):
        return ReadOnlyDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(freeze(v) for v in value)
    return value


def _plain(value: Any) -> dict:
    """``tojson`` of a read-only view: its items."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} 不能转换为 JSON")


def freeze_context(context: Mapping) -> dict:
    """The top-level context as a plain dict (Jinja copies it) whose values are frozen."""
    return {k: freeze(v) for k, v in context.items()}


# ----------------------------------------------------------------------------- per-render limits

class _Limits:
    __slots__ = ("deadline", "budget", "ticks")

    def __init__(self):
        self.deadline = time.monotonic() + TIME_LIMIT
        self.budget = MAX_BUDGET
        self.ticks = 0


_current: contextvars.ContextVar[_Limits | None] = contextvars.ContextVar("jxzp_template_limits", default=None)


def _limits() -> _Limits:
    lim = _current.get()
    return lim if lim is not None else _Limits()   # outside a render (a filter called directly): a fresh allowance


def _tick() -> None:
    if time.monotonic() > _limits().deadline:
        raise TemplateLimitError(f"模板运行超过{TIME_LIMIT:g}秒，已中止（请检查是否有过大的循环）")


def _spend(size: int) -> None:
    lim = _limits()
    lim.budget -= size
    if lim.budget < 0:
        raise TemplateLimitError(f"模板生成的内容累计超过{MAX_BUDGET:,}个字符，已中止")


def _too_big(what: str) -> TemplateLimitError:
    return TemplateLimitError(f"{what}过长（上限{MAX_TEXT:,}个字符或元素），已中止")


def weight(value: Any, limit: int = MAX_TEXT) -> int:
    """Characters and elements ``value`` prints as, counted until ``limit`` is passed (then ``limit + 1``)."""
    total, stack = 0, [value]
    while stack:
        v = stack.pop()
        total += 1
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, Mapping):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple, set, frozenset)):
            stack.extend(v)
        elif isinstance(v, int) and not isinstance(v, bool):
            total += v.bit_length() // 3
        if total > limit:
            return limit + 1
    return total


def _check_weight(*values: Any, what: str = "要输出的内容") -> None:
    if sum(weight(v) for v in values) > MAX_TEXT:
        raise _too_big(what)


def _int_arg(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _check_width(*values: Any, what: str = "填充宽度") -> None:
    for v in values:
        n = _int_arg(v)
        if n is not None and n > MAX_TEXT:
            raise TemplateLimitError(f"{what}{n}过大（上限{MAX_TEXT:,}），已中止")


_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACES = re.compile(r"\{[^{}]*\}")


def _check_printf(fmt: str, args: Any) -> None:
    """``fmt % args``: widths and precisions written in the format, and ``*`` widths taken from the arguments."""
    star = False
    for m in _PRINTF.finditer(fmt):
        for g in m.groups():
            if g == "*":
                star = True
            elif g:
                _check_width(g, what="格式宽度")
    values = args.values() if isinstance(args, Mapping) else args if isinstance(args, tuple) else (args,)
    if star:
        _check_width(*values, what="格式宽度")
    _check_weight(fmt, *values)


def _check_braces(fmt: str, args: Iterable, kwargs: Mapping) -> None:
    """``fmt.format(...)``: widths in ``{:...}`` fields (literal or nested ``{:{w}}``)."""
    for field in _BRACES.findall(fmt):
        _check_width(*re.findall(r"\d+", field), what="格式宽度")
    _check_width(*args, *kwargs.values(), what="格式宽度")
    _check_weight(fmt, *args, *kwargs.values())


def _sized(value: Any) -> Any:
    """Count a built value against the render's budget."""
    if isinstance(value, (str, list, tuple)):
        if len(value) > MAX_TEXT:
            raise _too_big("生成的内容")
        _spend(len(value))
    return value


# ----------------------------------------------------------------------------- filters and globals

_SHALLOW_FILTERS = frozenset({
    "attr", "batch", "count", "d", "default", "dictsort", "first", "groupby", "items", "last", "length",
    "list", "map", "max", "min", "random", "reject", "rejectattr", "reverse", "select", "selectattr",
    "slice", "sort", "unique", "abs", "int", "float", "round", "bool"})


def _bounded_filter(name: str, func):
    """Wrap a filter: clock, weigh what it serialises, pre-check what it pads, count what it builds."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        _tick()
        pass_arg = getattr(func, "jinja_pass_arg", None)
        value_at = 1 if pass_arg is not None else 0
        value = args[value_at] if len(args) > value_at else None
        rest = args[value_at + 1:]
        if name not in _SHALLOW_FILTERS:
            _check_weight(value)
        if name in ("center", "indent", "wordwrap", "batch", "slice"):
            _check_width(*rest, *kwargs.values())
        if name == "indent" and isinstance(value, str):
            width = max((_int_arg(w) or len(str(w)) for w in rest[:1]), default=4)
            if (value.count("\n") + 1) * width + len(value) > MAX_TEXT:
                raise _too_big("缩进后的内容")
        elif name == "wordwrap" and isinstance(value, str):
            wrap = str(kwargs.get("wrapstring", rest[2] if len(rest) > 2 else "\n"))
            width = max(_int_arg(rest[0] if rest else kwargs.get("width", 79)) or 1, 1)
            if len(value) + (len(value) // width + 1) * len(wrap) > MAX_TEXT:
                raise _too_big("换行后的内容")
        elif name == "replace" and isinstance(value, str) and len(rest) >= 2:
            old, new = str(rest[0]), str(rest[1])
            hits = len(value) + 1 if not old else value.count(old)
            if len(value) + hits * len(new) > MAX_TEXT:
                raise _too_big("替换后的内容")
        elif name == "format" and isinstance(value, str):
            _check_printf(value, kwargs if kwargs else tuple(rest))
        elif name in ("join", "sum"):
            _check_weight(*rest, *kwargs.values())
        return _sized(func(*args, **kwargs))

    return wrapper


def _range(*args: Any) -> range:
    _tick()
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise TemplateLimitError(f"range 的长度{len(rng):,}过大（上限{MAX_RANGE:,}），已中止")
    return rng


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002 - Jinja's names
    _tick()
    if not all(isinstance(x, int) for x in (n, min, max)) or n > MAX_LIPSUM or max > 1000 or min > max:
        raise TemplateLimitError(f"lipsum 的参数过大（最多{MAX_LIPSUM}段、每段最多1000词），已中止")
    return _sized(generate_lorem_ipsum(n, html, min, max))


def _checked_join(join):
    def checked(seq):
        seq = list(seq)
        _tick()
        _check_weight(seq, what="用 ~ 连接的内容")
        return _sized(join(seq))
    return checked


# ----------------------------------------------------------------------------- the environment

class _Template(jinja2.Template):
    """Compiled templates whose ``~`` concatenation is size-checked."""

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):  # noqa: A002 - Jinja's signature
        namespace["str_join"] = _CHECKED_STR_JOIN
        namespace["markup_join"] = _CHECKED_MARKUP_JOIN
        return super()._from_namespace(environment, namespace, globals)


_CHECKED_STR_JOIN = _checked_join(str_join)
_CHECKED_MARKUP_JOIN = _checked_join(markup_join)

_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with size and time limits on everything a template can do."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    template_class = _Template

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.globals["range"] = _range
        self.globals["lipsum"] = _lipsum
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False, "default": _plain}

    def add_filters(self, filters: Mapping) -> None:
        """Add filters (bounded like the built-in ones)."""
        self.filters.update({name: _bounded_filter(name, f) for name, f in filters.items()})

    # -- loops: every ``for`` iterates through :meth:`guard_iter`
    def _generate(self, source, name, filename, defer_init=False):
        for loop in source.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.EnvironmentAttribute("guard_iter"), [loop.iter], [], None, None,
                                   lineno=loop.iter.lineno)
        return super()._generate(source, name, filename, defer_init=defer_init)

    def guard_iter(self, iterable: Any) -> Iterator:
        """Iterate with the clock running."""
        _tick()
        lim = _limits()
        for item in iterable:
            lim.ticks += 1
            if lim.ticks % _CHECK_EVERY == 0:
                _tick()
            yield item

    # -- output
    def concat(self, chunks: Iterable[str]) -> str:
        """Join rendered output, stopping at :data:`MAX_OUTPUT` characters (also the render's entry point)."""
        token = _current.set(_Limits()) if _current.get() is None else None
        try:
            out, size = [], 0
            for chunk in chunks:
                size += len(chunk)
                if size > MAX_OUTPUT:
                    exc = TemplateLimitError(f"模板输出超过{MAX_OUTPUT:,}个字符，已中止")
                    exc.filename, exc.lineno = _suspended_line(chunks)
                    raise exc
                out.append(chunk)
            return "".join(out)
        finally:
            if token is not None:
                _current.reset(token)

    # -- hooks
    def getattr(self, obj, attribute):
        _tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _tick()
        return _sized(super().getitem(obj, argument)) if isinstance(argument, slice) else \
            super().getitem(obj, argument)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805,B902 - Jinja's signature
        _tick()
        target = getattr(__obj, "__self__", None)
        if isinstance(target, str) and isinstance(__obj, (types.BuiltinMethodType, types.MethodType)):
            method = __obj.__name__
            if method in _PADDING_METHODS:
                _check_width(*args, *kwargs.values())
            elif method == "replace" and len(args) >= 2:
                old, new = str(args[0]), str(args[1])
                hits = len(target) + 1 if not old else target.count(old)
                if len(target) + hits * len(new) > MAX_TEXT:
                    raise _too_big("替换后的内容")
            elif method == "join" and args:
                items = list(args[0])
                _check_weight(target, items)
                args = (items,) + args[1:]
        return _sized(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        def checked(*args, **kwargs):
            _tick()
            if value.__name__ == "format_map":
                _check_braces(fmt, (), args[0] if args and isinstance(args[0], Mapping) else {})
            else:
                _check_braces(fmt, args, kwargs)
            return _sized(wrapped(*args, **kwargs))
        return update_wrapper(checked, value)

    def call_binop(self, context, operator, left, right):
        _tick()
        if operator == "**":
            if isinstance(right, (int, float)) and not isinstance(right, bool) and abs(right) > MAX_POWER:
                raise TemplateLimitError(f"乘方的指数 {right} 过大（上限 {MAX_POWER}），已中止")
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() * abs(right) > MAX_INT_BITS:
                raise TemplateLimitError("乘方的结果过大，已中止")
        elif operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int):
                    if weight(seq) * max(times, 0) > MAX_TEXT:
                        raise _too_big("重复生成的内容")
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise TemplateLimitError("乘积过大，已中止")
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                _check_weight(left, right, what="相加的内容")
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        return _sized(super().call_binop(context, operator, left, right))


def check_printed(value: Any) -> None:
    """Weigh a value about to be printed (``{{ x }}``): a nested list can be tiny in memory and huge as text."""
    _tick()
    if not isinstance(value, (str, int, float)):
        _check_weight(value)
