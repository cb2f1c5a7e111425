"""int8 checks: matmul and sum are exact integers; sum widens as the standard says, overflow is
observed (the standard leaves integer overflow to the implementation), not judged."""

from __future__ import annotations

from typing import Any

import numpy as np

from portal.conformance.checks import Check, CheckContext, Finding
from portal.conformance.results import Status
from portal.conformance.tensor_common import host, shape_of
from portal.i18n import _


def matmul_int8(ctx: CheckContext) -> Finding:
    """int8 @ int8 is int8 and exact while no sum leaves [-128, 127]; overflow is recorded."""
    xp = ctx.backend.xp
    a = ctx.rng.integers(-2, 3, (32, 16)).astype(np.int8)  # |sum| <= 16 * 4 = 64: no overflow
    b = ctx.rng.integers(-2, 3, (16, 24)).astype(np.int8)
    got = xp.matmul(xp.asarray(a), xp.asarray(b))
    want = a.astype(np.int64) @ b.astype(np.int64)
    measured: dict[str, Any] = {
        "dtype": str(got.dtype),
        "overflow": _overflow(ctx),  # informative: 100*1 + 100*1 in int8
    }
    values = host(ctx, got)
    if got.dtype != xp.int8:
        return Finding(
            Status.FAIL,
            _("int8 @ int8 gave {dtype}, not int8").format(dtype=got.dtype),
            measured,
            [shape_of(a), shape_of(b)],
        )
    wrong = int(np.count_nonzero(values.astype(np.int64) != want))
    measured["wrong_elements"] = wrong
    if wrong:
        return Finding(
            Status.FAIL,
            _("{n} elements of the int8 product are not exact").format(n=wrong),
            measured,
            [shape_of(a), shape_of(b)],
        )
    return Finding(
        Status.PASS,
        _("int8 products are exact; on overflow it {behaviour}").format(
            behaviour=measured["overflow"]
        ),
        measured,
        [shape_of(a), shape_of(b)],
    )


def _overflow(ctx: CheckContext) -> str:
    """What the backend does with 200 in int8: wraps (-56), saturates (127), raises, or other."""
    xp = ctx.backend.xp
    a = xp.asarray(np.array([[100, 100]], dtype=np.int8))
    b = xp.asarray(np.array([[1], [1]], dtype=np.int8))
    try:
        value = int(host(ctx, xp.matmul(a, b))[0, 0])
    except Exception:  # noqa: BLE001 - raising on overflow is one of the allowed behaviours
        return "raises"
    return {-56: "wraps", 127: "saturates"}.get(value, f"gives {value}")


def sum_int8(ctx: CheckContext) -> Finding:
    """sum of int8 returns the default integer dtype (the standard), so 127 * 1000 is exact."""
    xp = ctx.backend.xp
    x = ctx.rng.integers(-128, 128, (4, 1000)).astype(np.int8)
    x[0] = 127  # a row whose int8 sum would overflow many times over
    got = xp.sum(xp.asarray(x), axis=1)
    default = ctx.backend.xp.__array_namespace_info__().default_dtypes()["integral"]
    want = x.astype(np.int64).sum(axis=1)
    values = host(ctx, got).astype(np.int64)
    measured = {
        "dtype": str(got.dtype),
        "default_integer": str(default),
        "wrong_elements": int(np.count_nonzero(values != want)),
    }
    if got.dtype != default or measured["wrong_elements"]:
        return Finding(
            Status.FAIL,
            _("sum of int8 gave {dtype} {got}, the standard wants {default} {want}").format(
                dtype=got.dtype, got=values.tolist(), default=default, want=want.tolist()
            ),
            measured,
            [shape_of(x)],
        )
    return Finding(Status.PASS, _("int8 sums are exact in the default integer dtype"), measured)


MATMUL_SNIPPET = """\
a = rng.integers(-2, 3, (32, 16)).astype(np.int8)
b = rng.integers(-2, 3, (16, 24)).astype(np.int8)
got = xp.matmul(put(a), put(b))
print("dtype", got.dtype, "(want int8); wrong elements:",
      np.count_nonzero(host(got).astype(np.int64) != a.astype(np.int64) @ b.astype(np.int64)))
print("100*1 + 100*1 in int8 gives", host(xp.matmul(put(np.array([[100, 100]], dtype=np.int8)),
                                                 put(np.array([[1], [1]], dtype=np.int8)))))
"""

SUM_SNIPPET = """\
x = rng.integers(-128, 128, (4, 1000)).astype(np.int8)
x[0] = 127
got = xp.sum(put(x), axis=1)
print("dtype", got.dtype, "(the default integer dtype:",
      xp.__array_namespace_info__().default_dtypes()["integral"], ")")
print("got ", host(got), "\\nwant", x.astype(np.int64).sum(axis=1))
"""

CHECKS = [
    Check("reduction.sum.int8", "tensor", "int8", False, sum_int8, snippet=SUM_SNIPPET),
    Check("matmul.int8", "tensor", "int8", False, matmul_int8, snippet=MATMUL_SNIPPET),
]
