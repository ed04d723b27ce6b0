"""The API's front door: bearer tokens on every endpoint, the schema and docs, JSON errors."""

import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone

from rencai.core import jobs
from rencai.core.models import ApiToken, AuditEntry, Dictionary, DictionaryItem, OrgUnit, Region
from rencai.core.models.audit import AuditAction
from rencai.core.services.tokens import create_token

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def endpoints(city_admin):
    """Every GET endpoint, with real objects behind the ones that name an object."""
    unit = OrgUnit.objects.create(name="盐湖区人才办", region=Region.objects.get(code="140802"))
    dictionary, _ = Dictionary.objects.get_or_create(code="api_test_tier", defaults={"name": "测试层次"})
    DictionaryItem.objects.create(dictionary=dictionary, code="A", label="A 类")
    job = jobs.enqueue("core.audit_verify", {}, city_admin)
    return [
        "/api/me",
        "/api/regions/",
        "/api/regions/140802",
        "/api/dictionaries/",
        f"/api/dictionaries/{dictionary.code}/items",
        "/api/orgunits/",
        f"/api/orgunits/{unit.pk}",
        "/api/jobs/",
        f"/api/jobs/{job.pk}",
    ]


def test_every_endpoint_wants_a_token_and_accepts_a_valid_one(client, city_admin, endpoints):
    _, raw = create_token(city_admin)
    for url in endpoints:
        refused = client.get(url)
        assert refused.status_code == 401, url
        assert refused.headers["Content-Type"].startswith("application/json")
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in refused.json()["detail"]
        allowed = client.get(url, headers=bearer(raw))
        assert allowed.status_code == 200, (url, allowed.content)


def test_every_write_wants_a_token(client, city_admin):
    unit = OrgUnit.objects.create(name="盐湖区人才办", region=Region.objects.get(code="140802"))
    job = jobs.enqueue("core.audit_verify", {}, city_admin)
    data = {"name": "改名", "region": "140802"}
    for method, url in (("post", "/api/orgunits/"), ("patch", f"/api/orgunits/{unit.pk}"),
                        ("delete", f"/api/orgunits/{unit.pk}"), ("post", f"/api/jobs/{job.pk}/cancel")):
        response = getattr(client, method)(url, data, content_type="application/json")
        assert response.status_code == 401, (method, url)
    unit.refresh_from_db()
    job.refresh_from_db()
    assert unit.name == "盐湖区人才办" and OrgUnit.objects.count() == 1 and job.status == "queued"


def test_a_session_alone_does_not_open_the_api(client, city_admin):
    client.force_login(city_admin)
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("header", ["Bearer rc_nosuchtoken", "Bearer ", "Token abc", "Basic Y2l0eV9hZG1pbjp4"])
def test_an_unknown_or_malformed_token_is_refused(client, city_admin, header):
    response = client.get("/api/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert "detail" in response.json()


def test_an_expired_token_is_refused_and_audited(client, yanhu_officer):
    token, raw = create_token(yanhu_officer)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/me", headers=bearer(raw))
    assert response.status_code == 401
    assert response.json()["detail"] == "API 令牌无效、已过期或已被撤销。"
    entry = AuditEntry.objects.filter(action=AuditAction.ACCESS_DENIED).latest("id")
    assert "expired" in entry.message and entry.object_repr == "/api/me"


def test_a_revoked_token_is_refused(client, yanhu_officer):
    token, raw = create_token(yanhu_officer)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert client.get("/api/me", headers=bearer(raw)).status_code == 401


def test_a_disabled_users_token_is_refused(client, yanhu_officer):
    _, raw = create_token(yanhu_officer)
    assert client.get("/api/me", headers=bearer(raw)).status_code == 200
    yanhu_officer.is_active = False
    yanhu_officer.save()
    response = client.get("/api/me", headers=bearer(raw))
    assert response.status_code == 401 and response.json()["detail"]


def test_use_is_recorded_at_most_once_a_minute(client, yanhu_officer):
    token, raw = create_token(yanhu_officer)
    assert token.last_used_at is None
    client.get("/api/me", headers=bearer(raw))
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/me", headers=bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    client.get("/api/me", headers=bearer(raw))
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(seconds=1) and timezone.now() - token.last_used_at < timedelta(seconds=30)


def test_api_writes_are_audited_as_the_tokens_user(client, yanhu_officer):
    _, raw = create_token(yanhu_officer)
    response = client.post(
        "/api/orgunits/", {"name": "盐湖区科技局", "region": "140802"}, content_type="application/json", headers=bearer(raw)
    )
    assert response.status_code == 201
    entry = AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="core.orgunit").latest("id")
    assert entry.actor_id == yanhu_officer.pk and entry.actor_name == "yanhu"
    assert OrgUnit.objects.get(pk=response.json()["id"]).created_by_id == yanhu_officer.pk


def test_the_api_needs_no_csrf_token(city_admin):
    from django.test import Client

    _, raw = create_token(city_admin)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        "/api/orgunits/", {"name": "运城市人才办", "region": "140800"}, content_type="application/json", headers=bearer(raw)
    )
    assert response.status_code == 201


# --- schema and docs ---------------------------------------------------------------------------------
def test_the_openapi_schema_loads(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/me", "/api/regions/", "/api/regions/{code}", "/api/dictionaries/{code}/items",
                 "/api/orgunits/", "/api/orgunits/{unit_id}", "/api/jobs/{job_id}"):
        assert path in schema["paths"], path
    assert schema["components"]["securitySchemes"]["ApiTokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert set(schema["paths"]["/api/orgunits/{unit_id}"]) == {"get", "patch", "delete"}
    parameters = {p["name"] for p in schema["paths"]["/api/orgunits/"]["get"]["parameters"]}
    assert {"q", "region", "kind", "cursor", "limit"} <= parameters


def test_the_docs_page_uses_only_local_static_files(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(url.startswith("/static/") for url in assets), assets
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    for url in assets:
        assert finders.find(url.removeprefix("/static/")), url
    init_script = open(finders.find("ninja/swagger-ui-init.js"), encoding="utf-8").read()
    assert "http" not in init_script.replace("// ", "")
    assert '"validatorUrl": null' in html  # no call to the public validator


# --- JSON errors -------------------------------------------------------------------------------------
def test_errors_are_json_with_a_chinese_detail(client, city_admin, audit_admin):
    _, admin_raw = create_token(city_admin)
    _, audit_raw = create_token(audit_admin)
    not_found = client.get("/api/orgunits/999999", headers=bearer(admin_raw))
    assert not_found.status_code == 404 and "数据范围" in not_found.json()["detail"]
    forbidden = client.get("/api/orgunits/", headers=bearer(audit_raw))
    assert forbidden.status_code == 403 and forbidden.json()["detail"] == "您没有执行此操作的权限。"
    denied = AuditEntry.objects.filter(action=AuditAction.ACCESS_DENIED, actor=audit_admin).latest("id")
    assert denied.message == "API 403"
    missing_route = client.get("/api/no-such-thing/", headers=bearer(admin_raw))
    assert missing_route.status_code == 404 and missing_route.headers["Content-Type"].startswith("application/json")


def test_validation_errors_name_the_fields_in_chinese(client, city_admin):
    _, raw = create_token(city_admin)
    response = client.post(
        "/api/orgunits/", {"region": 5, "parent": "x"}, content_type="application/json", headers=bearer(raw)
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "提交的数据未通过校验，请按字段修改后重试。"
    assert body["errors"]["name"] == ["此字段为必填项。"]
    assert body["errors"]["region"] == ["应为文本。"]
    assert body["errors"]["parent"] == ["应为整数。"]
    bad_query = client.get("/api/orgunits/?limit=0", headers=bearer(raw))
    assert bad_query.status_code == 422 and bad_query.json()["errors"] == {"limit": ["不能小于 1。"]}
    not_json = client.post("/api/orgunits/", "{", content_type="application/json", headers=bearer(raw))
    assert not_json.status_code == 400 and not_json.json() == {"detail": "请求格式有误，例如请求体不是有效的 JSON。"}


def test_a_server_error_is_json_without_a_traceback(client, city_admin, monkeypatch, caplog):
    _, raw = create_token(city_admin)

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals 13812345678")

    monkeypatch.setattr("rencai.core.api.scoped", broken)
    response = client.get("/api/regions/", headers=bearer(raw))
    assert response.status_code == 500
    assert response.json() == {"detail": "系统出现错误，已记录。请稍后再试，或联系系统管理员。"}
    assert b"Traceback" not in response.content and b"secret internals" not in response.content
    assert any(record.exc_info and record.name == "rencai.api" for record in caplog.records)
