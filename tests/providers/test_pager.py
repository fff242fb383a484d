"""The one pager: every offset listing (keys, guardrails, workspaces, assignments, models)
walks its pages the same way, ended by `total_count` or by a short page."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import httpx
import pytest

from providers import governance_api
from providers.http.client import ClientSettings, OpenRouterClient
from providers.http.errors import InvalidResponseError
from providers.http.paging import PAGE_SIZE

BASE = "https://openrouter.test/api/v1"


class Pages:
    """Serves scripted JSON answers in order and records each request's path and query."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(f"{request.url.path}?{request.url.query.decode()}")
        return httpx.Response(200, json=self.answers.pop(0))


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> OpenRouterClient:
    settings = ClientSettings(
        api_key="sk-or-v1-" + secrets.token_hex(32), base_url=BASE, sleep=lambda _s: None
    )
    return OpenRouterClient(settings, transport=httpx.MockTransport(handler))


def guardrail(number: int) -> dict[str, object]:
    return {"id": f"g{number}", "name": f"guardrail {number}"}


def test_a_management_listing_pages_by_limit_until_total_count():
    total = PAGE_SIZE + 2
    items = [guardrail(n) for n in range(total)]
    pages = Pages(
        {"data": items[:PAGE_SIZE], "total_count": total},
        {"data": items[PAGE_SIZE:], "total_count": total},
    )
    with client_for(pages) as client:
        listed = governance_api.list_guardrails(client, "ws-1")
    assert [g.id for g in listed] == [g["id"] for g in items]
    assert pages.asked == [
        f"/api/v1/guardrails?workspace_id=ws-1&offset=0&limit={PAGE_SIZE}",
        f"/api/v1/guardrails?workspace_id=ws-1&offset={PAGE_SIZE}&limit={PAGE_SIZE}",
    ]


def test_a_management_listing_stops_on_an_empty_page_before_total_count():
    pages = Pages({"data": [guardrail(1)], "total_count": 5}, {"data": [], "total_count": 5})
    with client_for(pages) as client:
        assert [g.id for g in governance_api.list_guardrails(client, None)] == ["g1"]
    assert len(pages.asked) == 2


def test_a_management_listing_without_total_count_cannot_be_paged():
    with client_for(Pages({"data": [guardrail(1)]})) as client, pytest.raises(
        InvalidResponseError, match="without `data` and `total_count`"
    ):
        governance_api.list_workspaces(client)


def model(number: int) -> dict[str, object]:
    return {"id": f"vendor/model-{number}", "name": f"Model {number}"}


def test_the_catalogue_is_one_answer_when_it_says_no_total():
    pages = Pages({"data": [model(1), model(2)]})
    with client_for(pages) as client:
        assert [m.id for m in client.list_models()] == ["vendor/model-1", "vendor/model-2"]
    assert pages.asked == ["/api/v1/models?output_modalities=all"]


def test_the_catalogue_reads_the_rest_page_by_page_when_it_holds_fewer_than_total():
    pages = Pages(
        {"data": [model(1)], "total_count": 3},
        {"data": [model(2), model(3)], "total_count": 3},
    )
    with client_for(pages) as client:
        assert len(client.list_models()) == 3
    assert pages.asked == [
        "/api/v1/models?output_modalities=all",
        "/api/v1/models?output_modalities=all&offset=1&limit=1000",
    ]
