"""Demo data of the registry (人才库): natives working elsewhere (在外人才) and local talent (本土人才).

How many: ``--size 1`` (the default) is a small city, 1,600 在外人才 and 600 本土人才; a size
below 1000 is a multiple of it (``--size 3``: 4,800 and 1,800); a size of 1000 or more is the
number of talents itself, split in the same proportion (``--size 1000000``: about 727,000 and
273,000). See ``talent_counts``.

What they look like (pools in ``demo_pools``): Chinese names drawn by surname frequency, about
half of them two characters long; valid ID numbers (GB 11643) whose address code is the 籍贯
county, whose birth date is the birth date and whose sequence code's parity is the gender; ages
25–70, most between 35 and 55; natives born in the city's counties and working mostly in 北京,
太原, 西安, 上海, 深圳 …; units, positions, titles, education and research fields that belong
together; tiers A–E rare at the top; the two seeded 库 by kind; mobiles in 170-1xxx-xxxx
(unique per person), not everyone with one; histories for a share of the people.

How fast: a million talents is the benchmark's size (``bench/talents_demo.py``, within 10
minutes), so nothing here calls Faker per row: names, units and fields come from pools built
once (Faker's zh_CN surname frequencies and company trade names among them); rows are written
in batches through the database driver's bulk path (``core.loading.BulkWriter``), with the tables' plain
indexes, and on PostgreSQL their foreign keys, built again once at the end (``core.loading.bulk_load``);
the search terms of each batch are written by ``talents.search.index_bulk``. Bulk writes send
no signals; the run is audited once, as a whole, by ``rencai.demo``.
The same seed gives the same people: every draw comes from the generator's own seeded
``random.Random``, and ages are counted at the fixed date ``AS_OF``, not today.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from itertools import accumulate

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from rencai.core.loading import BulkWriter, bulk_load, sqlite_cache
from rencai.core.models import DictionaryItem, Region, User
from rencai.core.models.regions import RegionLevel
from rencai.core.validators import id_check_char
from rencai.demo import DemoContext, register
from rencai.talents import demo_pools as pools
from rencai.talents import search
from rencai.talents.choices import CATEGORY_DICTIONARY, Gender, TalentKind, TalentSource, TalentStatus
from rencai.talents.models import Tag, Talent, TalentDatabase, TalentEducation, TalentSearchTerm, TalentWork

SMALL_CITY = {TalentKind.NATIVE: 1600, TalentKind.LOCAL: 600}
SIZE_IS_A_COUNT_FROM = 1000
BATCH_SIZE = 5000
REGISTRY_YEARS = 6  # the registry's entry dates (created_at) span this many years back from the run
AS_OF = dt.date(2026, 1, 1)  # ages and dates are counted from here, so a seed means the same data any day
MOBILE_BASE = 17010000000  # 170-1000-0000 … 171-0999-9999, away from core's 170-0000-xxxx
MOBILE_SPAN = 10**8
AREA_CODES = {"110000": "010", "310000": "021", "120000": "022", "500000": "023", "140100": "0351",
              "610100": "029", "420100": "027", "440300": "0755", "440100": "020", "330100": "0571",
              "410100": "0371", "320100": "025", "510100": "028", "140800": "0359"}
DEMO_LIAISONS = ("demo_yanhu", "demo_hejin")


def talent_counts(size: int) -> dict[str, int]:
    """How many talents of each kind ``rencai demo --size`` makes.

    Below ``SIZE_IS_A_COUNT_FROM`` the size multiplies the small city (1,600 在外, 600 本土);
    from there up it is the total number of talents, split in the same proportion, so that
    ``--size 1000000`` means a registry of a million people.
    """
    if size >= SIZE_IS_A_COUNT_FROM:
        native = round(size * SMALL_CITY[TalentKind.NATIVE] / sum(SMALL_CITY.values()))
        return {TalentKind.NATIVE: native, TalentKind.LOCAL: size - native}
    return {kind: n * size for kind, n in SMALL_CITY.items()}


class Weighted:
    """Draws items by weight with one ``random()`` and a bisection (faster than ``choices``)."""

    __slots__ = ("items", "cumulative", "total")

    def __init__(self, pairs):
        pairs = list(pairs)
        self.items = [item for item, _weight in pairs]
        self.cumulative = list(accumulate(weight for _item, weight in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng):
        return self.items[bisect_right(self.cumulative, rng.random() * self.total)]


def _has_talents() -> bool:
    return Talent.objects.exists()


@register("talents", order=20, has_data=_has_talents)
def generate_talents(context: DemoContext) -> None:
    factory = _TalentFactory(context)
    counts = talent_counts(context.size)
    plan = [TalentKind.NATIVE] * counts[TalentKind.NATIVE] + [TalentKind.LOCAL] * counts[TalentKind.LOCAL]
    context.random.shuffle(plan)  # kinds interleaved, as in a registry filled over the years
    totals = {"talents": 0, "talent_education": 0, "talent_work": 0}
    connection = connections[router.db_for_write(Talent)]
    tables = [Talent, TalentEducation, TalentWork, Talent.databases.through, Talent.tags.through, TalentSearchTerm]
    with sqlite_cache(connection), bulk_load(connection, tables):
        for start in range(0, len(plan), BATCH_SIZE):
            made = factory.batch(plan[start:start + BATCH_SIZE], start)
            for label, n in made.items():
                totals[label] += n
    for label, n in totals.items():
        context.count(label, n)


class _TalentFactory:
    """Everything a talent is drawn from, resolved to database ids once per run."""

    def __init__(self, context: DemoContext):
        self.rng = context.random
        self.city = Region.objects.select_related("parent").get(code=settings.CITY_CODE)
        self.city_short = _short(self.city.name)
        self._used_ids: set[int] = set()
        self._mobile_multiplier = self.rng.randrange(1, MOBILE_SPAN // 10) * 10 + self.rng.choice((1, 3, 7, 9))
        self._mobile_offset = self.rng.randrange(MOBILE_SPAN)
        self._load_places()
        self._load_dictionaries()
        self._load_names()
        self._load_work_data()
        now = timezone.now()
        # When each talent was entered (入库): its own generator, so the people stay the same
        # whatever is drawn here, counted back from the day of the run like the contact history.
        self.registered_rng = random.Random(f"{context.seed}-registered")
        self.registered_until = timezone.localtime(now)
        self._stamp = connections[router.db_for_write(Talent)].ops.adapt_datetimefield_value
        self.writers = {model: BulkWriter(model, now) for model in (
            TalentEducation, TalentWork, Talent.databases.through, Talent.tags.through)}
        self.writers[Talent] = BulkWriter(Talent, now, with_pk=True)

    # --- set-up -----------------------------------------------------------------------------------
    def _load_places(self) -> None:
        city = self.city
        children = list(Region.objects.filter(parent=city).order_by("code").values_list("id", "code", "name", "level"))
        counties = [c for c in children if c[3] == RegionLevel.COUNTY]
        zones = [c for c in children if c[3] == RegionLevel.ZONE]
        self.region_names = {c[0]: c[2] for c in children}
        self.counties = Weighted((c, pools.COUNTY_WEIGHTS.get(c[1], 30)) for c in counties)
        self.any_county = counties
        self.zones = zones
        province = city.parent
        province_prefix = f"/{province.code}/" if province else "/"
        national = list(
            Region.objects.filter(level=RegionLevel.COUNTY, is_standard=True, is_active=True)
            .exclude(parent=city).order_by("code").values_list("id", "code", "name", "path")
        )
        self.province_counties = [c for c in national if c[3].startswith(province_prefix)] or national
        self.national_counties = national
        self.province_id = province.pk if province else None
        # Where natives work: the pools' places that exist here, without the city itself.
        codes = [code for code, _w in pools.WORK_PLACES if code != city.code]
        places = {r.code: r for r in Region.objects.filter(code__in=codes)}
        entries = []
        for code, weight in pools.WORK_PLACES:
            region = places.get(code)
            if region is None:
                continue
            is_province = region.level == RegionLevel.PROVINCE
            entries.append(((code, region.parent_id if not is_province else region.pk,
                             None if is_province else region.pk, region.name, _short(region.name)), weight))
        self.work_places = Weighted(entries)
        self.abroad = Weighted(pools.ABROAD)

    def _load_dictionaries(self) -> None:
        rows = DictionaryItem.objects.filter(
            dictionary__code__in=["ethnicity", "political_status", "education", "degree", "title_level", "discipline",
                                  "talent_tier", *CATEGORY_DICTIONARY.values()]
        ).values_list("dictionary__code", "code", "id")
        items: dict[str, dict[str, int]] = {}
        for dictionary, code, pk in rows:
            items.setdefault(dictionary, {})[code] = pk
        self.items = items

        def weighted(dictionary: str, pairs) -> Weighted:
            present = [(code, w) for code, w in pairs if code in items.get(dictionary, {})]
            return Weighted(present or [(None, 1)])

        self.ethnicity = weighted("ethnicity", pools.ETHNICITIES)
        self.political_default = weighted("political_status", pools.POLITICAL_DEFAULT)
        self.political_party = weighted("political_status", pools.POLITICAL_PARTY)
        self.groups = {
            TalentKind.NATIVE: Weighted(pools.NATIVE_CATEGORIES),
            TalentKind.LOCAL: Weighted(pools.LOCAL_SYSTEMS),
        }
        self.abroad_categories = {
            country: Weighted((c, w) for c, w in pools.ABROAD_CATEGORIES if c in units)
            for country, units in pools.ABROAD_UNITS.items()
        }
        self.careers = {}
        self.juniors = {}
        for kind, table in ((TalentKind.NATIVE, pools.NATIVE_CAREERS), (TalentKind.LOCAL, pools.LOCAL_CAREERS)):
            for group, careers in table.items():
                self.careers[kind, group] = Weighted((c, c.weight) for c in careers)
                self.juniors[kind, group] = [c for c in careers if c.min_age <= 25] or careers[-1:]
        self.education = {}
        for kind, table in ((TalentKind.NATIVE, pools.NATIVE_EDUCATION), (TalentKind.LOCAL, pools.LOCAL_EDUCATION)):
            for group, mix in table.items():
                self.education[kind, group] = Weighted(mix)
        self.domains = {}
        for kind, table in ((TalentKind.NATIVE, pools.NATIVE_DOMAINS), (TalentKind.LOCAL, pools.LOCAL_DOMAINS)):
            for group, mix in table.items():
                self.domains[kind, group] = Weighted((pools.DOMAINS[name], w) for name, w in mix)
        self.schools = {
            "10": Weighted(pools.SCHOOLS_DOCTORAL), "10m": Weighted(pools.SCHOOLS_MASTER),
            "20": Weighted(pools.SCHOOLS_BACHELOR), "30": Weighted(pools.SCHOOLS_COLLEGE),
            "40": Weighted(pools.SCHOOLS_SECONDARY), "60": Weighted([("{county}第一中学", 1)]),
        }

    def _load_names(self) -> None:
        from faker.providers.person.zh_CN import Provider as PersonProvider
        from pypinyin import Style, lazy_pinyin

        self.surnames = Weighted(PersonProvider.last_names.items())
        self.given = {
            Gender.MALE: (pools.MALE_SINGLE, pools.MALE_FIRST, pools.MALE_SECOND),
            Gender.FEMALE: (pools.FEMALE_SINGLE, pools.FEMALE_FIRST, pools.FEMALE_SECOND),
        }
        chars = set("".join(PersonProvider.last_names))
        for singles, firsts, seconds in self.given.values():
            chars.update(singles, firsts, seconds)
        self.pinyin = {c: lazy_pinyin(c, style=Style.NORMAL)[0] for c in sorted(chars)}
        self.email_domains = Weighted(pools.EMAIL_DOMAINS)

    def _load_work_data(self) -> None:
        from faker.providers.company.zh_CN import Provider as CompanyProvider

        # Trade names only: Faker's list also has place names, kinds of business and 公司 in it.
        self.firms = list(dict.fromkeys(
            p for p in CompanyProvider.company_prefixes
            if 2 <= len(p) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in p)
            and not any(word in p for word in _NOT_TRADE_NAMES)
        ))
        self.databases = dict(TalentDatabase.objects.filter(code__in=["native_excellent", "local_excellent"])
                              .values_list("kind", "id"))
        existing = dict(Tag.objects.filter(name__in=pools.TAGS).values_list("name", "id"))
        missing = [Tag(name=name) for name in pools.TAGS if name not in existing]
        if missing:
            Tag.objects.bulk_create(missing)
            existing = dict(Tag.objects.filter(name__in=pools.TAGS).values_list("name", "id"))
        self.tags = existing
        users = dict(User.objects.filter(username__in=DEMO_LIAISONS).values_list("username", "id"))
        self.liaisons: dict[int, int] = {}
        for username in DEMO_LIAISONS:
            user_id = users.get(username)
            if user_id is None:
                continue
            region_ids = User.objects.get(pk=user_id).regions.values_list("id", flat=True)
            for region_id in region_ids:
                self.liaisons.setdefault(region_id, user_id)
        self.statuses = Weighted(pools.STATUS_ACTIVE)
        self.consent_methods = Weighted(pools.CONSENT_METHODS)
        self.sources = Weighted(pools.SOURCES)

    # --- one batch -------------------------------------------------------------------------------
    def batch(self, kinds: list[str], start: int) -> dict[str, int]:
        """Make and write ``len(kinds)`` talents with their links and histories, then index them."""
        made = [self.talent(kind, start + offset) for offset, kind in enumerate(kinds)]
        writers = self.writers
        ids = writers[Talent].reserve_ids(len(made))
        rows = []
        databases, tags, education, work = [], [], [], []
        for pk, (values, (database_ids, tag_ids, education_rows, work_rows)) in zip(ids, made, strict=True):
            values["id"] = pk
            rows.append(writers[Talent].row(values))
            databases += [{"talent_id": pk, "talentdatabase_id": d} for d in database_ids]
            tags += [{"talent_id": pk, "tag_id": t} for t in tag_ids]
            for row in education_rows:
                row["talent_id"] = pk
                education.append(writers[TalentEducation].row(row))
            for row in work_rows:
                row["talent_id"] = pk
                work.append(writers[TalentWork].row(row))
        writers[Talent].write(rows)
        writers[Talent.databases.through].write([writers[Talent.databases.through].row(r) for r in databases])
        writers[Talent.tags.through].write([writers[Talent.tags.through].row(r) for r in tags])
        writers[TalentEducation].write(education)
        writers[TalentWork].write(work)
        # The search index reads what it needs from the talents themselves (and their tags from
        # the database), so it gets model instances with the plain, unencrypted values.
        search.index_bulk([Talent(*row) for row in rows], replace=False)
        return {"talents": len(rows), "talent_education": len(education), "talent_work": len(work)}

    # --- one talent ------------------------------------------------------------------------------
    def talent(self, kind: str, index: int) -> tuple[dict, tuple]:
        """The field values of one talent (by attname) and what hangs off it: 库, tags, histories."""
        rng = self.rng
        native = kind == TalentKind.NATIVE
        work_country, work_province_id, work_city_id, place_code = "中国", None, None, None
        if native and rng.random() < pools.ABROAD_SHARE:
            work_country = self.abroad(rng)
            group = self.abroad_categories[work_country](rng)
        else:
            group = self.groups[kind](rng)
        male_share = _MALE_SHARE.get((kind, group), 0.66)
        gender = Gender.MALE if rng.random() < male_share else Gender.FEMALE
        if kind == TalentKind.LOCAL and group == "03":  # young entrepreneurs
            age = 25 + 25 * rng.betavariate(2.0, 2.4)
        else:
            age = 25 + 45 * rng.betavariate(2.2, 2.4)
        birth = dt.date.fromordinal(AS_OF.toordinal() - int(age * 365.2425) - 1)
        age_years = int(age)

        # Where they come from, who manages them, where they work.
        if native:
            origin = self.counties(rng)
            region = origin if rng.random() < 0.95 else rng.choice(self.any_county)
            region_id, origin_id, origin_code = region[0], origin[0], origin[1]
            if work_country == "中国":
                place_code, work_province_id, work_city_id, place_name, place_short = self.work_places(rng)
            else:
                place_name = place_short = work_country
        else:
            if self.zones and rng.random() < 0.05:
                region_id = rng.choice(self.zones)[0]
                home = self.counties(rng)
            else:
                home = self.counties(rng)
                region_id = home[0]
            roll = rng.random()
            if roll < 0.70:
                origin = home
            elif roll < 0.82:
                origin = rng.choice(self.any_county)
            elif roll < 0.94:
                origin = rng.choice(self.province_counties)
            else:
                origin = rng.choice(self.national_counties)
            origin_id, origin_code = origin[0], origin[1]
            work_province_id, work_city_id = self.province_id, self.city.pk
            place_code, place_name, place_short = self.city.code, self.city.name, self.city_short
        county_name = self.region_names[region_id]
        # Schooling happened at home: the 籍贯 county when it is one of the city's, else the managing one.
        home_name = origin[2] if origin[0] in self.region_names else county_name

        id_card = self.id_number(origin_code, birth, gender) if rng.random() < 0.97 else ""
        surname = self.surnames(rng)
        singles, firsts, seconds = self.given[gender]
        if rng.random() < 0.5:
            given = rng.choice(singles)
        else:
            given = rng.choice(firsts) + rng.choice(seconds)
        name = surname + given

        # Career.
        unit, unit_type = self.unit(kind, group, place_code, place_name, place_short, county_name, work_country)
        career = self.careers[kind, group](rng)
        for _ in range(3):
            if career.min_age <= age_years:
                break
            career = self.careers[kind, group](rng)
        else:
            if career.min_age > age_years:
                career = rng.choice(self.juniors[kind, group])
        education_code, degree_code = self.education[kind, group](rng)
        if degree_code == "2" and age_years < 29:
            degree_code = "3"
        domain = self.domains[kind, group](rng)
        school = self.school(education_code, degree_code, domain, home_name)
        major = rng.choice(domain.majors) if education_code in ("10", "20", "30") else ""
        fields = rng.sample(domain.fields, min(len(domain.fields), 1 + int(rng.random() * 2.6)))
        skills = "、".join(rng.sample(domain.skills, 1 + (rng.random() < 0.3))) if rng.random() < 0.55 else ""

        tier_code, tier_basis = self.tier(career, degree_code, age_years, unit_type)
        honours = self.honours(tier_code)

        # Work data.
        status = self.status(age_years)
        consent_date, consent_scope, consent_method = None, "", ""
        if rng.random() < pools.CONSENT_SHARE:
            consent_date = dt.date.fromordinal(AS_OF.toordinal() - rng.randrange(30, 2500))
            consent_scope, consent_method = pools.CONSENT_SCOPE, self.consent_methods(rng)
        source = self.sources(rng)
        source_ref = ""
        if source == TalentSource.IMPORT:
            template = rng.choice(pools.IMPORT_BATCHES)
            source_ref = template.format(year=rng.randrange(2019, 2026), county=county_name)[:64]
        liaison_id = self.liaisons.get(region_id) if rng.random() < 0.8 else None

        mobile = ""
        if rng.random() < 0.92:
            mobile = str(MOBILE_BASE + (index * self._mobile_multiplier + self._mobile_offset) % MOBILE_SPAN)
        other_phones = ""
        area = AREA_CODES.get(place_code or "")
        if area and rng.random() < 0.12:
            other_phones = f"{area}-{rng.randrange(2000000, 8999999)}"
        spelled = self.pinyin.get(surname[0], "") + "".join(self.pinyin.get(c, "") for c in given)
        email = f"{spelled}{rng.randrange(1, 999)}@{self.email_domains(rng)}" if rng.random() < 0.4 else ""
        wechat = f"{spelled}{rng.randrange(10, 9999)}" if rng.random() < 0.3 else ""
        notes = rng.choice(pools.NOTES) if rng.random() < 0.05 else ""

        items = self.items
        values = dict(
            name=name, gender=gender, ethnicity_id=items["ethnicity"].get(self.ethnicity(rng)), birth_date=birth,
            id_card=id_card, mobile=mobile, other_phones=other_phones, email=email, wechat=wechat,
            political_status_id=items["political_status"].get(
                (self.political_party if (native and group in ("01", "02")) else self.political_default)(rng)),
            native_place_id=origin_id, work_country=work_country, work_province_id=work_province_id,
            work_city_id=work_city_id, kind=kind, category_id=items[CATEGORY_DICTIONARY[kind]].get(group),
            tier_id=items["talent_tier"].get(tier_code) if tier_code else None, tier_basis=tier_basis,
            work_unit=unit, unit_type=unit_type, position=career.position, admin_rank=career.admin_rank,
            title=career.title, title_level_id=items["title_level"].get(career.title_level) if career.title_level else None,
            education_id=items["education"].get(education_code),
            degree_id=items["degree"].get(degree_code) if degree_code else None,
            school=school, major=major, discipline_id=items["discipline"].get(domain.discipline),
            research_fields="；".join(fields), skills=skills, honours=honours,
            liaison_officer_id=liaison_id, status=status, consent_date=consent_date, consent_scope=consent_scope,
            consent_method=consent_method, source=source, source_ref=source_ref, notes=notes, region_id=region_id,
            created_at=self.registered(),
        )
        database_ids = []
        database = self.databases.get(kind)
        if database and (tier_code or rng.random() < (0.55 if native else 0.45)):
            database_ids.append(database)
        tag_ids = [self.tags[t] for t in self.tag_names(native, group, gender, age_years, degree_code, career,
                                                        tier_code, work_country) if t in self.tags]
        education_rows = self.education_history(birth, education_code, degree_code, school, major, home_name) \
            if rng.random() < 0.35 else []
        work_rows = self.work_history(kind, group, birth, education_code, unit, career.position, place_code,
                                      place_name, place_short, county_name, work_country) \
            if rng.random() < 0.25 else []
        return values, (database_ids, tag_ids, education_rows, work_rows)

    def registered(self):
        """When the talent was entered: over the last ``REGISTRY_YEARS`` years, more of them in
        recent years, as a registry grows once an office keeps it."""
        rng = self.registered_rng
        days_ago = int(REGISTRY_YEARS * 365.2425 * (1 - rng.random() ** 0.7))
        moment = self.registered_until - dt.timedelta(days=days_ago, seconds=rng.randrange(8 * 3600))
        stamp = min(moment, self.registered_until)
        return self._stamp(stamp)

    def id_number(self, county_code: str, birth: dt.date, gender: str) -> str:
        """A valid, unused 18-digit number: address code, birth date, sequence (parity = gender), check."""
        rng = self.rng
        parity = 1 if gender == Gender.MALE else 0
        stem = f"{county_code[:6]}{birth:%Y%m%d}"
        for _ in range(50):
            first17 = f"{stem}{rng.randrange(100):02d}{2 * rng.randrange(5) + parity}"
            key = int(first17)
            if key not in self._used_ids:
                self._used_ids.add(key)
                return first17 + id_check_char(first17)
        raise RuntimeError(f"no free sequence code left for {stem}")  # 500 codes per county and day

    def unit(self, kind, group, place_code, place_name, place_short, county_name, work_country) -> tuple[str, str]:
        rng = self.rng
        if kind == TalentKind.NATIVE:
            if work_country != "中国":
                return rng.choice(pools.ABROAD_UNITS[work_country][group]), pools.NATIVE_UNIT_TYPE[group]
            named = pools.NATIVE_UNITS.get(group, {}).get(place_code)
            if named and rng.random() >= pools.TEMPLATE_SHARE[group]:
                entry = rng.choice(named)
            else:
                entry = rng.choice(pools.NATIVE_UNIT_TEMPLATES[group])
            default_type = pools.NATIVE_UNIT_TYPE[group]
        else:
            named = pools.CITY_UNITS.get(self.city.code, {}).get(group)
            if named and rng.random() < pools.CITY_UNIT_SHARE:
                entry = rng.choice(named)
            else:
                entry = rng.choice(pools.LOCAL_UNIT_TEMPLATES[group])
            default_type = "other"
        name, unit_type = entry if isinstance(entry, tuple) else (entry, default_type)
        if "{" in name:
            name = name.format(city=place_name, short=place_short, county=county_name, firm=rng.choice(self.firms))
        return name[:128], unit_type

    def school(self, education_code, degree_code, domain, county_name) -> str:
        rng = self.rng
        if education_code == "10":
            if domain.schools and rng.random() < 0.5:
                return rng.choice(domain.schools)
            pool = self.schools["10" if degree_code == "2" else "10m"]
        else:
            pool = self.schools.get(education_code)
            if pool is None:
                return ""
        return pool(rng).format(county=county_name, short=self.city_short)

    def tier(self, career, degree_code, age, unit_type) -> tuple[str | None, str]:
        rng = self.rng
        roll = rng.random()
        for code, chance in pools.TIER_CHANCE[career.title_level if career.title_level in ("1", "2") else None]:
            if roll < chance:
                if age < pools.TIER_MIN_AGE.get(code, 0):
                    return None, ""
                basis = self.tier_basis(code, career, degree_code, unit_type)
                return (code, basis) if basis else (None, "")
            roll -= chance
        return None, ""

    def tier_basis(self, code, career, degree_code, unit_type) -> str:
        """Why the person holds the tier; for E one of the criteria of the tier's definition, or
        nothing (no tier) when none of them applies."""
        if code in pools.TIER_BASIS:
            return self.rng.choice(pools.TIER_BASIS[code]).format(short=self.city_short)
        if degree_code == "2":
            return "具有博士学位"
        if career.title_level == "1":
            return "具有正高级专业技术职称"
        if degree_code == "3" and career.title_level == "2":
            return "具有硕士学位并有副高级职称"
        if career.position == "高级技师" or "首席技师" in career.position:
            return "取得高级技师职业资格"
        if unit_type in (S, P, F) and career.title_level in ("1", "2") or career.position in _ENTERPRISE_HEADS:
            return "规模以上企业核心技术和经营管理人才"
        return ""

    def honours(self, tier_code) -> str:
        rng = self.rng
        if tier_code in ("A", "B", "C"):
            n = 1 + int(rng.random() * 2.5)
        elif tier_code in ("D", "E"):
            n = 1 if rng.random() < 0.5 else 0
        else:
            n = 1 if rng.random() < 0.03 else 0
        if not n:
            return ""
        pool = pools.HONOURS[tier_code or "E"]
        chosen = rng.sample(pool, min(n, len(pool)))
        return "；".join(f"{h.format(short=self.city_short)}（{rng.randrange(2005, 2026)}年）" for h in chosen)

    def status(self, age) -> str:
        rng = self.rng
        if age >= 65 and rng.random() < 0.01:
            return TalentStatus.DECEASED
        if age >= 60 and rng.random() < min(0.9, (age - 58) / 12):
            return TalentStatus.RETIRED
        return self.statuses(rng)

    def tag_names(self, native, group, gender, age, degree_code, career, tier_code, work_country) -> list[str]:
        rng = self.rng
        names = []
        if degree_code == "2" and rng.random() < 0.6:
            names.append("博士")
        if "博士生导师" in career.position:
            names.append("博士生导师")
        if native and age >= 55 and rng.random() < 0.12:
            names.append("乡贤")
        if native and rng.random() < 0.05:
            names.append("返乡意向")
        if work_country != "中国" or rng.random() < (0.15 if degree_code == "2" else 0.03):
            names.append("海外经历")
        if tier_code in ("A", "B", "C", "D") and rng.random() < 0.3:
            names.append("专家顾问")
        if age < 35 and rng.random() < 0.4:
            names.append("青年人才")
        if gender == Gender.FEMALE and (native and group in ("04", "05") or not native and group == "01") \
                and rng.random() < 0.3:
            names.append("女性科技人才")
        if native and group == "03":
            if rng.random() < 0.06:
                names.append("招商引资联络人")
            if rng.random() < 0.05:
                names.append("在外商会")
        if native and rng.random() < 0.03:
            names.append("校友会")
        if not native and group == "08" and ("首席" in career.position or "大师" in career.position) and rng.random() < 0.6:
            names.append("技能大师")
        return names

    def education_history(self, birth, education_code, degree_code, school, major, county_name) -> list:
        """The stages that lead to the highest education: 本科, then 硕士, then 博士."""
        rng = self.rng
        items = self.items
        year = birth.year + 18
        stages = []
        if education_code == "10":
            stages.append(("20", "4", 4))
            stages.append(("10", "3", 3))
            if degree_code == "2":
                stages.append(("10", "2", 3 + (rng.random() < 0.4)))
        elif education_code in ("20", "30"):
            stages.append((education_code, degree_code, 4 if education_code == "20" else 3))
        else:
            return []
        rows = []
        for i, (edu, degree, years) in enumerate(stages):
            last = i == len(stages) - 1
            stage_school = school if last else self.school(edu, degree, _NO_DOMAIN, county_name)
            rows.append({
                "start": f"{year}-09", "end": f"{year + years}-07", "school": stage_school or "—", "major": major,
                "education_id": items["education"].get(edu), "degree_id": items["degree"].get(degree) if degree else None,
            })
            year += years
        return rows

    def work_history(self, kind, group, birth, education_code, unit, position, place_code, place_name,
                     place_short, county_name, work_country) -> list:
        """One or two earlier posts, then the present one (no end: 至今)."""
        rng = self.rng
        # The first post began after graduation (and before AS_OF); the earlier ones ended in
        # distinct later years, so every post starts the year the one before it ended.
        start = min(birth.year + _GRADUATION_AGE.get(education_code, 20), AS_OF.year - 1)
        changes = range(start + 1, AS_OF.year)
        earlier = min(1 + (rng.random() < 0.4), len(changes))
        years = sorted(rng.sample(changes, earlier))
        rows = []
        begin = f"{start}-{rng.randrange(7, 10):02d}"
        previous = unit
        for year in years:
            for _ in range(3):  # a move is to another unit
                earlier_unit, _type = self.unit(kind, group, place_code, place_name, place_short, county_name,
                                                work_country)
                if earlier_unit not in (unit, previous):
                    break
            previous = earlier_unit
            end = f"{year}-{rng.randrange(1, 13):02d}"
            rows.append({"start": begin, "end": end, "unit": earlier_unit})
            begin = end
        rows.append({"start": begin, "unit": unit, "position": position})
        return rows


_MALE_SHARE = {
    (TalentKind.NATIVE, "02"): 0.9, (TalentKind.NATIVE, "06"): 0.5, (TalentKind.NATIVE, "04"): 0.62,
    (TalentKind.LOCAL, "04"): 0.35, (TalentKind.LOCAL, "05"): 0.45, (TalentKind.LOCAL, "09"): 0.35,
    (TalentKind.LOCAL, "08"): 0.88, (TalentKind.LOCAL, "03"): 0.78,
}
_NOT_TRADE_NAMES = ("公司", "电子", "计算机", "软件", "信息", "科技", "电脑", "数字", "开发区", "济南", "黄石", "襄樊",
                    "浙大", "方正")
_ENTERPRISE_HEADS = {"董事长", "总经理", "董事长兼总经理", "总工程师", "技术总监", "首席科学家"}
S, P, F = pools.S, pools.P, pools.F
_GRADUATION_AGE = {"10": 26, "20": 22, "30": 21, "40": 19, "60": 18}
_NO_DOMAIN = pools.Domain("", (), (), ())


def _short(name: str) -> str:
    """运城市 → 运城, 北京市 → 北京 (a county or 自治州 keeps its name)."""
    return name[:-1] if len(name) > 2 and name.endswith("市") else name

