"""Information collection (信息采集): the public registration form (validation per field, consent,
rate limits, honeypot, CSRF, nothing revealed), the signed personal update link (expiry,
tampering, corrections), the review queue (scope per persona, accept, merge field by field with
optimistic locking, reject, handled once even by two reviewers at once), the QR code page, and
which pages anonymous visitors may reach."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import types

import pytest
from django.core import signing
from django.core.cache import cache
from django.db import OperationalError, connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver

from rencai.core import crypto
from rencai.core.models import AuditEntry
from rencai.core.models.audit import AuditAction
from rencai.liaison import intake
from rencai.liaison.models import IntakeSubmission
from rencai.liaison.models_intake import SubmissionKind, SubmissionStatus
from rencai.talents.choices import ConsentMethod, TalentSource
from rencai.talents.models import Talent
from rencai.talents.tests.helpers import id_number, item, make_talent, region

pytestmark = pytest.mark.django_db

NUMBER = id_number("19880612", male=True, seq=41)
MOBILE = "13812345678"
NOW = 3600.0 * 527_778  # a fixed clock at the start of an hour-long limit window


@pytest.fixture(autouse=True)
def _fresh_counts():
    # The rate limits live in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """The limiter's clock, fixed (so a test never straddles two windows) and movable."""
    state = types.SimpleNamespace(now=NOW)
    monkeypatch.setattr(intake, "_clock", lambda: state.now)
    return state


def registration(**changes) -> dict:
    """What a phone posts for a valid registration from 盐湖区, working in Beijing."""
    data = {
        "name": "王晓东", "gender": "", "id_card": NUMBER, "mobile": MOBILE, "email": "wxd@example.cn",
        "wechat": "wxd_1988", "native_place": region("140802").pk, "work_country": "中国",
        "work_province": region("110000").pk, "work_city": "", "work_unit": "清华大学",
        "category": item("talent_category_native", "04").pk, "position": "副院长", "title": "教授",
        "education": item("education", "10").pk, "degree": "", "school": "清华大学", "major": "材料科学",
        "research_fields": "新能源材料", "consent": "on", "website": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def submit(client, *, address="127.0.0.1", **changes):
    return client.post("/join/", registration(**changes), REMOTE_ADDR=address)


def pending(**lookup) -> IntakeSubmission:
    return IntakeSubmission.objects.get(status=SubmissionStatus.PENDING, **lookup)


def body(response) -> str:
    return response.content.decode()


# --- the public form ------------------------------------------------------------------------------------
def test_it_shows_the_form_to_anonymous_visitors_on_a_phone_without_a_session(client, refdata):
    response = client.get("/join/")
    page = body(response)
    assert response.status_code == 200
    assert 'name="viewport"' in page and 'content="noindex, nofollow"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    for heading in ("收集哪些信息", "为什么收集", "谁能看到", "保存多久", "您的权利"):
        assert heading in page
    assert "form-control-lg" in page and "运城市在外人才信息登记" in page
    # 籍贯: only the counties of the city.
    assert ">盐湖区<" in page and ">河津市<" in page and "东城区" not in page
    assert "sessionid" not in response.cookies
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_county_link_chooses_its_county_first(client, refdata):
    page = body(client.get("/join/", {"county": "140882"}))
    assert re.search(rf'<option value="{region("140882").pk}" selected>河津市</option>', page)


def test_it_files_a_registration_in_the_county_of_its_native_place_with_the_consent(client, refdata):
    response = submit(client)
    assert response.status_code == 302 and response["Location"] == "/join/thanks/"
    submission = pending()
    assert submission.kind == SubmissionKind.REGISTRATION and submission.region.code == "140802"
    assert submission.id_card == NUMBER and submission.mobile == MOBILE and submission.work_unit == "清华大学"
    assert submission.consent_at is not None and submission.consent_method == ConsentMethod.ONLINE
    assert "敏感个人信息" in submission.consent_scope and submission.consent_notice == intake.NOTICE_VERSION
    # Encrypted at rest, like the registry's, and found by the same keyed hash.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_card, mobile FROM liaison_intakesubmission WHERE id = %s", [submission.pk])
        stored_id, stored_mobile = cursor.fetchone()
    assert stored_id.startswith("v1:") and NUMBER not in stored_id and MOBILE not in stored_mobile
    assert submission.id_card_hash == Talent._meta.get_field("id_card").lookup_hash(NUMBER)
    # The audit log has the submission, masked.
    entry = AuditEntry.objects.get(action=AuditAction.CREATE, object_type="liaison.intakesubmission")
    assert NUMBER not in json.dumps(entry.changes, ensure_ascii=False) and entry.actor is None
    thanks = client.get("/join/thanks/")
    assert thanks.status_code == 200 and "提交成功" in body(thanks)


def test_the_answer_is_the_same_whether_the_person_is_registered_or_not(client, city_admin):
    make_talent(city_admin, name="王晓东", id_card=NUMBER, mobile=MOBILE)
    known = submit(client)
    unknown = submit(client, name="赵一鸣", id_card=id_number("19900101", seq=12), mobile="13900001111")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"]) == (302, "/join/thanks/")
    assert IntakeSubmission.objects.count() == 2


INVALID = [
    ("name", {"name": ""}, "这个字段是必填项"),
    ("id_card", {"id_card": ""}, "这个字段是必填项"),
    ("id_card", {"id_card": NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")}, "校验位不符"),
    ("id_card", {"id_card": "140802880612411"}, "15 位旧身份证号码"),
    ("id_card", {"id_card": "14080219880230411X"}, "不是有效日期"),
    ("mobile", {"mobile": "1381234"}, "手机号码应为 11 位数字"),
    ("email", {"email": "wxd@"}, "有效"),
    ("native_place", {"native_place": ""}, "这个字段是必填项"),
    ("native_place", {"native_place": "OTHER_COUNTY"}, "选择一个有效的选项"),
    ("gender", {"gender": "female"}, "与身份证号码不一致"),
    ("work_city", {"work_city": "TAIYUAN"}, "太原市不在北京市"),
    ("consent", {"consent": None}, "请阅读《个人信息处理告知》并勾选同意后再提交。"),
]


@pytest.mark.parametrize("field,changes,message", INVALID, ids=[f"{f}-{m[:8]}" for f, _c, m in INVALID])
def test_it_names_the_field_of_each_error_and_keeps_the_input(client, refdata, field, changes, message):
    lookups = {"OTHER_COUNTY": region("110101").pk, "TAIYUAN": region("140100").pk}
    changes = {name: lookups.get(value, value) for name, value in changes.items()}
    response = submit(client, **changes)
    page = body(response)
    assert response.status_code == 200
    errors = re.findall(rf'data-error-for="{field}">([^<]*)<', page)
    assert errors and message in errors[0], errors
    assert "需要修改" in page  # the list of errors at the top of the long form
    assert not IntakeSubmission.objects.exists()
    if field != "work_unit":
        assert 'value="清华大学"' in page  # nothing the person typed is lost


def test_a_work_city_brings_its_province(client, refdata):
    assert submit(client, work_province="", work_city=region("140100").pk).status_code == 302
    assert pending().work_province.code == "140000"


def test_the_honeypot_is_thanked_and_nothing_is_kept(client, refdata):
    response = submit(client, website="http://spam.example")
    assert response.status_code == 302 and response["Location"] == "/join/thanks/"
    assert not IntakeSubmission.objects.exists()
    assert 'class="rencai-hp" aria-hidden="true"' in body(client.get("/join/"))


def test_a_post_without_the_csrf_token_is_refused(refdata):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/join/", registration()).status_code == 403
    assert not IntakeSubmission.objects.exists()


# --- rate limits ------------------------------------------------------------------------------------------
def test_it_limits_submissions_per_address_and_allows_them_again_after_the_window(client, refdata, settings, clock):
    settings.INTAKE_LIMIT_PER_IP = 2
    settings.INTAKE_LIMIT_MINUTES = 60
    for seq in (11, 12):
        assert submit(client, id_card=id_number("19900101", seq=seq)).status_code == 302
    limited = submit(client, id_card=id_number("19900101", seq=13), name="刘洋")
    page = body(limited)
    assert limited.status_code == 429
    assert "提交次数过多，请 60 分钟后再试。" in page and 'value="刘洋"' in page
    assert IntakeSubmission.objects.count() == 2
    clock.now += 30 * 60
    assert "请 30 分钟后再试" in body(submit(client, id_card=id_number("19900101", seq=13)))
    # Another address is not held back meanwhile.
    assert submit(client, id_card=id_number("19900101", seq=14), address="10.0.0.9").status_code == 302
    clock.now = NOW + 3600
    assert submit(client, id_card=id_number("19900101", seq=13)).status_code == 302
    assert IntakeSubmission.objects.count() == 4


def test_it_limits_submissions_per_id_number_from_any_address(client, refdata, settings, clock):
    settings.INTAKE_LIMIT_PER_ID = 1
    assert submit(client, address="10.0.0.1").status_code == 302
    again = submit(client, address="10.0.0.2")
    assert again.status_code == 429 and "提交次数过多" in body(again)
    assert submit(client, id_card=id_number("19900101", seq=15), address="10.0.0.2").status_code == 302
    clock.now = NOW + 3600
    assert submit(client, address="10.0.0.3").status_code == 302
    digest = Talent._meta.get_field("id_card").lookup_hash(NUMBER)
    assert IntakeSubmission.objects.filter(id_card_hash=digest).count() == 2


def test_invalid_attempts_count_against_the_address_too(client, refdata, settings, clock):
    settings.INTAKE_LIMIT_PER_IP = 1
    assert submit(client, mobile="123").status_code == 200
    assert submit(client).status_code == 429


# --- the personal update link -----------------------------------------------------------------------------
@pytest.fixture
def talent(city_admin):
    return make_talent(city_admin, name="李明", id_card=id_number("19750203", seq=21), mobile="13700001234",
                       work_unit="北京理工大学", email="liming@example.cn", wechat="liming75")


def link_path(talent) -> str:
    url = intake.update_link(talent)
    assert url.startswith("/join/update/?t=")
    return url


def correction(talent, **changes) -> dict:
    data = {
        "name": talent.name, "gender": talent.gender, "mobile": "", "email": talent.email, "wechat": talent.wechat,
        "native_place": talent.native_place_id, "work_country": "中国", "work_province": "", "work_city": "",
        "work_unit": talent.work_unit, "category": "", "position": "", "title": "", "education": "", "degree": "",
        "school": "", "major": "", "research_fields": "", "consent": "on", "website": "",
        "t": intake.update_token(talent),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_link_shows_the_persons_own_details_masked_where_protected(client, talent):
    page = body(client.get(link_path(talent)))
    assert 'value="李明"' in page and 'value="北京理工大学"' in page and 'value="liming@example.cn"' in page
    assert "13700001234" not in page and 'placeholder="137****1234"' in page
    assert talent.id_card not in page and 'name="id_card"' not in page
    assert "个人信息处理告知" in page


def test_the_link_carries_no_id_only_an_encrypted_one(talent, settings):
    token = intake.update_token(talent)
    payload = json.loads(base64.urlsafe_b64decode(token.split(":")[0] + "=="))
    assert set(payload) == {"t"} and payload["t"].startswith("v1:") and crypto.decrypt(payload["t"]) == str(talent.pk)
    assert intake.update_token(talent) != token  # a fresh nonce each time
    assert intake.talent_for_token(token) == talent
    settings.PUBLIC_URL = "https://rencai.example.gov.cn"
    assert intake.update_link(talent).startswith("https://rencai.example.gov.cn/join/update/?t=")


def test_a_correction_waits_for_review_and_a_second_one_replaces_it(client, talent):
    response = client.post("/join/update/", correction(talent, work_unit="中国科学院物理研究所", mobile="13700009999"))
    assert response.status_code == 302 and response["Location"] == "/join/update/done/"
    submission = pending(kind=SubmissionKind.UPDATE)
    assert submission.talent == talent and submission.region_id == talent.region_id
    assert submission.work_unit == "中国科学院物理研究所" and submission.mobile == "13700009999"
    assert submission.base_version == talent.version and submission.consent_at is not None
    client.post("/join/update/", correction(talent, work_unit="中国科学院大学"))
    again = pending(kind=SubmissionKind.UPDATE)
    assert again.pk == submission.pk and again.work_unit == "中国科学院大学"
    assert again.mobile == "13700001234"  # left empty: the number stays as it is
    talent.refresh_from_db()
    assert talent.work_unit == "北京理工大学"  # nothing changes before review


def test_a_correction_is_validated_like_a_registration(client, talent):
    response = client.post("/join/update/", correction(talent, mobile="1370000", consent=None))
    page = body(response)
    assert response.status_code == 200
    assert re.search(r'data-error-for="mobile">[^<]*11 位', page) and 'data-error-for="consent"' in page
    assert not IntakeSubmission.objects.exists()


def _invalid(response) -> str:
    assert response.status_code == 404
    page = body(response)
    assert "链接无效或已过期" in page
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_an_expired_tampered_foreign_or_orphaned_link_reads_the_same(client, talent, settings, monkeypatch):
    settings.INTAKE_LINK_MAX_AGE_DAYS = 30
    real_time = signing.time.time
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: real_time() - 31 * 86400))
    expired = intake.update_token(talent)
    monkeypatch.undo()
    good = intake.update_token(talent)
    tampered = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    foreign = signing.dumps({"t": crypto.encrypt(str(talent.pk))}, salt="another.salt")
    plain = signing.dumps({"t": str(talent.pk)}, salt=intake.SALT)  # signed, but the id not encrypted
    orphan = make_talent(talent.created_by or talent.updated_by, name="赵六", id_card=id_number("19700101", seq=77))
    orphan_token = intake.update_token(orphan)
    Talent.objects.filter(pk=orphan.pk).delete()
    pages = {_invalid(client.get("/join/update/", {"t": token})) for token in (expired, tampered, foreign, plain,
                                                                                   orphan_token, "")}
    assert len(pages) == 1 and "李明" not in pages.pop()
    assert _invalid(client.post("/join/update/", correction(talent, t=expired)))
    assert not IntakeSubmission.objects.exists()
    assert client.get("/join/update/", {"t": good}).status_code == 200


def test_a_link_lives_as_long_as_the_setting_says(client, talent, settings, monkeypatch):
    real_time = signing.time.time
    monkeypatch.setattr(signing, "time", types.SimpleNamespace(time=lambda: real_time() - 10 * 86400))
    token = intake.update_token(talent)
    monkeypatch.undo()
    settings.INTAKE_LINK_MAX_AGE_DAYS = 11
    assert client.get("/join/update/", {"t": token}).status_code == 200
    settings.INTAKE_LINK_MAX_AGE_DAYS = 9
    assert client.get("/join/update/", {"t": token}).status_code == 404


# --- the review queue: scope ----------------------------------------------------------------------------
@pytest.fixture
def yanhu_registration(client, refdata):
    submit(client)
    return pending()


@pytest.fixture
def hejin_registration(client, refdata):
    submit(client, name="孙立", id_card=id_number("19800808", seq=52), mobile="13600001111",
           native_place=region("140882").pk, address="10.1.1.1")
    return pending(name="孙立")


def test_the_queue_answers_each_persona_within_its_scope(client, yanhu_registration, hejin_registration,
                                                         city_staff, yanhu_officer, hejin_officer, leader, system_admin):
    expected = {
        city_staff: {"王晓东", "孙立"}, yanhu_officer: {"王晓东"}, hejin_officer: {"孙立"}, leader: {"王晓东", "孙立"},
    }
    for user, names in expected.items():
        client.force_login(user)
        page = body(client.get("/liaison/review/"))
        assert {name for name in ("王晓东", "孙立") if f">{name}</a>" in page} == names, user
        assert f"共 {len(names)} 条" in page
        assert "138****5678" in page if "王晓东" in names else True
        assert MOBILE not in page
    client.force_login(hejin_officer)
    for url in (f"/liaison/review/{yanhu_registration.pk}/", f"/liaison/review/{yanhu_registration.pk}/changelog/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/liaison/review/{yanhu_registration.pk}/accept/").status_code == 404
    assert client.post(f"/liaison/review/{yanhu_registration.pk}/reject/", {"reason": "x"}).status_code == 404
    assert client.post(f"/liaison/review/{yanhu_registration.pk}/reveal/id_card/").status_code == 404
    client.force_login(leader)  # read-only: sees, cannot decide
    page = body(client.get(f"/liaison/review/{yanhu_registration.pk}/"))
    assert "王晓东" in page and 'data-testid="accept"' not in page and 'data-testid="reject"' not in page
    assert client.post(f"/liaison/review/{yanhu_registration.pk}/accept/").status_code == 404
    client.force_login(system_admin)
    assert client.get("/liaison/review/").status_code == 403
    assert client.get(f"/liaison/review/{yanhu_registration.pk}/").status_code == 404
    assert pending(pk=yanhu_registration.pk)


def test_the_queue_shows_pending_first_and_filters(client, yanhu_registration, city_staff):
    handled = IntakeSubmission.objects.create(kind=SubmissionKind.REGISTRATION, name="周七", region=region("140802"),
                                              status=SubmissionStatus.REJECTED, consent_at=yanhu_registration.consent_at)
    client.force_login(city_staff)
    page = body(client.get("/liaison/review/"))
    assert ">王晓东</a>" in page and ">周七</a>" not in page
    page = body(client.get("/liaison/review/", {"status": "all"}))
    assert ">王晓东</a>" in page and ">周七</a>" in page
    page = body(client.get("/liaison/review/", {"status": "rejected"}))
    assert ">王晓东</a>" not in page and f"/liaison/review/{handled.pk}/" in page


def test_the_queue_costs_the_same_queries_for_more_rows(client, refdata, city_staff):
    def queries_for(count):
        IntakeSubmission.objects.all().delete()
        for seq in range(count):
            intake.submit_registration(IntakeSubmission(
                name=f"测试{seq}", id_card=id_number("19900101", seq=10 + seq), mobile="13900000000",
                native_place=region("140802" if seq % 2 else "140882")))
        client.force_login(city_staff)
        client.get("/liaison/review/")  # warm: the session, the user's roles
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/liaison/review/").status_code == 200
        return len(captured)

    assert queries_for(2) == queries_for(8)


def test_anonymous_visitors_are_sent_to_sign_in_from_the_queue(client, yanhu_registration):
    for url in ("/liaison/review/", f"/liaison/review/{yanhu_registration.pk}/", "/liaison/review/share/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(f"/liaison/review/{yanhu_registration.pk}/accept/").status_code == 302
    assert pending(pk=yanhu_registration.pk)


def test_showing_a_submitted_number_in_full_is_audited(client, yanhu_registration, yanhu_officer):
    client.force_login(yanhu_officer)
    page = body(client.get(f"/liaison/review/{yanhu_registration.pk}/"))
    assert NUMBER not in page and f"{NUMBER[:6]}********{NUMBER[-4:]}" in page
    revealed = client.post(f"/liaison/review/{yanhu_registration.pk}/reveal/id_card/")
    assert NUMBER in body(revealed)
    assert AuditEntry.objects.filter(action=AuditAction.VIEW_PERSONAL, object_type="liaison.intakesubmission",
                                     object_id=str(yanhu_registration.pk), actor=yanhu_officer).exists()


# --- accept -----------------------------------------------------------------------------------------------
def test_accepting_makes_a_talent_with_the_source_and_the_consent(client, yanhu_registration, yanhu_officer):
    client.force_login(yanhu_officer)
    page = body(client.get(f"/liaison/review/{yanhu_registration.pk}/"))
    assert 'data-testid="no-matches"' in page and "审核通过，新建人才" in page
    response = client.post(f"/liaison/review/{yanhu_registration.pk}/accept/")
    talent = Talent.objects.get(name="王晓东")
    assert response.status_code == 302 and response["Location"] == f"/talents/{talent.pk}/"
    assert talent.region.code == "140802" and talent.kind == "native" and talent.native_place.code == "140802"
    assert talent.id_card == NUMBER and talent.mobile == MOBILE and talent.work_unit == "清华大学"
    assert talent.birth_date.isoformat() == "1988-06-12" and talent.gender == "male"
    assert talent.source == TalentSource.SELF_REGISTRATION and talent.source_ref == f"自主登记 #{yanhu_registration.pk}"
    assert talent.consent_method == ConsentMethod.ONLINE and talent.consent_scope == yanhu_registration.consent_scope
    assert talent.consent_date is not None and talent.created_by == yanhu_officer
    submission = IntakeSubmission.objects.get(pk=yanhu_registration.pk)
    assert submission.status == SubmissionStatus.ACCEPTED and submission.talent == talent
    assert submission.handled_by == yanhu_officer and submission.handled_at is not None
    # The submission no longer holds the person's values; the record does.
    assert submission.id_card == "" and submission.mobile == "" and submission.work_unit == "" and submission.name == "王晓东"
    assert submission.consent_at is not None
    entry = AuditEntry.objects.filter(object_type="liaison.intakesubmission", object_id=str(submission.pk),
                                      message__startswith="审核通过自主登记").get()
    assert entry.actor == yanhu_officer and entry.changes["status"] == ["pending", "accepted"]
    assert AuditEntry.objects.filter(action=AuditAction.CREATE, object_type="talents.talent", object_id=str(talent.pk)).exists()


def test_a_look_alike_is_proposed_and_accepting_after_it_confirms(client, yanhu_registration, yanhu_officer, city_admin):
    existing = make_talent(city_admin, name="王晓冬", birth_date=talent_birth(), mobile=MOBILE, work_unit="清华大学")
    client.force_login(yanhu_officer)
    page = body(client.get(f"/liaison/review/{yanhu_registration.pk}/"))
    assert f'data-candidate="{existing.pk}"' in page and "手机号码相同" in page and "不是以上人员，新建人才" in page
    refused = client.post(f"/liaison/review/{yanhu_registration.pk}/accept/", follow=True)
    assert "可能是同一人" in body(refused) and pending(pk=yanhu_registration.pk)
    client.post(f"/liaison/review/{yanhu_registration.pk}/accept/", {"confirm_duplicates": "1"})
    assert Talent.objects.filter(name="王晓东").exists()


def talent_birth():
    import datetime as dt

    return dt.date(1988, 6, 12)


def test_the_same_id_number_is_found_through_the_lookup_hash(client, yanhu_registration, yanhu_officer, city_admin):
    existing = make_talent(city_admin, name="王小东", id_card=NUMBER, work_unit="北京大学")
    client.force_login(yanhu_officer)
    page = body(client.get(f"/liaison/review/{yanhu_registration.pk}/"))
    assert f'data-candidate="{existing.pk}"' in page and "身份证号相同" in page
    refused = client.post(f"/liaison/review/{yanhu_registration.pk}/accept/", {"confirm_duplicates": "1"}, follow=True)
    assert "已有相同身份证号" in body(refused) and Talent.objects.filter(id_card_hash=existing.id_card_hash).count() == 1


def test_the_same_id_number_in_another_county_is_named_but_not_shown(client, yanhu_registration, yanhu_officer,
                                                                     city_admin):
    make_talent(city_admin, name="王东东", id_card=NUMBER, region_code="140882", native_place=region("140882"),
                work_unit="运城学院")
    client.force_login(yanhu_officer)
    page = body(client.get(f"/liaison/review/{yanhu_registration.pk}/"))
    assert 'data-testid="same-id-elsewhere"' in page
    assert "王东东" not in page and "运城学院" not in page and "河津" not in page


# --- merge ------------------------------------------------------------------------------------------------
@pytest.fixture
def existing(city_admin):
    return make_talent(city_admin, name="王晓东", birth_date=talent_birth(), gender="male", mobile="13800000001",
                       work_unit="北京大学", position="讲师", email="old@example.cn")


def merge_post(existing, version=None, **sides) -> dict:
    data = {"version": existing.version if version is None else version}
    data.update({f"field_{name}": side for name, side in sides.items()})
    return data


def test_merging_takes_the_values_the_reviewer_chose(client, yanhu_registration, yanhu_officer, existing):
    client.force_login(yanhu_officer)
    url = f"/liaison/review/{yanhu_registration.pk}/merge/{existing.pk}/"
    page = body(client.get(url))
    assert 'data-testid="comparison"' in page
    assert re.search(r'name="field_work_unit" value="submitted" checked', page)  # filled in differently: taken
    assert "138****0001" in page and "138****5678" in page and "13800000001" not in page
    response = client.post(url, merge_post(existing, work_unit="submitted", position="existing", mobile="submitted",
                                           id_card="submitted", email="existing"))
    assert response.status_code == 302 and response["Location"] == f"/talents/{existing.pk}/"
    talent = Talent.objects.get(pk=existing.pk)
    assert talent.work_unit == "清华大学" and talent.mobile == MOBILE and talent.id_card == NUMBER
    assert talent.position == "讲师" and talent.email == "old@example.cn"  # kept as the reviewer chose
    assert talent.version == existing.version + 1 and talent.consent_method == ConsentMethod.ONLINE
    assert Talent.objects.count() == 1
    submission = IntakeSubmission.objects.get(pk=yanhu_registration.pk)
    assert submission.status == SubmissionStatus.MERGED and submission.talent_id == existing.pk and submission.id_card == ""
    entry = AuditEntry.objects.get(object_type="liaison.intakesubmission", object_id=str(submission.pk),
                                   message__contains="并入人才")
    assert set(entry.changes["fields_taken"]) == {"work_unit", "mobile", "id_card"}
    change = AuditEntry.objects.filter(action=AuditAction.UPDATE, object_type="talents.talent",
                                       object_id=str(existing.pk)).latest("id")
    assert change.changes["work_unit"] == ["北京大学", "清华大学"] and MOBILE not in json.dumps(change.changes)


def test_a_merge_made_on_a_stale_copy_is_refused(client, yanhu_registration, yanhu_officer, city_admin, existing):
    seen = existing.version
    from rencai.talents import services

    existing.position = "教授"
    services.save_talent(existing, user=city_admin)  # someone edits the record meanwhile
    client.force_login(yanhu_officer)
    response = client.post(f"/liaison/review/{yanhu_registration.pk}/merge/{existing.pk}/",
                           merge_post(existing, version=seen, work_unit="submitted"))
    page = body(response)
    assert response.status_code == 409 and "已被他人修改" in page and "教授" in page
    assert Talent.objects.get(pk=existing.pk).work_unit == "北京大学"
    assert pending(pk=yanhu_registration.pk)
    assert f'name="version" value="{seen + 1}"' in page  # a deliberate second submit goes through
    client.post(f"/liaison/review/{yanhu_registration.pk}/merge/{existing.pk}/",
                merge_post(existing, version=seen + 1, work_unit="submitted"))
    assert Talent.objects.get(pk=existing.pk).work_unit == "清华大学"


def test_a_record_out_of_scope_cannot_be_merged_into(client, yanhu_registration, yanhu_officer, city_admin):
    other = make_talent(city_admin, name="王晓东", region_code="140882", native_place=region("140882"))
    client.force_login(yanhu_officer)
    url = f"/liaison/review/{yanhu_registration.pk}/merge/{other.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, merge_post(other, work_unit="submitted")).status_code == 404
    assert pending(pk=yanhu_registration.pk) and Talent.objects.get(pk=other.pk).work_unit == ""


def test_a_correction_is_reviewed_against_its_own_record(client, talent, yanhu_officer, city_admin):
    client.post("/join/update/", correction(talent, work_unit="中国科学院物理研究所", wechat="", position="研究员"))
    submission = pending(kind=SubmissionKind.UPDATE)
    client.force_login(yanhu_officer)
    page = body(client.get(f"/liaison/review/{submission.pk}/"))
    assert 'data-testid="correction"' in page
    assert re.search(r'name="field_work_unit" value="submitted" checked', page)
    assert re.search(r'name="field_wechat" value="existing" checked', page)  # emptied: kept unless chosen
    other = make_talent(city_admin, name="李明", id_card=id_number("19750203", seq=22))
    assert client.post(f"/liaison/review/{submission.pk}/merge/{other.pk}/",
                       merge_post(other, work_unit="submitted")).status_code == 403
    client.post(f"/liaison/review/{submission.pk}/merge/{talent.pk}/",
                merge_post(talent, work_unit="submitted", position="submitted", wechat="existing"))
    fresh = Talent.objects.get(pk=talent.pk)
    assert fresh.work_unit == "中国科学院物理研究所" and fresh.position == "研究员" and fresh.wechat == "liming75"
    assert fresh.mobile == "13700001234" and fresh.id_card == talent.id_card
    assert IntakeSubmission.objects.get(pk=submission.pk).status == SubmissionStatus.MERGED


# --- reject and handled once ---------------------------------------------------------------------------
def test_rejecting_needs_a_reason_and_erases_the_values(client, yanhu_registration, yanhu_officer):
    client.force_login(yanhu_officer)
    refused = client.post(f"/liaison/review/{yanhu_registration.pk}/reject/", {"reason": "  "}, follow=True)
    assert "请填写驳回理由" in body(refused) and pending(pk=yanhu_registration.pk)
    response = client.post(f"/liaison/review/{yanhu_registration.pk}/reject/", {"reason": "非本市籍贯"})
    assert response.status_code == 302 and response["Location"] == "/liaison/review/"
    submission = IntakeSubmission.objects.get(pk=yanhu_registration.pk)
    assert submission.status == SubmissionStatus.REJECTED and submission.reject_reason == "非本市籍贯"
    assert submission.id_card == "" and submission.mobile == "" and submission.email == "" and submission.native_place is None
    assert not Talent.objects.exists()
    entry = AuditEntry.objects.get(object_type="liaison.intakesubmission", object_id=str(submission.pk),
                                   message__startswith="驳回")
    assert entry.actor == yanhu_officer and "非本市籍贯" in entry.message
    page = body(client.get(f"/liaison/review/{submission.pk}/"))
    assert 'data-testid="outcome"' in page and "非本市籍贯" in page and 'data-testid="reject"' not in page


def test_the_second_reviewer_is_told_who_handled_it(client, yanhu_registration, yanhu_officer, city_staff):
    first, second = Client(), Client()
    first.force_login(yanhu_officer)
    second.force_login(city_staff)
    assert second.get(f"/liaison/review/{yanhu_registration.pk}/").status_code == 200  # both open the page
    first.post(f"/liaison/review/{yanhu_registration.pk}/accept/")
    for action, data in (("accept", {}), ("reject", {"reason": "重复"}),
                         (f"merge/{Talent.objects.get().pk}", {"version": 1, "field_work_unit": "submitted"})):
        response = second.post(f"/liaison/review/{yanhu_registration.pk}/{action}/", data, follow=True)
        assert "已由“盐湖区专员”于" in body(response) and "（已新建人才），不能重复处理" in body(response)
    assert Talent.objects.count() == 1
    assert IntakeSubmission.objects.get(pk=yanhu_registration.pk).handled_by == yanhu_officer


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_at_once_handle_it_once(refdata):
    from rencai.core.testing import make_user

    reviewers = [make_user(f"r{i}", roles=["county_officer"], regions=["140802"], full_name=f"审核员{i}") for i in (1, 2)]
    submission = IntakeSubmission(**{
        "name": "钱多多", "id_card": id_number("19920303", seq=61), "mobile": "13500001111",
        "native_place": region("140802"),
    })
    intake.submit_registration(submission)
    barrier = threading.Barrier(2)
    outcomes = []

    def review(user, decide):
        try:
            barrier.wait()
            for _attempt in range(400):
                try:
                    decide(user)
                    outcomes.append(("done", user.username))
                    return
                except intake.AlreadyHandled as exc:
                    outcomes.append(("late", str(exc.messages[0])))
                    return
                except OperationalError:
                    # The tests' in-memory SQLite (shared cache) answers "table is locked" where a
                    # file database waits out its busy timeout: wait here instead.
                    time.sleep(0.05)
        finally:
            connections.close_all()

    deciders = [
        lambda user: intake.accept_submission(IntakeSubmission.objects.get(pk=submission.pk), user=user),
        lambda user: intake.reject_submission(IntakeSubmission.objects.get(pk=submission.pk), user=user, reason="重复"),
    ]
    threads = [threading.Thread(target=review, args=(reviewers[i], deciders[i])) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(kind for kind, _detail in outcomes) == ["done", "late"]
    winner = next(name for kind, name in outcomes if kind == "done")
    late = next(detail for kind, detail in outcomes if kind == "late")
    handled = IntakeSubmission.objects.get(pk=submission.pk)
    assert handled.handled_by.username == winner and "不能重复处理" in late
    assert Talent.objects.filter(name="钱多多").count() == (1 if handled.status == SubmissionStatus.ACCEPTED else 0)


# --- the QR code -------------------------------------------------------------------------------------------
def test_the_qr_code_page_shows_and_downloads_the_link(client, yanhu_officer, city_staff, settings):
    settings.PUBLIC_URL = "https://rencai.example.gov.cn"
    client.force_login(yanhu_officer)
    page = body(client.get("/liaison/review/share/"))
    assert "https://rencai.example.gov.cn/join/?county=140802" in page and "<svg" in page
    png = client.get("/liaison/review/share/qr.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert "attachment" in png["Content-Disposition"]
    svg = client.get("/liaison/review/share/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    # A county officer's link is their own county's, whatever is asked for.
    assert "county=140802" in body(client.get("/liaison/review/share/", {"county": "140882"}))
    client.force_login(city_staff)
    page = body(client.get("/liaison/review/share/"))
    assert 'value="https://rencai.example.gov.cn/join/"' in page  # the city's: every county to choose from
    assert "county=140882" in body(client.get("/liaison/review/share/", {"county": "140882"}))


def test_the_qr_code_page_needs_the_queue_permission(client, system_admin):
    client.force_login(system_admin)
    assert client.get("/liaison/review/share/").status_code == 403
    assert client.get("/liaison/review/share/qr.png").status_code == 403


# --- who reaches what without signing in -------------------------------------------------------------------
PUBLIC = {"intake_register", "intake_thanks", "intake_update", "intake_update_done", "campaign_unsubscribe"}
SAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "x", "fmt": "svg"}


def _named_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _named_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _sample_url(route: str) -> str:
    url = re.sub(r"\(\?P<fmt>[^)]*\)", "svg", route)
    url = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: SAMPLES.get(m.group(2)) or SAMPLES.get(m.group(1) or "str"), url)
    return "/" + url.replace("^", "").replace("$", "").replace("\\", "")


def test_anonymous_visitors_reach_the_public_pages_and_nothing_else(client, refdata):
    marked = {entry.name for _route, entry in _named_patterns()
              if getattr(entry.callback, "login_required", True) is False}
    assert marked == PUBLIC
    reached = set()
    for route, entry in _named_patterns():
        if "(?P<" in route and "fmt" not in route:
            continue  # the API's own routes: token-authenticated, tested with the API
        response = client.get(_sample_url(route))
        if response.status_code == 200:
            reached.add(entry.name or route)
    # Besides the public pages (the update and unsubscribe pages want a valid link): the sign-in page, the favicon,
    # and the API's schema and its docs page. Everything else sends the visitor to sign in (or
    # answers 401, 404, 405).
    assert PUBLIC - {"intake_update", "campaign_unsubscribe"} <= reached
    assert reached - PUBLIC <= {"login", "favicon", "openapi-json", "openapi-view"}, reached - PUBLIC
    assert client.get("/liaison/review/share/qr.svg").status_code == 302


def test_a_signed_in_visitor_owing_a_security_step_still_reaches_the_public_form(client, yanhu_officer):
    yanhu_officer.must_change_password = True
    yanhu_officer.save(update_fields=["must_change_password"])
    client.force_login(yanhu_officer)
    assert client.get("/liaison/review/").status_code == 302
    assert client.get("/join/").status_code == 200


def test_an_idle_session_is_ended_but_the_public_form_still_answers(client, yanhu_officer, settings):
    from rencai.core.middleware import IdleTimeoutMiddleware

    client.force_login(yanhu_officer)
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] = 0
    session.save()
    response = client.get("/join/")
    assert response.status_code == 200 and "在外人才信息登记" in body(response)
    assert client.get("/liaison/review/").status_code == 302  # signed out
