"""Undo the pickle wrapper the Pulumi SDK leaves behind on every dynamic resource.

pulumi 3.272 `serialize_provider` wraps `pickle._Pickler._batch_setitems` in a sorting wrapper on
every dynamic resource and never puts it back, so each resource adds one more layer:
serialising slows down linearly, and past ~950 resources in one process it fails with
RecursionError (the likely cause of pulumi/pulumi#17803). Every dynamic resource of this
package derives from `PickleSafeResource`, which calls `undo_sdk_pickle_wrapper()` after its
registration, so no caller has to.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any, cast

import pulumi
from pulumi.dynamic import Resource, ResourceProvider


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


class PickleSafeResource(Resource):
    """A dynamic resource whose registration leaves the standard pickler as it found it.

    Subclasses name their own type token (`module=`, `name=`); this class is never registered.
    """

    def __init__(
        self,
        provider: ResourceProvider,
        name: str,
        props: pulumi.Inputs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        try:
            super().__init__(provider, name, props, opts)
        finally:
            undo_sdk_pickle_wrapper()
