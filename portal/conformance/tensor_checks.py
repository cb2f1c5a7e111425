"""The `tensor-core-v1` profile: array API operations against NumPy float64 and IEEE 754 rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from portal.conformance.checks import Check, CheckContext, Finding, error_ratio, ulp_error
from portal.conformance.results import Status
from portal.i18n import _

PROFILE = "tensor-core-v1"
FLOATS = ("float32", "float64")
SPECIALS = [np.nan, 0.0, -0.0, np.inf, -np.inf, 1.0, -1.0]


def _shape(array: npt.NDArray[Any]) -> list[int]:
    return [int(n) for n in array.shape]


def _judged(ctx: CheckContext, measured: dict[str, Any], shapes: list[list[int]]) -> Finding:
    status = ctx.table.judge(measured["ratio"])
    message = _("largest error is {ratio:.3g} times the limit").format(ratio=measured["ratio"])
    return Finding(status, message, measured, shapes)


def _shape_mismatch(got: npt.NDArray[Any], want: tuple[int, ...]) -> Finding:
    return Finding(
        Status.FAIL,
        _("the result has shape {got}, not {want}").format(got=got.shape, want=want),
        {"shape": _shape(got)},
    )


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
        xp, be = ctx.backend.xp, ctx.backend
        x = np.array(SPECIALS, dtype=dtype)
        a, b = np.meshgrid(x, x)
        exact = np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=dtype)
        unary = np.array([np.nan, 0.0, -0.0, np.inf, -np.inf, 1.0, -1.0], dtype=dtype)
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
                got = be.to_numpy(op(*(xp.asarray(arg) for arg in args)))
                if not _same_bits(got, ref(*args)):
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


def elementwise_accuracy(dtype: str) -> Callable[[CheckContext], Finding]:
    """exp, log, sin, tanh and sqrt on random inputs, within the table's ULP limit."""

    def run(ctx: CheckContext) -> Finding:
        xp, be = ctx.backend.xp, ctx.backend
        x = ctx.rng.uniform(0.01, 20.0, size=4096).astype(dtype)
        limit = ctx.table.get("elementwise", dtype).ulp
        worst = {}
        for name in ("exp", "log", "sin", "tanh", "sqrt"):
            got = be.to_numpy(getattr(xp, name)(xp.asarray(x)))
            worst[name] = ulp_error(got, getattr(np, name)(x.astype(np.float64)), dtype)
        ulps = max(worst.values())
        measured = {"max_ulp": ulps, "ulp_by_op": worst, "ratio": ulps / limit}
        return _judged(ctx, measured, [[x.size]])

    return run


def broadcasting(dtype: str) -> Callable[[CheckContext], Finding]:
    """(3,1,4) + (5,4) gives (3,5,4) with the correctly rounded sums."""

    def run(ctx: CheckContext) -> Finding:
        xp, be = ctx.backend.xp, ctx.backend
        a = ctx.rng.standard_normal((3, 1, 4)).astype(dtype)
        b = ctx.rng.standard_normal((5, 4)).astype(dtype)
        got = be.to_numpy(xp.add(xp.asarray(a), xp.asarray(b)))
        if got.shape != (3, 5, 4):
            return _shape_mismatch(got, (3, 5, 4))
        same = _same_bits(got, a + b)
        return Finding(
            Status.PASS if same else Status.FAIL,
            _("broadcast sums are exact")
            if same
            else _("broadcast sums are not correctly rounded"),
            {"max_abs_error": float(np.max(np.abs(got.astype(np.float64) - (a + b))))},
            [_shape(a), _shape(b)],
        )

    return run


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


def reduction_sum(dtype: str) -> Callable[[CheckContext], Finding]:
    """sum over 20 000 elements, within a limit widened with the length."""

    def run(ctx: CheckContext) -> Finding:
        xp, be = ctx.backend.xp, ctx.backend
        n = 20_000
        x = ctx.rng.standard_normal((8, n)).astype(dtype)
        got = be.to_numpy(xp.sum(xp.asarray(x), axis=1))
        if got.shape != (8,):
            return _shape_mismatch(got, (8,))
        exact = np.array([np.float64(sum(map(float, row))) for row in x.astype(np.float64)])
        tol = ctx.table.get("sum", dtype).widened(n)
        measured = error_ratio(got, exact, tol, magnitude=np.sum(np.abs(x.astype(np.float64)), 1))
        return _judged(ctx, measured, [_shape(x)])

    return run


def matmul(dtype: str, *, batched: bool) -> Callable[[CheckContext], Finding]:
    """matmul (batched with a broadcast operand) against float64, limit widened with k."""

    def run(ctx: CheckContext) -> Finding:
        xp, be = ctx.backend.xp, ctx.backend
        a_shape, b_shape = ((4, 16, 48), (48, 12)) if batched else ((64, 48), (48, 32))
        a = ctx.rng.standard_normal(a_shape).astype(dtype)
        b = ctx.rng.standard_normal(b_shape).astype(dtype)
        got = be.to_numpy(xp.matmul(xp.asarray(a), xp.asarray(b)))
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        want = a64 @ b64
        if got.shape != want.shape:
            return _shape_mismatch(got, want.shape)
        tol = ctx.table.get("matmul", dtype).widened(a_shape[-1])
        measured = error_ratio(got, want, tol, magnitude=np.abs(a64) @ np.abs(b64))
        return _judged(ctx, measured, [_shape(a), _shape(b)])

    return run


def softmax(dtype: str) -> Callable[[CheckContext], Finding]:
    """Softmax composed from max, exp and sum, shifted for stability, against float64."""

    def run(ctx: CheckContext) -> Finding:
        xp, be = ctx.backend.xp, ctx.backend
        x = (ctx.rng.standard_normal((16, 128)) * 8).astype(dtype)
        t = xp.asarray(x)
        e = xp.exp(t - xp.max(t, axis=-1, keepdims=True))
        got = be.to_numpy(e / xp.sum(e, axis=-1, keepdims=True))
        x64 = x.astype(np.float64)
        e64 = np.exp(x64 - x64.max(axis=-1, keepdims=True))
        want = e64 / e64.sum(axis=-1, keepdims=True)
        return _judged(ctx, error_ratio(got, want, ctx.table.get("softmax", dtype)), [_shape(x)])

    return run


def layer_norm(dtype: str) -> Callable[[CheckContext], Finding]:
    """Layer norm composed from mean, var and sqrt, against float64."""

    def run(ctx: CheckContext) -> Finding:
        xp, be = ctx.backend.xp, ctx.backend
        x = (ctx.rng.standard_normal((16, 256)) * 3 + 1).astype(dtype)
        t = xp.asarray(x)
        mean = xp.mean(t, axis=-1, keepdims=True)
        var = xp.var(t, axis=-1, keepdims=True)
        got = be.to_numpy((t - mean) / xp.sqrt(var + 1e-5))
        x64 = x.astype(np.float64)
        want = (x64 - x64.mean(-1, keepdims=True)) / np.sqrt(x64.var(-1, keepdims=True) + 1e-5)
        tol = ctx.table.get("layer_norm", dtype)
        return _judged(ctx, error_ratio(got, want, tol), [_shape(x)])

    return run


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


def bad_shapes(ctx: CheckContext) -> Finding:
    """Incompatible shapes raise an exception instead of returning something."""
    xp = ctx.backend.xp
    cases: dict[str, Callable[[], object]] = {
        "matmul (3,4)@(5,6)": lambda: xp.matmul(xp.ones((3, 4)), xp.ones((5, 6))),
        "add (3,)+(4,)": lambda: xp.add(xp.ones(3), xp.ones(4)),
        "reshape (2,3)->(4,)": lambda: xp.reshape(xp.ones((2, 3)), (4,)),
    }
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
    return Finding(Status.PASS, _("every bad shape raised an error"), {"cases": len(cases)})


def _per_dtype(name: str, make: Callable[[str], Callable[[CheckContext], Finding]]) -> list[Check]:
    """float32 is required; float64 is optional, as the standard allows devices without it."""
    return [Check(f"{name}.{d}", "tensor", d, d == "float32", make(d)) for d in FLOATS]


CHECKS: list[Check] = [
    *_per_dtype("elementwise.special-values", special_values),
    *_per_dtype("elementwise.accuracy", elementwise_accuracy),
    *_per_dtype("broadcasting", broadcasting),
    Check("type-promotion", "tensor", "", True, type_promotion),
    *_per_dtype("reduction.sum", reduction_sum),
    *_per_dtype("matmul", lambda d: matmul(d, batched=False)),
    *_per_dtype("matmul.batched", lambda d: matmul(d, batched=True)),
    *_per_dtype("softmax", softmax),
    *_per_dtype("layer-norm", layer_norm),
    Check("casts", "tensor", "", True, casts),
    Check("determinism.float32", "tensor", "float32", True, determinism),
    Check("errors.bad-shapes", "tensor", "", True, bad_shapes),
]
