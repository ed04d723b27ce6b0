"""API tokens: created by command and on the 「API 令牌」 page, stored only as a digest, revocable."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from rencai.core.models import ApiToken, AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.core.services.tokens import create_token, revoke_token

pytestmark = pytest.mark.django_db


def _run_token_command(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue()


def _me(client, raw):
    return client.get("/api/me", headers={"Authorization": f"Bearer {raw}"})


def _stored_text(token: ApiToken) -> str:
    return " ".join(str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values())


def test_it_creates_a_token_from_the_command_line_and_prints_it_last(client, city_staff):
    output = _run_token_command("create", "city_staff", "--days", "10", "--name", "数据同步")
    raw = output.strip().splitlines()[-1]
    assert raw.startswith("rc_") and " " not in raw
    token = ApiToken.objects.get(user=city_staff)
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:12] and token.name == "数据同步"
    assert abs(token.expires_at - (timezone.now() + timedelta(days=10))) < timedelta(minutes=1)
    entry = AuditEntry.objects.filter(action=AuditAction.TOKEN).latest("id")
    assert entry.object_id == str(token.pk) and entry.actor_id is None and entry.actor_name == "命令行"
    assert _me(client, raw).json()["username"] == "city_staff"


def test_it_uses_the_default_lifetime_from_settings(settings, city_staff):
    settings.API_TOKEN_DEFAULT_DAYS = 7
    raw = _run_token_command("create", "city_staff").strip().splitlines()[-1]
    token = ApiToken.objects.get(user=city_staff)
    assert token.prefix == raw[:12]
    assert abs(token.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)


def test_the_command_refuses_unknown_users_and_bad_lifetimes(city_staff):
    with pytest.raises(CommandError):
        _run_token_command("create", "nobody")
    with pytest.raises(CommandError):
        _run_token_command("create", "city_staff", "--days", "0")
    assert not ApiToken.objects.exists()


def test_the_command_lists_and_revokes_by_prefix(client, city_staff):
    raw = _run_token_command("create", "city_staff").strip().splitlines()[-1]
    listing = _run_token_command("list", "city_staff")
    assert raw[:12] in listing and raw not in listing and "active" in listing
    _run_token_command("revoke", raw[:12])
    assert ApiToken.objects.get().revoked_at is not None
    assert _me(client, raw).status_code == 401


def test_it_never_stores_the_token_itself(yanhu_officer):
    token, raw = create_token(yanhu_officer, name="脚本")
    assert raw not in _stored_text(token)
    assert raw[12:] not in _stored_text(token)
    assert raw not in str(list(AuditEntry.objects.values()))


def test_it_creates_a_token_on_the_page_and_shows_it_once(client, yanhu_officer):
    client.force_login(yanhu_officer)
    page = client.get(reverse("token_list"))
    assert page.status_code == 200 and "新建令牌" in page.content.decode()
    response = client.post(reverse("token_list"), {"name": "报表脚本", "days": "30"})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    token = ApiToken.objects.get(user=yanhu_officer)
    raw = response.context["new_token"]
    assert raw in response.content.decode()
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest() and token.name == "报表脚本"
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    entry = AuditEntry.objects.filter(action=AuditAction.TOKEN).latest("id")
    assert entry.actor_id == yanhu_officer.pk and entry.object_id == str(token.pk)
    # Shown once: the list afterwards names the prefix only.
    again = client.get(reverse("token_list")).content.decode()
    assert raw not in again and token.prefix in again
    assert _me(client, raw).json()["username"] == "yanhu"


def test_the_page_refuses_a_lifetime_out_of_range(client, yanhu_officer):
    client.force_login(yanhu_officer)
    response = client.post(reverse("token_list"), {"name": "x", "days": "9999"})
    assert response.status_code == 200 and response.context["new_token"] is None
    assert "days" in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_page_lists_only_ones_own_tokens(client, yanhu_officer, hejin_officer):
    mine, _ = create_token(yanhu_officer, name="我的令牌")
    theirs, _ = create_token(hejin_officer, name="别人的令牌")
    client.force_login(yanhu_officer)
    html = client.get(reverse("token_list")).content.decode()
    assert "我的令牌" in html and "别人的令牌" not in html and theirs.prefix not in html


def test_it_revokes_ones_own_token_on_the_page(client, yanhu_officer):
    token, raw = create_token(yanhu_officer)
    client.force_login(yanhu_officer)
    response = client.post(reverse("token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    entry = AuditEntry.objects.filter(action=AuditAction.TOKEN).latest("id")
    assert entry.actor_id == yanhu_officer.pk and "revoked_at" in entry.changes
    assert _me(client, raw).status_code == 401


def test_another_users_token_cannot_be_revoked(client, yanhu_officer, hejin_officer):
    token, raw = create_token(hejin_officer)
    client.force_login(yanhu_officer)
    assert client.post(reverse("token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert _me(client, raw).status_code == 200


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(reverse("token_list"))
    assert response.status_code == 302 and "login" in response.headers["Location"]


def test_revoking_twice_writes_once(yanhu_officer):
    token, _ = create_token(yanhu_officer)
    assert revoke_token(token) is True
    assert revoke_token(token) is False
    assert AuditEntry.objects.filter(action=AuditAction.TOKEN, object_id=str(token.pk)).count() == 2  # create + revoke
