"""Who is calling: the bearer key of a request, as OpenRouter's answers show it (401 `Missing
Authentication header` without one, 401 `User not found.` for an unknown, disabled or expired
key), and which kind it is for the request log, which never holds the key itself.
"""

from __future__ import annotations

from datetime import UTC, datetime

from emulator.key_rules import hash_secret
from emulator.records import Caller
from emulator.store import MSG_USER_NOT_FOUND, Store
from emulator.wire import ApiError

MSG_MISSING_AUTH = "Missing Authentication header"


def authenticate(store: Store, header: str | None) -> Caller:
    """The caller behind an Authorization header, or the 401 the API answers."""
    if not header or not header.strip():
        raise ApiError(401, MSG_MISSING_AUTH)
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, MSG_MISSING_AUTH)
    digest = hash_secret(token.strip())
    with store.lock:
        if store.is_management_key(digest):
            return Caller("management", digest)
        stored = store.stored_key(digest)
        if stored is None or stored.disabled or stored.is_expired(datetime.now(UTC)):
            raise ApiError(401, MSG_USER_NOT_FOUND)
        return Caller("regular", digest)


def identify(store: Store, header: str | None) -> str:
    """Which kind of key a header carries, for the request log; never raises."""
    try:
        return authenticate(store, header).kind
    except ApiError as error:
        return "none" if error.message == MSG_MISSING_AUTH else "invalid"
