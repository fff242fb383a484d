"""Undo the pickle wrapper the Pulumi SDK leaves behind on every dynamic resource.

pulumi 3.272 `serialize_provider` wraps `pickle._Pickler._batch_setitems` in a sorting wrapper on
every dynamic resource and never puts it back, so each resource adds one more layer:
serialising slows down linearly, and past ~950 resources in one process it fails with
RecursionError (the likely cause of pulumi/pulumi#17803). Every dynamic resource of this
package calls `undo_sdk_pickle_wrapper()` after its registration, so no caller has to.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any, cast


def _stdlib_batch_setitems() -> Callable[..., Any]:
    """`pickle._Pickler._batch_setitems` as the standard library defines it, found under the
    wrappers through their closures."""
    method: Any = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]  # private, not in typeshed
    while getattr(method, "__qualname__", "") != "_Pickler._batch_setitems":
        cells = [c.cell_contents for c in getattr(method, "__closure__", None) or ()]
        method = next((c for c in cells if callable(c)), None)
        if method is None:  # pragma: no cover - a future SDK that no longer wraps it
            original = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]  # private, not in typeshed
            return cast("Callable[..., Any]", original)  # cast: the method the pickler has now
    # cast: the loop stopped at the callable whose qualname is the stdlib method's.
    return cast("Callable[..., Any]", method)


def undo_sdk_pickle_wrapper() -> None:
    """Put the standard pickler back after the SDK serialised a provider.

    The SDK's next call re-wraps the original once, so serialisation stays sorted and
    deterministic.
    """
    pickle._Pickler._batch_setitems = _stdlib_batch_setitems()  # type: ignore[attr-defined]  # private, not in typeshed
