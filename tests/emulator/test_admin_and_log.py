"""The `/_emulator/` admin routes another process drives, and the request log tests count with."""

from __future__ import annotations

import hashlib

from emulator import Fault


def test_admin_keys_lists_every_key_disabled_and_other_workspaces_included(admin, emulator):
    on = emulator.seed_key("on")
    off = emulator.seed_key("off", disabled=True)
    away_id = emulator.add_workspace("Away", "away")["id"]
    away = emulator.seed_key("away", workspace_id=away_id)

    response = admin.get("/keys")

    assert response.status_code == 200
    listed = response.json()["data"]
    assert {key["hash"] for key in listed} == {on.hash, off.hash, away.hash}
    for seeded in (on, off, away):
        assert seeded.secret not in response.text


def test_admin_seed_key_returns_hash_and_secret_and_the_key_works(admin, emulator, client_for):
    response = admin.post("/seed-key", json={"name": "by-hand", "limit": 3, "usage": 1})

    assert response.status_code == 201
    seeded = response.json()
    assert set(seeded) == {"hash", "key"}
    assert seeded["hash"] == hashlib.sha256(seeded["key"].encode()).hexdigest()
    assert client_for(seeded["key"]).get("/key").json()["data"]["limit_remaining"] == 2


def test_admin_seed_key_with_a_bad_setting_is_400_and_says_why(admin, emulator):
    response = admin.post("/seed-key", json={"name": "x", "limit_reset": "hourly"})

    assert response.status_code == 400
    assert "limit_reset" in response.json()["error"]["message"]
    assert emulator.keys() == []


def test_admin_delete_removes_a_key_behind_the_clients_back(admin, api, emulator):
    seeded = emulator.seed_key("victim")

    assert admin.delete(f"/keys/{seeded.hash}").json() == {"deleted": True}
    assert api.get(f"/keys/{seeded.hash}").status_code == 404
    assert admin.delete(f"/keys/{seeded.hash}").status_code == 404


def test_admin_patch_drifts_fields_the_api_cannot_change(admin, emulator):
    seeded = emulator.seed_key("drift")

    response = admin.patch(f"/keys/{seeded.hash}", json={"disabled": True, "usage": 2.0,
                                                         "expires_at": "2099-01-01T00:00:00Z"})

    assert response.status_code == 200
    stored = emulator.key(seeded.hash)
    assert (stored["disabled"], stored["usage"], stored["expires_at"]) == (
        True, 2.0, "2099-01-01T00:00:00Z"
    )
    assert admin.patch(f"/keys/{seeded.hash}", json={"hash": "x"}).status_code == 400


def test_last_used_at_can_be_seeded_and_drifted_but_must_be_a_timestamp(admin, emulator):
    seeded = emulator.seed_key("idle", last_used_at="2026-09-01T08:00:00Z")
    assert emulator.key(seeded.hash)["last_used_at"] == "2026-09-01T08:00:00Z"

    drifted = admin.patch(f"/keys/{seeded.hash}", json={"last_used_at": None})
    assert drifted.json()["data"]["last_used_at"] is None
    refused = admin.patch(f"/keys/{seeded.hash}", json={"last_used_at": "last week"})
    assert refused.status_code == 400
    assert "last_used_at" in refused.json()["error"]["message"]
    seed = admin.post("/seed-key", json={"name": "bad", "last_used_at": 5})
    assert seed.status_code == 400
    assert "last_used_at" in seed.json()["error"]["message"]


def test_admin_management_keys_route_registers_a_working_key(admin, client_for):
    generated = admin.post("/management-keys").json()["key"]
    chosen = admin.post("/management-keys", json={"key": "e2e-chosen-key"}).json()["key"]

    assert chosen == "e2e-chosen-key"
    for key in (generated, chosen):
        assert client_for(key).get("/key").json()["data"]["is_management_key"] is True


def test_admin_faults_are_scripted_listed_and_cleared(admin, api):
    added = admin.post("/faults", json=[
        {"path": "/api/v1/keys", "method": "POST", "status": 429, "retry_after": "2"},
        {"path": "/api/v1/keys", "method": "GET", "status": 500, "times": 3},
    ])

    assert added.status_code == 201
    assert [fault["status"] for fault in admin.get("/faults").json()["data"]] == [429, 500]
    response = api.post("/keys", json={"name": "x"})
    assert (response.status_code, response.headers["Retry-After"]) == (429, "2")
    assert admin.delete("/faults").status_code == 200
    assert admin.get("/faults").json()["data"] == []
    assert api.get("/keys").status_code == 200


def test_admin_fault_with_a_typo_is_400(admin):
    response = admin.post("/faults", json={"path": "/api/v1/keys", "stauts": 500})

    assert response.status_code == 400
    assert "stauts" in response.json()["error"]["message"]


def test_request_log_records_method_path_query_status_and_key_kind(
    api, admin, emulator, client_for
):
    seeded = emulator.seed_key("app")
    api.get("/keys", params={"offset": 0, "include_disabled": "true"})
    api.patch(f"/keys/{seeded.hash}", json={"limit": 4})
    client_for(seeded.secret).get("/keys")
    client_for(None).get("/key")
    admin.get("/keys")

    records = [
        (r.method, r.path, r.query, r.status, r.auth, r.body) for r in emulator.requests()
    ]

    assert records == [
        ("GET", "/api/v1/keys", "offset=0&include_disabled=true", 200, "management", None),
        ("PATCH", f"/api/v1/keys/{seeded.hash}", "", 200, "management", {"limit": 4}),
        ("GET", "/api/v1/keys", "", 403, "regular", None),
        ("GET", "/api/v1/key", "", 401, "none", None),
    ]


def test_request_log_never_holds_a_key(api, admin, emulator, client_for, sentinel):
    management_key = api.headers["Authorization"].removeprefix("Bearer ")
    created = api.post("/keys", json={"name": "x"}).json()
    client_for(created["key"]).get("/key")
    client_for(sentinel).get("/key")

    log = [record.as_dict() for record in emulator.requests()]
    over_http = admin.get("/requests").text

    assert [record["auth"] for record in log] == ["management", "regular", "invalid"]
    for secret in (management_key, created["key"], sentinel):
        assert secret not in str(log)
        assert secret not in over_http


def test_request_log_over_http_reads_like_the_python_one(api, admin, emulator):
    api.get("/keys")

    over_http = admin.get("/requests").json()["data"]

    assert over_http == [record.as_dict() for record in emulator.requests()]
    assert over_http[0]["method"] == emulator.requests()[0]["method"] == "GET"
    assert admin.delete("/requests").status_code == 200
    assert emulator.requests() == []


def test_admin_reset_forgets_keys_faults_and_log_but_keeps_management_keys(
    admin, api, emulator, management_key
):
    emulator.seed_key("k")
    emulator.inject(Fault(path="/api/v1/keys", status=500))
    api.get("/key")

    assert admin.post("/reset").status_code == 200

    assert (emulator.keys(), emulator.pending_faults(), emulator.requests()) == ([], [], [])
    assert api.get("/keys").status_code == 200
    admin.post("/reset", json={"management_keys": True})
    assert api.get("/keys").status_code == 401


def test_python_reset_keeps_management_keys_unless_told(api, emulator):
    emulator.reset()
    assert api.get("/keys").status_code == 200
    emulator.reset(management_keys=True)
    assert api.get("/keys").status_code == 401


def test_seeded_key_repr_hides_the_secret(emulator):
    seeded = emulator.seed_key("quiet")

    assert seeded.secret not in repr(seeded)
    assert seeded.hash in repr(seeded)


def test_unknown_admin_route_is_404(admin):
    assert admin.get("/nothing").status_code == 404
