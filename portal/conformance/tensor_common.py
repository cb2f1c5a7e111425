"""What the tensor check modules share: inputs onto a backend in any dtype, results back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from portal.conformance import lowp
from portal.conformance.checks import Check, CheckContext, Finding
from portal.conformance.results import Status
from portal.i18n import _

# float32 is required; the others are optional (the standard allows devices without float64;
# float16 and bfloat16 are beyond it) and NOT_SUPPORTED only where the backend does not declare
# them. float16 and bfloat16 come after the two the first version had, so old ids keep order.
FLOATS = ("float32", "float64", "float16", "bfloat16")


def draw(values: npt.NDArray[Any], dtype: str) -> npt.NDArray[Any]:
    """Random `values` rounded to `dtype`, held in NumPy (bfloat16 as exact float32)."""
    return lowp.rounded(values, dtype)


def put(ctx: CheckContext, values: npt.NDArray[Any], dtype: str) -> Any:
    """`values` (already rounded to `dtype`) as a backend array of `dtype`."""
    xp = ctx.backend.xp
    if dtype == "bfloat16":
        return xp.astype(xp.asarray(values.astype(np.float32)), xp.bfloat16)  # exact
    return xp.asarray(values)


def host(ctx: CheckContext, array: Any) -> npt.NDArray[Any]:
    """A NumPy copy of a backend array; bfloat16 is widened to float32 first (exactly)."""
    xp = ctx.backend.xp
    bfloat16 = getattr(xp, "bfloat16", None)
    if bfloat16 is not None and getattr(array, "dtype", None) == bfloat16:
        array = xp.astype(array, xp.float32)
    return ctx.backend.to_numpy(array)


def shape_of(array: npt.NDArray[Any]) -> list[int]:
    """A shape as plain ints, for the report."""
    return [int(n) for n in array.shape]


def judged(ctx: CheckContext, measured: dict[str, Any], shapes: list[list[int]]) -> Finding:
    """The table's verdict on measured["ratio"], with the measurements kept."""
    status = ctx.table.judge(measured["ratio"])
    message = _("largest error is {ratio:.3g} times the limit").format(ratio=measured["ratio"])
    return Finding(status, message, measured, shapes)


def shape_mismatch(got: npt.NDArray[Any], want: tuple[int, ...]) -> Finding:
    """The FAIL of a result with the wrong shape."""
    return Finding(
        Status.FAIL,
        _("the result has shape {got}, not {want}").format(got=got.shape, want=want),
        {"shape": shape_of(got)},
    )


def per_dtype(
    name: str,
    make: Callable[[str], Callable[[CheckContext], Finding]],
    *,
    snippet: str = "",
    op: str = "",
    optional: bool = False,
) -> list[Check]:
    """One check per float dtype, `name.dtype`; float32 is required unless `optional`."""
    return [
        Check(
            f"{name}.{d}",
            "tensor",
            d,
            d == "float32" and not optional,
            make(d),
            op=op,
            snippet=snippet,
        )
        for d in FLOATS
    ]
