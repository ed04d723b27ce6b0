"""Demo data of the core area: the city's org units and the demo accounts of the personas.

Org units: the city's 人才办 and 人才服务中心, city departments, and in every county (and zone)
of the city its 人才办, several departments and a few units, each with a contact person whose
mobile number lies in 170-0000-xxxx (a valid format, plainly not a real subscriber's).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from rencai.core.models import OrgUnit, Region, Role, User
from rencai.core.models.orgunits import OrgUnitKind
from rencai.core.models.regions import RegionLevel
from rencai.demo import DemoContext, register

DEMO_MOBILE_PREFIX = "1700000"
# Faker's zh_CN trade names make a few hundred distinct companies, so their number per county stops
# growing here (``--size`` goes up to a million, a number of talents; see rencai.talents.demo).
MAX_COMPANY_SCALE = 20

CITY_UNITS = [
    ("人才工作领导小组办公室", OrgUnitKind.TALENT_OFFICE),
    ("人才服务中心", OrgUnitKind.INSTITUTION),
    ("委组织部", OrgUnitKind.PARTY),
    ("人力资源和社会保障局", OrgUnitKind.GOVERNMENT),
    ("科学技术局", OrgUnitKind.GOVERNMENT),
    ("教育局", OrgUnitKind.GOVERNMENT),
    ("卫生健康委员会", OrgUnitKind.GOVERNMENT),
    ("工业和信息化局", OrgUnitKind.GOVERNMENT),
    ("农业农村局", OrgUnitKind.GOVERNMENT),
    ("文化和旅游局", OrgUnitKind.GOVERNMENT),
]
COUNTY_DEPARTMENTS = [
    ("委组织部", OrgUnitKind.PARTY),
    ("人力资源和社会保障局", OrgUnitKind.GOVERNMENT),
    ("科学技术局", OrgUnitKind.GOVERNMENT),
    ("教育局", OrgUnitKind.GOVERNMENT),
    ("卫生健康局", OrgUnitKind.GOVERNMENT),
    ("工业和信息化局", OrgUnitKind.GOVERNMENT),
    ("农业农村局", OrgUnitKind.GOVERNMENT),
    ("文化和旅游局", OrgUnitKind.GOVERNMENT),
]
COUNTY_INSTITUTIONS = ["人民医院", "中医医院", "第一中学", "职业中学", "农业技术推广中心", "融媒体中心"]

# The personas of the demo: username, name, role, the regions they cover (None: the whole city;
# the administrators cover none, they do not work on regional data).
PERSONAS = [
    ("demo_city_admin", "市管理员（演示）", "city_admin", None),
    ("demo_yanhu", "盐湖区专员（演示）", "county_officer", ["140802"]),
    ("demo_hejin", "河津市专员（演示）", "county_officer", ["140882"]),
    ("demo_leader", "领导（演示）", "leader", None),
    ("demo_security_admin", "安全管理员（演示）", "security_admin", []),
    ("demo_audit_admin", "审计管理员（演示）", "audit_admin", []),
]


def _mobile(context: DemoContext, used: set[str]) -> str:
    while True:
        number = f"{DEMO_MOBILE_PREFIX}{context.random.randint(0, 9999):04d}"
        if number not in used:
            used.add(number)
            return number


def _unit(context: DemoContext, region: Region, name: str, kind: str, used: set[str]) -> OrgUnit:
    return OrgUnit(
        region=region,
        name=name,
        kind=kind,
        contact_name=context.faker.name(),
        contact_mobile=_mobile(context, used),
        address=f"{region.full_name}{context.faker.street_name()}{context.random.randint(1, 300)}号",
    )


def _has_core_data() -> bool:
    return OrgUnit.objects.exists() or User.objects.filter(username__in=[p[0] for p in PERSONAS]).exists()


@register("core", order=10, has_data=_has_core_data)
def generate_core(context: DemoContext) -> None:
    city = Region.objects.get(code=settings.CITY_CODE)
    counties = list(
        Region.objects.filter(parent=city, level__in=[RegionLevel.COUNTY, RegionLevel.ZONE]).order_by("code")
    )
    used: set[str] = set()
    units = [_unit(context, city, f"{city.name}{name}", kind, used) for name, kind in CITY_UNITS]
    per_county = min(len(COUNTY_DEPARTMENTS), 2 + 2 * context.size)
    for county in counties:
        units.append(_unit(context, county, f"{county.name}人才办", OrgUnitKind.TALENT_OFFICE, used))
        is_zone = county.level == RegionLevel.ZONE
        if not is_zone:  # a zone's 管委会 has no bureaus of its own; it hosts enterprises
            for name, kind in context.random.sample(COUNTY_DEPARTMENTS, per_county):
                units.append(_unit(context, county, f"{county.name}{name}", kind, used))
            for name in context.random.sample(COUNTY_INSTITUTIONS, min(len(COUNTY_INSTITUTIONS), context.size)):
                units.append(_unit(context, county, f"{county.name}{name}", OrgUnitKind.INSTITUTION, used))
        companies: set[str] = set()
        while len(companies) < min(context.size, MAX_COMPANY_SCALE) * (3 if is_zone else 1):
            company = context.faker.company()
            if company not in companies:
                companies.add(company)
                units.append(_unit(context, county, f"{county.name}{company}", OrgUnitKind.ENTERPRISE, used))
    # One summary audit entry for the run (see rencai.demo) instead of one per row.
    OrgUnit.objects.bulk_create(units, batch_size=500)
    context.count("org_units", len(units))

    roles = {role.code: role for role in Role.objects.all()}
    for username, full_name, role_code, region_codes in PERSONAS:
        user = User(username=username, full_name=full_name, password=context.password_hash,
                    password_changed_at=timezone.now())
        user.save()
        user.roles.set([roles[role_code]])
        user.regions.set([city] if region_codes is None else Region.objects.filter(code__in=region_codes))
        context.accounts.append((username, f"{full_name} · {roles[role_code].name}"))
    context.count("users", len(PERSONAS))
