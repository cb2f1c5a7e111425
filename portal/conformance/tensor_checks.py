"""The `tensor-core-v1` profile: array API operations against NumPy float64 and IEEE 754 rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from portal.conformance import attention_checks, integer_checks, performance_checks
from portal.conformance.checks import Check, CheckContext, Finding, error_ratio, ulp_error
from portal.conformance.lowp import host_dtype
from portal.conformance.results import Status
from portal.conformance.tensor_common import (
    draw,
    host,
    judged,
    per_dtype,
    put,
    shape_mismatch,
    shape_of,
)
from portal.i18n import _

PROFILE = "tensor-core-v1"
SPECIALS = [np.nan, 0.0, -0.0, np.inf, -np.inf, 1.0, -1.0]


def _same_bits(got: npt.NDArray[Any], want: npt.NDArray[Any]) -> bool:
    """Equal including the sign of zero, with NaN equal to NaN (any payload)."""
    if got.shape != want.shape or got.dtype != want.dtype:
        return False
    nan = np.isnan(got) & np.isnan(want)
    equal = (got == want) & (np.signbit(got) == np.signbit(want))
    return bool(np.all(nan | equal))


def special_values(dtype: str) -> Callable[[CheckContext], Finding]:
    """NaN, ±0 and ±inf through arithmetic and math functions follow IEEE 754 exactly."""

    def run(ctx: CheckContext) -> Finding:
        xp = ctx.backend.xp
        held = host_dtype(dtype)  # every result here is exact, so bfloat16's are float32's
        x = np.array(SPECIALS, dtype=held)
        a, b = np.meshgrid(x, x)
        exact = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=held)
        unary = np.array([np.nan, 0.0, -0.0, np.inf, -np.inf, 1.0, -1.0], dtype=held)
        cases = {
            "add": (xp.add, np.add, (a, b)),
            "subtract": (xp.subtract, np.subtract, (a, b)),
            "multiply": (xp.multiply, np.multiply, (a, b)),
            "divide": (xp.divide, np.divide, (a, b)),
            "maximum": (xp.maximum, np.maximum, (a, b)),
            "minimum": (xp.minimum, np.minimum, (a, b)),
            "sqrt": (xp.sqrt, np.sqrt, (unary,)),
            "abs": (xp.abs, np.abs, (unary,)),
            "log": (xp.log, np.log, (unary,)),
            "exp": (xp.exp, np.exp, (exact,)),
        }
        wrong = []
        with np.errstate(all="ignore"):
            for name, (op, ref, args) in cases.items():
                got, want = host(ctx, op(*(put(ctx, arg, dtype) for arg in args))), ref(*args)
                if name in ("maximum", "minimum"):
                    # The standard leaves which zero max(-0, +0) returns to the implementation.
                    zeros = (a == 0) & (b == 0)
                    got, want = np.where(zeros, 0, got), np.where(zeros, 0, want)
                if not _same_bits(got, want):
                    wrong.append(name)
        if wrong:
            return Finding(
                Status.FAIL,
                _("special values differ from IEEE 754 in: {ops}").format(ops=", ".join(wrong)),
                {"wrong_ops": wrong},
                [[len(SPECIALS), len(SPECIALS)]],
            )
        return Finding(Status.PASS, _("all special values as IEEE 754 says"), {"ops": len(cases)})

    return run


SPECIAL_SNIPPET = """\
x = np.array([np.nan, 0.0, -0.0, np.inf, -np.inf, 1.0, -1.0], dtype=HELD)
a, b = np.meshgrid(x, x)
for name in ("add", "subtract", "multiply", "divide", "maximum", "minimum"):
    got = host(getattr(xp, name)(put(a, DTYPE), put(b, DTYPE)))
    want = getattr(np, name)(a, b)
    either_zero = name in ("maximum", "minimum") and (a == 0) & (b == 0)  # sign left open
    sign = (np.signbit(got) == np.signbit(want)) | np.isnan(want) | either_zero
    same = np.array_equal(got, want, equal_nan=True) and sign.all()
    print(name, "as IEEE 754" if same else f"differs:\\n{got}\\nIEEE 754:\\n{want}")
for name in ("sqrt", "abs", "log", "exp"):
    got, want = host(getattr(xp, name)(put(x, DTYPE))), getattr(np, name)(x)
    print(name, x, "->", got, "IEEE 754:", want)
"""


def elementwise_accuracy(dtype: str) -> Callable[[CheckContext], Finding]:
    """exp, log, sin, tanh and sqrt on random inputs, within the table's ULP limit."""

    def run(ctx: CheckContext) -> Finding:
        xp = ctx.backend.xp
        top = 10.0 if dtype == "float16" else 20.0  # exp(20) is beyond float16's 65504
        x = draw(ctx.rng.uniform(0.01, top, size=4096), dtype)
        limit = ctx.table.get("elementwise", dtype).ulp
        worst = {}
        for name in ("exp", "log", "sin", "tanh", "sqrt"):
            got = host(ctx, getattr(xp, name)(put(ctx, x, dtype)))
            worst[name] = ulp_error(got, getattr(np, name)(x.astype(np.float64)), dtype)
        ulps = max(worst.values())
        measured = {"max_ulp": ulps, "ulp_by_op": worst, "ratio": ulps / limit}
        return judged(ctx, measured, [[x.size]])

    return run


ACCURACY_SNIPPET = """\
x = rounded(rng.uniform(0.01, 10.0 if DTYPE == "float16" else 20.0, size=4096), DTYPE)
for name in ("exp", "log", "sin", "tanh", "sqrt"):
    got = host(getattr(xp, name)(put(x, DTYPE))).astype(np.float64)
    want = getattr(np, name)(x.astype(np.float64))
    worst = np.argmax(np.abs(got - want) / np.abs(want))
    print(name, "worst at x =", x[worst], "got", got[worst], "float64 gives", want[worst])
"""


def broadcasting(dtype: str) -> Callable[[CheckContext], Finding]:
    """(3,1,4) + (5,4) gives (3,5,4) with the correctly rounded sums."""

    def run(ctx: CheckContext) -> Finding:
        xp = ctx.backend.xp
        a = draw(ctx.rng.standard_normal((3, 1, 4)), dtype)
        b = draw(ctx.rng.standard_normal((5, 4)), dtype)
        got = host(ctx, xp.add(put(ctx, a, dtype), put(ctx, b, dtype)))
        if got.shape != (3, 5, 4):
            return shape_mismatch(got, (3, 5, 4))
        # a + b in float64 is exact here; rounding it once gives the correctly rounded sum.
        want = a + b if dtype in ("float32", "float64") else draw(a + b.astype(np.float64), dtype)
        same = _same_bits(got, want)
        return Finding(
            Status.PASS if same else Status.FAIL,
            _("broadcast sums are exact")
            if same
            else _("broadcast sums are not correctly rounded"),
            {"max_abs_error": float(np.max(np.abs(got.astype(np.float64) - want)))},
            [shape_of(a), shape_of(b)],
        )

    return run


BROADCAST_SNIPPET = """\
a = rounded(rng.standard_normal((3, 1, 4)), DTYPE)
b = rounded(rng.standard_normal((5, 4)), DTYPE)
got = host(xp.add(put(a, DTYPE), put(b, DTYPE)))
want = rounded(a.astype(np.float64) + b.astype(np.float64), DTYPE)
print("shape", got.shape, "(want (3, 5, 4)); max |got - want| =", np.max(np.abs(got - want)))
"""

PROMOTIONS = [
    ("int8", "int16", "int16"),
    ("uint8", "int8", "int16"),
    ("uint8", "uint16", "uint16"),
    ("int32", "int64", "int64"),
    ("float32", "float64", "float64"),
    ("bool", "bool", "bool"),
]


def type_promotion(ctx: CheckContext) -> Finding:
    """The array API promotion table for mixed integer and mixed float operands."""
    xp = ctx.backend.xp
    supported = set(ctx.backend.capabilities().dtypes)
    wrong = []
    for left, right, want in PROMOTIONS:
        if {left, right} <= supported:
            a = xp.asarray(np.ones(2, dtype=left))
            b = xp.asarray(np.ones(2, dtype=right))
            got = xp.logical_and(a, b) if left == "bool" else xp.add(a, b)
            if got.dtype != getattr(xp, want):
                wrong.append(f"{left}+{right}->{got.dtype} (want {want})")
    if wrong:
        return Finding(
            Status.FAIL,
            _("wrong result types: {list}").format(list="; ".join(wrong)),
            {"wrong": wrong},
        )
    return Finding(Status.PASS, _("result types follow the promotion table"))


PROMOTION_SNIPPET = """\
for left, right, want in [("int8", "int16", "int16"), ("uint8", "int8", "int16"),
                          ("uint8", "uint16", "uint16"), ("int32", "int64", "int64"),
                          ("float32", "float64", "float64")]:
    try:
        got = xp.add(put(np.ones(2, dtype=left)), put(np.ones(2, dtype=right))).dtype
    except Exception as exc:  # a dtype the backend lacks: the check skips those pairs
        got = repr(exc)
    print(f"{left} + {right} -> {got} (the standard: {want})")
"""


def reduction_sum(dtype: str) -> Callable[[CheckContext], Finding]:
    """sum over 20 000 elements, within a limit widened with the length."""

    def run(ctx: CheckContext) -> Finding:
        xp = ctx.backend.xp
        n = 20_000
        x = draw(ctx.rng.standard_normal((8, n)), dtype)
        got = host(ctx, xp.sum(put(ctx, x, dtype), axis=1))
        if got.shape != (8,):
            return shape_mismatch(got, (8,))
        exact = np.array([np.float64(sum(map(float, row))) for row in x.astype(np.float64)])
        tol = ctx.table.get("sum", dtype).widened(n)
        measured = error_ratio(got, exact, tol, magnitude=np.sum(np.abs(x.astype(np.float64)), 1))
        return judged(ctx, measured, [shape_of(x)])

    return run


SUM_SNIPPET = """\
x = rounded(rng.standard_normal((8, 20_000)), DTYPE)
got = host(xp.sum(put(x, DTYPE), axis=1)).astype(np.float64)
want = np.array([np.float64(sum(map(float, row))) for row in x.astype(np.float64)])
print("got ", got, "\\nwant", want, "\\nmax |got - want| =", np.max(np.abs(got - want)))
"""


def matmul(dtype: str, *, batched: bool) -> Callable[[CheckContext], Finding]:
    """matmul (batched with a broadcast operand) against float64, limit widened with k."""

    def run(ctx: CheckContext) -> Finding:
        xp = ctx.backend.xp
        a_shape, b_shape = ((4, 16, 48), (48, 12)) if batched else ((64, 48), (48, 32))
        a = draw(ctx.rng.standard_normal(a_shape), dtype)
        b = draw(ctx.rng.standard_normal(b_shape), dtype)
        got = host(ctx, xp.matmul(put(ctx, a, dtype), put(ctx, b, dtype)))
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        want = a64 @ b64
        if got.shape != want.shape:
            return shape_mismatch(got, want.shape)
        tol = ctx.table.get("matmul", dtype).widened(a_shape[-1])
        measured = error_ratio(got, want, tol, magnitude=np.abs(a64) @ np.abs(b64))
        return judged(ctx, measured, [shape_of(a), shape_of(b)])

    return run


def matmul_snippet(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> str:
    """The standalone form of a matmul check with these operand shapes."""
    return f"""\
a = rounded(rng.standard_normal({a_shape}), DTYPE)
b = rounded(rng.standard_normal({b_shape}), DTYPE)
got = host(xp.matmul(put(a, DTYPE), put(b, DTYPE))).astype(np.float64)
want = a.astype(np.float64) @ b.astype(np.float64)
print("max |got - want| =", np.max(np.abs(got - want)), "at", np.unravel_index(
    np.argmax(np.abs(got - want)), want.shape))
"""


def softmax(dtype: str) -> Callable[[CheckContext], Finding]:
    """Softmax composed from max, exp and sum, shifted for stability, against float64."""

    def run(ctx: CheckContext) -> Finding:
        xp = ctx.backend.xp
        x = draw(ctx.rng.standard_normal((16, 128)) * 8, dtype)
        t = put(ctx, x, dtype)
        e = xp.exp(t - xp.max(t, axis=-1, keepdims=True))
        got = host(ctx, e / xp.sum(e, axis=-1, keepdims=True))
        x64 = x.astype(np.float64)
        e64 = np.exp(x64 - x64.max(axis=-1, keepdims=True))
        want = e64 / e64.sum(axis=-1, keepdims=True)
        return judged(ctx, error_ratio(got, want, ctx.table.get("softmax", dtype)), [shape_of(x)])

    return run


SOFTMAX_SNIPPET = """\
x = rounded(rng.standard_normal((16, 128)) * 8, DTYPE)
t = put(x, DTYPE)
e = xp.exp(t - xp.max(t, axis=-1, keepdims=True))
got = host(e / xp.sum(e, axis=-1, keepdims=True)).astype(np.float64)
e64 = np.exp(x.astype(np.float64) - x.astype(np.float64).max(axis=-1, keepdims=True))
want = e64 / e64.sum(axis=-1, keepdims=True)
print("max |got - want| =", np.max(np.abs(got - want)))
"""


def layer_norm(dtype: str) -> Callable[[CheckContext], Finding]:
    """Layer norm composed from mean, var and sqrt, against float64."""

    def run(ctx: CheckContext) -> Finding:
        xp = ctx.backend.xp
        x = draw(ctx.rng.standard_normal((16, 256)) * 3 + 1, dtype)
        t = put(ctx, x, dtype)
        mean = xp.mean(t, axis=-1, keepdims=True)
        var = xp.var(t, axis=-1, keepdims=True)
        got = host(ctx, (t - mean) / xp.sqrt(var + 1e-5))
        x64 = x.astype(np.float64)
        want = (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-5)
        tol = ctx.table.get("layer_norm", dtype)
        return judged(ctx, error_ratio(got, want, tol), [shape_of(x)])

    return run


LAYER_NORM_SNIPPET = """\
x = rounded(rng.standard_normal((16, 256)) * 3 + 1, DTYPE)
t = put(x, DTYPE)
got = host((t - xp.mean(t, axis=-1, keepdims=True))
           / xp.sqrt(xp.var(t, axis=-1, keepdims=True) + 1e-5)).astype(np.float64)
x64 = x.astype(np.float64)
want = (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-5)
print("max |got - want| =", np.max(np.abs(got - want)))
"""


def casts(ctx: CheckContext) -> Finding:
    """astype rounds float64->float32 to nearest, truncates float->int, keeps ints exact."""
    xp, be = ctx.backend.xp, ctx.backend
    x = ctx.rng.standard_normal(1024) * 1000
    cases: list[tuple[npt.NDArray[Any], str]] = [
        (x, "float32"),
        (x.astype(np.float32), "int32"),
        (ctx.rng.integers(-(2**31), 2**31, 1024, dtype=np.int64).astype(np.int32), "float64"),
        (x > 0, "int8"),
    ]
    wrong = []
    for source, target in cases:
        got = be.to_numpy(xp.astype(xp.asarray(source), getattr(xp, target)))
        want = source.astype(target)
        if got.dtype != want.dtype or got.tobytes() != want.tobytes():
            wrong.append(f"{source.dtype}->{target}")
    if wrong:
        return Finding(
            Status.FAIL, _("casts differ: {list}").format(list=", ".join(wrong)), {"wrong": wrong}
        )
    return Finding(Status.PASS, _("casts are exact"), {"casts": len(cases)}, [[1024]])


CASTS_SNIPPET = """\
x = rng.standard_normal(1024) * 1000
for source, target in [(x, "float32"), (x.astype(np.float32), "int32"),
                       (rng.integers(-(2**31), 2**31, 1024, dtype=np.int64).astype(np.int32),
                        "float64"), (x > 0, "int8")]:
    got = host(xp.astype(put(source), getattr(xp, target)))
    print(source.dtype, "->", target, "exact" if got.tobytes() == source.astype(target).tobytes()
          else f"differs at {np.flatnonzero(got != source.astype(target))[:10]}")
"""


def determinism(ctx: CheckContext) -> Finding:
    """matmul and sum give the same bits on every repeat with the same inputs."""
    xp, be = ctx.backend.xp, ctx.backend
    a = xp.asarray(ctx.rng.standard_normal((128, 128)).astype(np.float32))
    runs = {
        be.to_numpy(xp.matmul(a, a)).tobytes() + be.to_numpy(xp.sum(a, axis=0)).tobytes()
        for _repeat in range(5)
    }
    if len(runs) != 1:
        return Finding(
            Status.FAIL,
            _("5 repeats gave {n} different results").format(n=len(runs)),
            {"distinct": len(runs)},
            [[128, 128]],
        )
    return Finding(Status.PASS, _("5 repeats gave identical bits"), {"repeats": 5}, [[128, 128]])


DETERMINISM_SNIPPET = """\
a = put(rng.standard_normal((128, 128)).astype(np.float32))
runs = {host(xp.matmul(a, a)).tobytes() + host(xp.sum(a, axis=0)).tobytes() for _ in range(5)}
print(len(runs), "different results in 5 repeats")
"""


def seeded_rng(ctx: CheckContext) -> Finding:
    """The backend's own generator: one seed gives the same numbers, another seed others."""
    xp, be = ctx.backend.xp, ctx.backend
    uniform = be.native_ops["random.uniform"]
    seed = int(ctx.rng.integers(0, 2**31))
    first, again = (be.to_numpy(uniform(seed, (4096,), xp.float32)) for _repeat in range(2))
    other = be.to_numpy(uniform(seed + 1, (4096,), xp.float32))
    measured = {
        "seed": seed,
        "same_seed_same_bits": first.tobytes() == again.tobytes(),
        "other_seed_differs": first.tobytes() != other.tobytes(),
        "in_unit_interval": bool(np.all((first >= 0) & (first < 1))),
        "mean": float(np.mean(first)),
    }
    problems = [key for key, value in measured.items() if value is False]
    if problems:
        return Finding(
            Status.FAIL,
            _("the seeded generator failed: {list}").format(list=", ".join(problems)),
            measured,
            [[4096]],
        )
    return Finding(
        Status.PASS, _("the seed is honoured: same seed, same numbers"), measured, [[4096]]
    )


RNG_SNIPPET = """\
seed = int(rng.integers(0, 2**31))
def draw(s):
    g = torch.Generator(device=DEVICE).manual_seed(s)
    return torch.rand((4096,), generator=g, device=DEVICE).cpu().numpy()
print("same seed, same bits:", draw(seed).tobytes() == draw(seed).tobytes())
print("other seed differs:", draw(seed).tobytes() != draw(seed + 1).tobytes())
"""


def bad_shapes(ctx: CheckContext) -> Finding:
    """Incompatible shapes raise an exception instead of returning something."""
    xp = ctx.backend.xp
    cases: dict[str, Callable[[], object]] = {
        "matmul (3,4)@(5,6)": lambda: xp.matmul(xp.ones((3, 4)), xp.ones((5, 6))),
        "add (3,)+(4,)": lambda: xp.add(xp.ones(3), xp.ones(4)),
        "reshape (2,3)->(4,)": lambda: xp.reshape(xp.ones((2, 3)), (4,)),
    }
    return _must_raise(cases, _("every bad shape raised an error"))


def bad_dtypes(ctx: CheckContext) -> Finding:
    """Something that is no dtype, given as one, raises an exception: no crash, no guess."""
    xp = ctx.backend.xp
    cases: dict[str, Callable[[], object]] = {
        "zeros(3, dtype='not-a-dtype')": lambda: xp.zeros(3, dtype="not-a-dtype"),
        "astype(x, 'not-a-dtype')": lambda: xp.astype(xp.ones(3), "not-a-dtype"),
        "ones(3, dtype=123)": lambda: xp.ones(3, dtype=123),
        "asarray([1.0], dtype=<an array>)": lambda: xp.asarray([1.0], dtype=xp.ones(2)),
    }
    return _must_raise(cases, _("every bad dtype raised an error"))


def _must_raise(cases: dict[str, Callable[[], object]], passed: str) -> Finding:
    accepted = []
    for name, attempt in cases.items():
        try:
            attempt()
        except Exception:  # noqa: BLE001 - any exception is the right answer here
            continue
        accepted.append(name)
    if accepted:
        return Finding(
            Status.FAIL,
            _("no error was raised for: {list}").format(list=", ".join(accepted)),
            {"accepted": accepted},
        )
    return Finding(Status.PASS, passed, {"cases": len(cases)})


BAD_SHAPES_SNIPPET = """\
for name, attempt in [("matmul (3,4)@(5,6)", lambda: xp.matmul(xp.ones((3, 4)), xp.ones((5, 6)))),
                      ("add (3,)+(4,)", lambda: xp.add(xp.ones(3), xp.ones(4))),
                      ("reshape (2,3)->(4,)", lambda: xp.reshape(xp.ones((2, 3)), (4,)))]:
    try:
        print(name, "returned", attempt(), "instead of raising")
    except Exception as exc:
        print(name, "raised", repr(exc))
"""

BAD_DTYPES_SNIPPET = """\
for name, attempt in [("zeros", lambda: xp.zeros(3, dtype="not-a-dtype")),
                      ("astype", lambda: xp.astype(xp.ones(3), "not-a-dtype")),
                      ("ones", lambda: xp.ones(3, dtype=123)),
                      ("asarray", lambda: xp.asarray([1.0], dtype=xp.ones(2)))]:
    try:
        print(name, "returned", attempt(), "instead of raising")
    except Exception as exc:
        print(name, "raised", repr(exc))
"""

CHECKS: list[Check] = [
    *per_dtype("elementwise.special-values", special_values, snippet=SPECIAL_SNIPPET),
    *per_dtype("elementwise.accuracy", elementwise_accuracy, snippet=ACCURACY_SNIPPET),
    *per_dtype("broadcasting", broadcasting, snippet=BROADCAST_SNIPPET),
    Check("type-promotion", "tensor", "", True, type_promotion, snippet=PROMOTION_SNIPPET),
    *per_dtype("reduction.sum", reduction_sum, snippet=SUM_SNIPPET),
    *integer_checks.CHECKS,
    *per_dtype(
        "matmul",
        lambda d: matmul(d, batched=False),
        snippet=matmul_snippet((64, 48), (48, 32)),
    ),
    *per_dtype(
        "matmul.batched",
        lambda d: matmul(d, batched=True),
        snippet=matmul_snippet((4, 16, 48), (48, 12)),
    ),
    *per_dtype("softmax", softmax, snippet=SOFTMAX_SNIPPET),
    *per_dtype("layer-norm", layer_norm, snippet=LAYER_NORM_SNIPPET),
    *attention_checks.CHECKS,
    Check("casts", "tensor", "", True, casts, snippet=CASTS_SNIPPET),
    Check(
        "determinism.float32", "tensor", "float32", True, determinism, snippet=DETERMINISM_SNIPPET
    ),
    Check(
        "determinism.seeded-rng",
        "tensor",
        "float32",
        False,
        seeded_rng,
        op="random.uniform",
        snippet=RNG_SNIPPET,
    ),
    Check("errors.bad-shapes", "tensor", "", True, bad_shapes, snippet=BAD_SHAPES_SNIPPET),
    Check("errors.bad-dtypes", "tensor", "", True, bad_dtypes, snippet=BAD_DTYPES_SNIPPET),
    *performance_checks.CHECKS,
]
