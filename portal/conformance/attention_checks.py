"""Attention, composed from standard functions and through a backend's native kernel, and conv2d."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from portal.conformance.checks import CheckContext, Finding, error_ratio
from portal.conformance.tensor_common import draw, host, judged, per_dtype, put, shape_of

BATCH, LENGTH, DEPTH = 2, 32, 16


def _qkv(ctx: CheckContext, dtype: str) -> list[npt.NDArray[Any]]:
    return [draw(ctx.rng.standard_normal((BATCH, LENGTH, DEPTH)), dtype) for _qkv in range(3)]


def _reference(q: Any, k: Any, v: Any) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """softmax(QK^T/sqrt(d))V in float64, and the magnitude P|V| its error is measured against."""
    q64, k64, v64 = (a.astype(np.float64) for a in (q, k, v))
    scores = q64 @ np.swapaxes(k64, -1, -2) / math.sqrt(DEPTH)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return p @ v64, p @ np.abs(v64)


def composed(dtype: str) -> Callable[[CheckContext], Finding]:
    """softmax(QK^T/sqrt(d))V from matmul, matrix_transpose, max, exp and sum."""

    def run(ctx: CheckContext) -> Finding:
        xp = ctx.backend.xp
        q, k, v = _qkv(ctx, dtype)
        tq, tk, tv = (put(ctx, a, dtype) for a in (q, k, v))
        scores = xp.matmul(tq, xp.matrix_transpose(tk)) / math.sqrt(DEPTH)
        e = xp.exp(scores - xp.max(scores, axis=-1, keepdims=True))
        got = host(ctx, xp.matmul(e / xp.sum(e, axis=-1, keepdims=True), tv))
        want, magnitude = _reference(q, k, v)
        tol = ctx.table.get("attention", dtype)
        return judged(ctx, error_ratio(got, want, tol, magnitude=magnitude), [shape_of(q)] * 3)

    return run


def native(dtype: str) -> Callable[[CheckContext], Finding]:
    """The backend's own scaled_dot_product_attention(q, k, v), same inputs and limit."""

    def run(ctx: CheckContext) -> Finding:
        attend = ctx.backend.native_ops["scaled_dot_product_attention"]
        q, k, v = _qkv(ctx, dtype)
        got = host(ctx, attend(*(put(ctx, a, dtype) for a in (q, k, v))))
        want, magnitude = _reference(q, k, v)
        tol = ctx.table.get("attention", dtype)
        return judged(ctx, error_ratio(got, want, tol, magnitude=magnitude), [shape_of(q)] * 3)

    return run


def conv2d(dtype: str) -> Callable[[CheckContext], Finding]:
    """The backend's conv2d(x, w) (NCHW, no padding, stride 1) against float64 windows."""

    def run(ctx: CheckContext) -> Finding:
        convolve = ctx.backend.native_ops["conv2d"]
        x = draw(ctx.rng.standard_normal((2, 3, 12, 12)), dtype)
        w = draw(ctx.rng.standard_normal((4, 3, 3, 3)), dtype)
        got = host(ctx, convolve(put(ctx, x, dtype), put(ctx, w, dtype)))
        windows = sliding_window_view(x.astype(np.float64), (3, 3), axis=(2, 3))
        want = np.einsum("nchwij,ocij->nohw", windows, w.astype(np.float64))
        magnitude = np.einsum("nchwij,ocij->nohw", np.abs(windows), np.abs(w.astype(np.float64)))
        tol = ctx.table.get("matmul", dtype).widened(3 * 3 * 3)  # a dot product of length 27
        measured = error_ratio(got, want, tol, magnitude=magnitude)
        return judged(ctx, measured, [shape_of(x), shape_of(w)])

    return run


_REFERENCE_SNIPPET = """\
q64, k64, v64 = (a.astype(np.float64) for a in (q, k, v))
s64 = q64 @ np.swapaxes(k64, -1, -2) / 4.0
p64 = np.exp(s64 - s64.max(axis=-1, keepdims=True))
want = (p64 / p64.sum(axis=-1, keepdims=True)) @ v64
print("max |got - want| =", np.max(np.abs(got.astype(np.float64) - want)))
"""

COMPOSED_SNIPPET = (
    """\
q, k, v = (rounded(rng.standard_normal((2, 32, 16)), DTYPE) for _ in range(3))
tq, tk, tv = (put(a, DTYPE) for a in (q, k, v))
scores = xp.matmul(tq, xp.matrix_transpose(tk)) / 4.0
e = xp.exp(scores - xp.max(scores, axis=-1, keepdims=True))
got = host(xp.matmul(e / xp.sum(e, axis=-1, keepdims=True), tv))
"""
    + _REFERENCE_SNIPPET
)

NATIVE_SNIPPET = (
    """\
q, k, v = (rounded(rng.standard_normal((2, 32, 16)), DTYPE) for _ in range(3))
got = host(torch.nn.functional.scaled_dot_product_attention(*(put(a, DTYPE) for a in (q, k, v))))
"""
    + _REFERENCE_SNIPPET
)

CONV_SNIPPET = """\
from numpy.lib.stride_tricks import sliding_window_view
x = rounded(rng.standard_normal((2, 3, 12, 12)), DTYPE)
w = rounded(rng.standard_normal((4, 3, 3, 3)), DTYPE)
got = host(torch.nn.functional.conv2d(put(x, DTYPE), put(w, DTYPE))).astype(np.float64)
windows = sliding_window_view(x.astype(np.float64), (3, 3), axis=(2, 3))
want = np.einsum("nchwij,ocij->nohw", windows, w.astype(np.float64))
print("max |got - want| =", np.max(np.abs(got - want)))
"""

CHECKS = [
    *per_dtype("attention", composed, snippet=COMPOSED_SNIPPET),
    *per_dtype(
        "attention.native",
        native,
        op="scaled_dot_product_attention",
        optional=True,
        snippet=NATIVE_SNIPPET,
    ),
    *per_dtype("conv2d.native", conv2d, op="conv2d", optional=True, snippet=CONV_SNIPPET),
]
