"""Scripted faults over real sockets: each kind does what a client must survive, and only once."""

from __future__ import annotations

import threading
import time
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pytest

from emulator import Fault

KEYS = "/api/v1/keys"


def stored_names(emulator) -> list[str]:
    stored = emulator.keys()
    return [key["name"] for key in stored]


def test_status_fault_answers_with_retry_after_seconds_and_stores_nothing(api, emulator):
    emulator.inject(Fault(path=KEYS, method="POST", status=429, retry_after=7))

    response = api.post("/keys", json={"name": "x"})

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {"error": {"code": 429, "message": "Rate limit exceeded"}}
    assert emulator.keys() == []
    assert api.post("/keys", json={"name": "x"}).status_code == 201


def test_status_fault_with_an_http_date_and_a_custom_body(api, emulator):
    when = format_datetime(parsedate_to_datetime("Wed, 21 Oct 2099 07:28:00 GMT"), usegmt=True)
    emulator.inject(Fault(path=KEYS, status=503, retry_after=when, body={"oops": True}))

    response = api.get("/keys")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == when
    assert response.json() == {"oops": True}


def test_fault_applies_times_requests_then_stops(api, emulator):
    emulator.inject(Fault(path=KEYS, method="GET", status=500, times=2))

    statuses = [api.get("/keys").status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert emulator.pending_faults() == []


def test_fault_matches_method_and_exact_path_only(api, emulator):
    seeded = emulator.seed_key("k")
    emulator.inject(Fault(path=KEYS, method="POST", status=500))

    assert api.get("/keys").status_code == 200
    assert api.get(f"/keys/{seeded.hash}").status_code == 200
    assert api.post("/keys", json={"name": "x"}).status_code == 500


def test_exact_fault_matches_the_same_path_with_a_trailing_slash(api, emulator):
    emulator.inject(Fault(path=KEYS, method="POST", status=500))

    assert api.post("/keys/", json={"name": "x"}).status_code == 500


def test_prefix_fault_matches_every_key_path(api, emulator):
    seeded = emulator.seed_key("k")
    emulator.inject(Fault(path=f"{KEYS}/", prefix=True, status=500, times=2))

    assert api.get("/keys").status_code == 200
    assert api.get(f"/keys/{seeded.hash}").status_code == 500
    assert api.patch(f"/keys/{seeded.hash}", json={"name": "n"}).status_code == 500
    assert api.get(f"/keys/{seeded.hash}").status_code == 200


def test_latency_makes_a_client_time_out_but_the_create_still_lands(
    emulator, management_key, new_client
):
    emulator.inject(Fault(path=KEYS, method="POST", latency=0.6))
    client = new_client(
        base_url=emulator.api_base_url,
        headers={"Authorization": f"Bearer {management_key}"},
        timeout=httpx.Timeout(5.0, read=0.2),
    )

    with pytest.raises(httpx.ReadTimeout):
        client.post("/keys", json={"name": "slow"})

    deadline = time.monotonic() + 3
    while not emulator.keys() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored_names(emulator) == ["slow"]


def test_latency_delays_the_answer(api, emulator):
    emulator.inject(Fault(path=KEYS, method="GET", latency=0.3))

    started = time.monotonic()
    response = api.get("/keys")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_drop_after_commit_stores_the_key_and_sends_no_response(api, emulator):
    emulator.inject(Fault(path=KEYS, method="POST", drop="after_commit"))

    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/keys", json={"name": "ambiguous"})

    assert stored_names(emulator) == ["ambiguous"]
    record = emulator.requests()[-1]
    assert (record.method, record.status, record.fault) == ("POST", 201, "drop_after_commit")


def test_drop_before_stores_nothing(api, emulator):
    emulator.inject(Fault(path=KEYS, method="POST", drop="before"))

    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/keys", json={"name": "lost"})

    assert emulator.keys() == []
    record = emulator.requests()[-1]
    assert (record.status, record.fault) == (None, "drop_before")


def test_drop_mid_body_cuts_the_answer(api, emulator):
    emulator.seed_key("k")
    emulator.inject(Fault(path=KEYS, method="GET", drop="mid_body"))

    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/keys")

    assert api.get("/keys").status_code == 200


def test_faults_are_consumed_once_under_concurrency(emulator, client_for, management_key):
    emulator.inject(Fault(path=KEYS, method="GET", status=500, times=5))
    statuses: list[int] = []
    lock = threading.Lock()

    def call(client: httpx.Client) -> None:
        status = client.get("/keys").status_code
        with lock:
            statuses.append(status)

    clients = [client_for(management_key) for _ in range(12)]
    threads = [threading.Thread(target=call, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(statuses) == [200] * 7 + [500] * 5


@pytest.mark.parametrize(
    "settings",
    [
        {"path": "api/v1/keys", "status": 500},
        {"path": KEYS},
        {"path": KEYS, "status": 500, "drop": "before"},
        {"path": KEYS, "drop": "sometimes"},
        {"path": KEYS, "status": 700},
        {"path": KEYS, "status": 500, "times": 0},
        {"path": KEYS, "latency": -1},
        {"path": KEYS, "retry_after": 3},
    ],
)
def test_malformed_fault_is_refused_with_the_reason(settings):
    with pytest.raises(ValueError, match="invalid Fault"):
        Fault(**settings)


def test_admin_routes_are_never_faulted(emulator, admin):
    emulator.inject(Fault(path="/_emulator/", prefix=True, status=500))

    response = admin.get("/keys")

    assert response.status_code == 200
    assert len(emulator.pending_faults()) == 1


def test_a_request_still_sleeping_at_reset_never_writes_into_the_next_test(
    emulator, management_key, new_client
):
    emulator.inject(Fault(path=KEYS, method="POST", latency=0.3))
    client = new_client(
        base_url=emulator.api_base_url,
        headers={"Authorization": f"Bearer {management_key}"},
        timeout=httpx.Timeout(5.0, read=0.05),
    )
    with pytest.raises(httpx.ReadTimeout):
        client.post("/keys", json={"name": "from-the-previous-test"})

    emulator.reset()
    time.sleep(0.5)

    assert emulator.keys() == []
    assert emulator.requests() == []
