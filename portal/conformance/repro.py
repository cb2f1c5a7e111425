"""Standalone repro snippets: the backend's own import, the check's seeded inputs, the failing op.

A vendor pastes one into Python with only their backend and NumPy installed: no portal needed.
The inputs are drawn exactly as the check draws them (NumPy's generator with the check's seed);
backends registered by a vendor's entry point, whose import we cannot know, get the portal form.
"""

from __future__ import annotations

from portal.conformance.backends import ARRAY_API_PREFIX

_NUMPY_IO = (
    "def put(a, dtype=None):\n    return xp.asarray(a)\ndef host(a):\n    return np.asarray(a)\n"
)
_TORCH = (
    "import torch\nimport array_api_compat.torch as xp\n"
    "DEVICE = {device}\n"
    "def put(a, dtype=None):\n"
    "    a = np.asarray(a, np.float32) if dtype == 'bfloat16' else a\n"
    "    t = torch.as_tensor(a, device=DEVICE)\n"
    "    return t.to(torch.bfloat16) if dtype == 'bfloat16' else t\n"
    "def host(t):\n"
    "    return (t.float() if t.dtype == torch.bfloat16 else t).cpu().numpy()\n"
)
_ROUNDED = (
    "def rounded(a, dtype):  # to the nearest {dtype} number (bfloat16 held as float32)\n"
    "    if dtype != 'bfloat16':\n        return a.astype(dtype)\n"
    "    q = np.ldexp(1.0, np.maximum(np.frexp(a)[1] - 1, -126) - 7)\n"
    "    return (np.rint(a / q) * q).astype(np.float32)\n"
)


def prelude(spec: str) -> str | None:
    """Python defining xp, put() and host() for `spec` without the portal, if we know how."""
    if spec == "cpu-reference":
        return "import numpy as xp\n" + _NUMPY_IO
    if spec.startswith(ARRAY_API_PREFIX):
        module = spec.removeprefix(ARRAY_API_PREFIX)
        return (
            f"import {module} as xp\n"
            "def put(a, dtype=None):\n    return xp.asarray(a)\n"
            "def host(a):\n    return np.from_dlpack(a)\n"
        )
    devices = {
        "torch": "'cuda' if torch.cuda.is_available() else 'cpu'",
        "torch:cpu": "'cpu'",
        "torch:cuda": "'cuda'",
    }
    if spec in devices:
        return _TORCH.format(device=devices[spec])
    if spec == "jax":
        return "import jax.numpy as xp\n" + _NUMPY_IO
    return None


def standalone(spec: str, body: str, *, seed: int, dtype: str) -> str | None:
    """The whole snippet for one check's `body`, or None where it cannot stand alone."""
    head = prelude(spec)
    if head is None or not body:
        return None
    held = "float32" if dtype == "bfloat16" else (dtype or "float32")
    return (
        "import numpy as np\n"
        + head
        + _ROUNDED.format(dtype=dtype or "float32")
        + f"DTYPE, HELD = {dtype or 'float32'!r}, {held!r}\n"
        + f"rng = np.random.default_rng({seed})\n"
        + body
    )
