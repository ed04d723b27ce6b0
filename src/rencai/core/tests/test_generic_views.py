"""The generic machinery: keyset pages, column choice, tabs, masking guard, the shell and error pages."""

from __future__ import annotations

import re

import django_tables2 as tables
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from rencai.core.models import OrgUnit, Region
from rencai.core.models.orgunits import OrgUnitKind
from rencai.core.pagination import KeysetPaginator, decode_cursor, encode_cursor, sort_keys
from rencai.core.tables import BaseTable, OrgUnitTable
from rencai.core.views import errors
from rencai.core.views.generic import ObjectTab, _tabs, register_tab

pytestmark = pytest.mark.django_db

KINDS = [OrgUnitKind.PARTY, OrgUnitKind.GOVERNMENT, OrgUnitKind.INSTITUTION]


@pytest.fixture
def many_units(refdata):
    """57 units: three kinds (many ties), a third with no parent (NULLs in a sort key)."""
    yanhu = Region.objects.get(code="140802")
    hejin = Region.objects.get(code="140882")
    parents = [OrgUnit.objects.create(name=f"P{i}", region=yanhu, kind=OrgUnitKind.TALENT_OFFICE) for i in range(3)]
    units = []
    for i in range(54):
        units.append(OrgUnit(
            name=f"U{i:03d}", region=yanhu if i % 2 else hejin, kind=KINDS[i % 3],
            parent=None if i % 3 == 0 else parents[i % 2],
        ))
    OrgUnit.objects.bulk_create(units)
    return OrgUnit.objects.all()


def _walk_forward(queryset, ordering, per_page):
    paginator = KeysetPaginator(queryset, ordering, per_page=per_page)
    pages = [paginator.page()]
    while pages[-1].has_next:
        pages.append(paginator.page(after=pages[-1].next_cursor))
    return paginator, pages


def _sort_value(unit, spec):
    name = spec.lstrip("-")
    if name == "parent__name":
        return unit.parent.name if unit.parent else None
    return getattr(unit, name)


# --- keyset pagination ---------------------------------------------------------------------------------
@pytest.mark.parametrize("ordering", [["kind"], ["-kind"], ["parent__name"], ["-parent__name"], ["kind", "-name"]])
def test_it_pages_without_skipping_or_repeating_a_row(many_units, ordering):
    queryset = OrgUnit.objects.select_related("parent")
    paginator, pages = _walk_forward(queryset, ordering, per_page=10)
    seen = [unit.pk for page in pages for unit in page]
    assert len(seen) == len(set(seen)) == queryset.count() == 57
    assert [len(p) for p in pages] == [10, 10, 10, 10, 10, 7]
    assert not pages[0].has_previous and not pages[-1].has_next

    # The first key is in order across page boundaries (NULL counting as the greatest value).
    spec = ordering[0]
    values = [_sort_value(u, spec) for page in pages for u in page]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=spec.startswith("-"))
    nulls = [i for i, v in enumerate(values) if v is None]
    if nulls:
        expected_block = range(len(values) - len(nulls), len(values)) if not spec.startswith("-") else range(len(nulls))
        assert nulls == list(expected_block)

    # Walking back from the last page gives the same pages in reverse.
    back = [pages[-1]]
    while back[-1].has_previous:
        back.append(paginator.page(before=back[-1].previous_cursor))
    assert [[u.pk for u in p] for p in reversed(back)] == [[u.pk for u in p] for p in pages]


def test_it_reads_a_deep_page_without_offset(many_units):
    paginator, pages = _walk_forward(OrgUnit.objects.all(), ["kind"], per_page=10)
    with CaptureQueriesContext(connection) as queries:
        paginator.page(after=pages[3].next_cursor)
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    assert "OFFSET" not in sql and "LIMIT 11" in sql
    # One row-value comparison, which the databases answer with an index range, not an OR.
    assert re.search(r'\("CORE_ORGUNIT"\."KIND", "CORE_ORGUNIT"\."ID"\) > \(', sql)


def test_it_needs_no_tie_breaker_when_the_sort_keys_are_unique():
    assert [k.lookup for k in sort_keys(OrgUnit, ["region", "name"])] == ["region_id", "name"]
    assert [k.lookup for k in sort_keys(OrgUnit, ["-name"])] == ["name", "id"]
    assert [k.lookup for k in sort_keys(OrgUnit, ["region__path", "name"])] == ["region__path", "name", "id"]


def test_it_keeps_microseconds_in_a_datetime_cursor(many_units):
    keys = sort_keys(OrgUnit, ["-updated_at"])
    unit = OrgUnit.objects.first()
    values = [unit.updated_at.replace(microsecond=123456), unit.pk]
    assert decode_cursor(encode_cursor(values), keys) == values


def test_it_counts_up_to_a_limit(many_units):
    paginator = KeysetPaginator(OrgUnit.objects.all(), ["name"], per_page=10)
    assert paginator.count(limit=100) == (57, False)
    assert paginator.count(limit=20) == (20, True)


def test_it_pages_the_list_through_its_next_links(client, city_admin, many_units):
    """Through the real page: sorted by a column full of ties, every unit shows exactly once."""
    client.force_login(city_admin)
    url = "/orgunits/?sort=-kind"
    seen = []
    while url:
        page = client.get(url).content.decode()
        seen += re.findall(r'name="pk" value="(\d+)"', page)
        found = re.search(r'rel="next" href="([^"]+)"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert len(seen) == len(set(seen)) == 57


def test_it_falls_back_to_the_first_page_for_a_bad_cursor(client, city_admin, many_units):
    client.force_login(city_admin)
    response = client.get("/orgunits/?after=not-a-cursor")
    assert response.status_code == 200
    assert len(re.findall(r'name="pk" value="\d+"', response.content.decode())) == 25
    assert client.get("/orgunits/?sort=nonsense").status_code == 200
    assert client.get("/orgunits/?sort=contact_mobile").status_code == 200  # not sortable: ignored


# --- column chooser and page size -----------------------------------------------------------------------
def test_it_saves_the_chosen_columns_and_page_size_per_user(client, city_admin, city_staff, many_units):
    client.force_login(city_admin)
    response = client.post("/orgunits/", {"columns": ["address", "name"], "per_page": "50", "return_url": "/orgunits/"})
    assert response.status_code == 302
    city_admin.refresh_from_db()
    assert city_admin.preferences["tables"]["core.orgunit"] == {"columns": ["address", "name"], "per_page": 50}
    page = client.get("/orgunits/").content.decode()
    headers = re.findall(r"<th(?:\s[^>]*)?>(?:<a[^>]*>)?([^<]*)", page)
    assert [h.strip() for h in headers if h.strip()] == ["地址", "名称"]
    assert len(re.findall(r'name="pk" value="\d+"', page)) == 50

    # Another user still sees the defaults.
    client.force_login(city_staff)
    page = client.get("/orgunits/").content.decode()
    assert "联系人手机" in page and len(re.findall(r'name="pk" value="\d+"', page)) == 25

    client.force_login(city_admin)
    client.post("/orgunits/", {"_reset": "1"})
    city_admin.refresh_from_db()
    assert "core.orgunit" not in city_admin.preferences["tables"]


def test_it_ignores_unknown_columns_and_page_sizes(client, city_admin, many_units):
    client.force_login(city_admin)
    client.post("/orgunits/", {"columns": ["name", "password"], "per_page": "100000"})
    city_admin.refresh_from_db()
    assert "core.orgunit" not in city_admin.preferences.get("tables", {})


def test_it_refuses_a_table_that_would_show_a_protected_field_in_full():
    class LeakyTable(BaseTable):
        contact_mobile = tables.Column()

        class Meta(BaseTable.Meta):
            model = OrgUnit
            fields = ("name", "contact_mobile")

    with pytest.raises(ImproperlyConfigured):
        LeakyTable([])


def test_it_masks_protected_columns_unless_an_audited_export_reveals_them(leader, city_staff, refdata):
    unit = OrgUnit(name="x", region=Region.objects.get(code="140802"), contact_mobile="13912345678")

    def cell(user, reveal=False):
        table = OrgUnitTable([unit], user=user)
        table.reveal_personal = reveal
        return str(next(iter(table.rows)).get_cell("contact_mobile"))

    assert cell(leader) == "139****5678"
    assert cell(city_staff) == "139****5678"
    assert cell(city_staff, reveal=True) == "13912345678"


# --- tabs: the extension point ---------------------------------------------------------------------------
@pytest.fixture
def contacts_tab():
    register_tab(OrgUnit, ObjectTab(
        "contacts", "联系人", "core/_revealed.html",
        get_context=lambda request, obj: {"value": f"{obj.name}的联系人"},
        permission="core.change_orgunit", badge=lambda obj, user: 3,
    ))
    yield
    _tabs["core.orgunit"].pop("contacts")


def test_it_shows_a_registered_tab_to_users_with_its_permission(client, yanhu_officer, leader, many_units, contacts_tab):
    unit = OrgUnit.objects.filter(region__code="140802").first()
    client.force_login(yanhu_officer)
    detail = client.get(f"/orgunits/{unit.pk}/").content.decode()
    assert f'href="/orgunits/{unit.pk}/tab/contacts/"' in detail and ">3</span>" in detail
    page = client.get(f"/orgunits/{unit.pk}/tab/contacts/").content.decode()
    assert f"{unit.name}的联系人" in page
    client.force_login(leader)
    assert "tab/contacts/" not in client.get(f"/orgunits/{unit.pk}/").content.decode()
    assert client.get(f"/orgunits/{unit.pk}/tab/contacts/").status_code == 404


# --- the shell ---------------------------------------------------------------------------------------
def test_it_shows_the_sidebar_areas_and_home_cards_the_user_may_open(client, leader, audit_admin):
    client.force_login(leader)
    page = client.get("/").content.decode()
    assert "基础数据" in page and 'href="/orgunits/"' in page and 'href="/reference/regions/"' in page
    assert 'href="/accounts/password/"' in page and 'action="/accounts/logout/"' in page
    client.force_login(audit_admin)
    page = client.get("/").content.decode()
    assert 'href="/orgunits/"' not in page


def test_it_marks_the_current_page_in_the_sidebar_and_breadcrumbs(client, city_admin):
    client.force_login(city_admin)
    page = client.get("/reference/regions/").content.decode()
    assert re.search(r'class="dropdown-item active" href="/reference/regions/"', page)
    assert re.search(r'<li class="breadcrumb-item"><a href="/">首页</a></li>', page)


def test_it_styles_the_404_page_without_a_trace(client, yanhu_officer):
    client.force_login(yanhu_officer)
    response = client.get("/no/such/page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in page and "tabler.min.css" in page
    assert "Traceback" not in page and "/no/such/page/" not in page


def test_it_renders_the_500_page_with_the_database_down(monkeypatch):
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware

    request = RequestFactory().get("/orgunits/", HTTP_COOKIE="sessionid=" + "a" * 32)
    SessionMiddleware(lambda r: None).process_request(request)
    AuthenticationMiddleware(lambda r: None).process_request(request)

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", refuse)
    with pytest.raises(OperationalError):
        request.user.is_authenticated  # noqa: B018  (proves the database is really unreachable)
    response = errors.server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert "系统错误" in page and "tabler.min.css" in page and "Traceback" not in page


def test_it_answers_api_errors_as_json(client):
    response = errors.page_not_found(RequestFactory().get("/api/v1/nothing"))
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
