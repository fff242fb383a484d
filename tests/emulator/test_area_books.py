"""What every API area of emulator/areas.py answers the same way, because emulator/book.py's `Book`
answers it: a management key only, 405 and 404 on other methods and paths, a soft DELETE, lists of
one workspace paged newest first. Each area's own rules are in tests/emulator/test_<area>_api.py;
a new area adds a row to `AREAS` below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import cycle
from typing import Any

import pytest

from emulator import areas
from tests.emulator.envelope import error_of
from tests.support.sentinel import make_sentinel

AGENTS = "7c1e2d3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
MISSING = "4d4d4d4d-0000-4000-8000-000000000000"
Bodies = Callable[[], Iterator[dict[str, Any]]]


def byok_bodies() -> cycle[dict[str, Any]]:
    return cycle([{"provider": "openai", "key": make_sentinel()}])


def destination_bodies() -> cycle[dict[str, Any]]:
    """Three types in turn: at most five of a type fit in a workspace."""
    return cycle([
        {"type": "webhook", "name": "hook", "config": {"url": "https://hook.example.com"}},
        {"type": "langfuse", "name": "lf", "config": {"publicKey": "pk-lf-public",
                                                      "secretKey": make_sentinel()}},
        {"type": "posthog", "name": "ph", "config": {"apiKey": make_sentinel()}},
    ])


# Each area: its collection's route and valid create bodies.
AREAS: dict[str, tuple[str, Bodies]] = {
    "byok": ("/byok", byok_bodies),
    "observability": ("/observability/destinations", destination_bodies),
}


def create(api, route: str, body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = api.post(route, json={**body, **fields})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_every_area_has_a_row():
    assert set(AREAS) == {area.name for area in areas.AREAS}


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize(
    ("method", "item"),
    [("GET", False), ("POST", False), ("GET", True), ("PATCH", True), ("DELETE", True)],
)
def test_every_route_wants_a_management_key(client_for, emulator, area, method, item):
    route = AREAS[area][0]
    path = f"{route}/{MISSING}" if item else route
    regular = client_for(emulator.seed_key("inference").secret)

    assert error_of(client_for(None).request(method, path, json={})) == (
        401, "Missing Authentication header"
    )
    assert error_of(regular.request(method, path, json={})) == (
        403, "Only management keys can perform this operation"
    )


@pytest.mark.parametrize("area", AREAS)
def test_wrong_methods_are_405_and_deeper_paths_404(api, area):
    route = AREAS[area][0]

    assert api.put(route, json={}).status_code == 405
    assert api.post(f"{route}/{MISSING}", json={}).status_code == 405
    assert error_of(api.get(f"{route}/{MISSING}/more")) == (404, "Not Found")


@pytest.mark.parametrize("area", AREAS)
def test_delete_is_soft_then_every_route_answers_404(api, emulator, area):
    route, bodies = AREAS[area]
    made = create(api, route, next(bodies()))

    assert api.delete(f"{route}/{made['id']}").json() == {"deleted": True}

    for response in (api.get(f"{route}/{made['id']}"), api.delete(f"{route}/{made['id']}"),
                     api.patch(f"{route}/{made['id']}", json={"name": "back"})):
        assert error_of(response) == (404, "Resource not found")
    assert api.get(route).json() == {"data": [], "total_count": 0}
    assert emulator.objects(area) == []


@pytest.mark.parametrize("area", AREAS)
def test_list_pages_one_workspace_newest_first(api, emulator, area):
    route, bodies = AREAS[area]
    emulator.add_workspace("Agents", "agents", workspace_id=AGENTS)
    body = bodies()
    made = [create(api, route, next(body)) for _ in range(7)]
    theirs = create(api, route, next(body), workspace_id=AGENTS)

    first = api.get(route, params={"limit": 5}).json()
    second = api.get(route, params={"limit": 5, "offset": 5}).json()

    assert (len(first["data"]), len(second["data"]), first["total_count"]) == (5, 2, 7)
    assert [d["id"] for d in first["data"] + second["data"]] == [d["id"] for d in made[::-1]]
    assert [d["id"] for d in api.get(route, params={"workspace_id": AGENTS}).json()["data"]] == [
        theirs["id"]
    ]
    for query in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": "x"},
                  {"workspace_id": MISSING}):
        assert error_of(api.get(route, params=query))[0] == 400


@pytest.mark.parametrize("area", AREAS)
def test_a_refused_seed_names_the_problem_and_stores_nothing(emulator, area):
    with pytest.raises(ValueError, match=r"^cannot seed an? [\w ]+: .+ is required"):
        emulator.seed_object(area)

    assert emulator.objects(area) == []
