"""The cooperation demo data: the real universities with the city's reported volumes, stage
histories that are valid paths, reports, rectifications and agreement terms as the services
read them, the 四库 filled, and the same data for the same seed.

The demo is loaded once for the module (a run takes seconds) inside a transaction rolled back at
its end; each test runs in a savepoint of it.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from faker import Faker

from rencai.cooperation import demo as cooperation_demo
from rencai.cooperation import services
from rencai.cooperation.choices import (
    STAGE_DATE_FIELDS,
    TRANSITIONS,
    AgreementStatus,
    FollowUpStatus,
    InstitutionKind,
    Stage,
    VisitKind,
)
from rencai.cooperation.models import (
    Achievement,
    Agreement,
    AgreementDocument,
    Base,
    CooperationDatabase,
    Expert,
    FollowUp,
    Milestone,
    Problem,
    Project,
    Report,
    StageChange,
    Supervision,
    University,
    UniversityContact,
    Visit,
)
from rencai.core.models import Region
from rencai.core.refdata import load_reference_data
from rencai.core.testing import PASSWORD
from rencai.core.validators import validate_mobile
from rencai.demo import DemoContext, run_demo
from rencai.liaison import demo as liaison_demo
from rencai.liaison.choices import LeadStatus

NAMED = {  # name: (province, city, tags)
    "武汉大学": ("湖北省", "武汉市", {"双一流", "985", "211"}),
    "江西理工大学": ("江西省", "赣州市", {"行业特色"}),
    "山西大学": ("山西省", "太原市", {"双一流"}),
    "太原理工大学": ("山西省", "太原市", {"双一流", "211"}),
    "中北大学": ("山西省", "太原市", set()),
}


@pytest.fixture(scope="module")
def demo_day():
    return timezone.localdate()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, demo_day):
    """One demo run for the module, counted from ``demo_day``, rolled back at its end."""
    with pytest.MonkeyPatch.context() as patch, django_db_blocker.unblock(), transaction.atomic():
        patch.setattr(cooperation_demo, "run_day", lambda: demo_day)
        patch.setattr(liaison_demo, "run_day", lambda: demo_day)
        if not Region.objects.filter(code="140802").exists():
            load_reference_data()
        yield run_demo(password=PASSWORD)
        transaction.set_rollback(True)


def test_size_scales_cooperation_gently():
    assert cooperation_demo.scale_for(1) == 1.0
    assert 1.0 < cooperation_demo.scale_for(3) < 3
    assert cooperation_demo.scale_for(1_000_000) == cooperation_demo.MAX_SCALE


@pytest.mark.django_db
def test_it_counts_what_it_made(demo):
    counts = demo.counts
    for label, model in [("cooperation_universities", University), ("cooperation_agreements", Agreement),
                         ("cooperation_projects", Project), ("cooperation_stage_changes", StageChange),
                         ("cooperation_reports", Report), ("cooperation_problems", Problem),
                         ("cooperation_supervisions", Supervision), ("cooperation_milestones", Milestone),
                         ("cooperation_bases", Base), ("cooperation_experts", Expert),
                         ("cooperation_achievements", Achievement), ("cooperation_visits", Visit),
                         ("cooperation_follow_ups", FollowUp), ("cooperation_contacts", UniversityContact)]:
        assert model.objects.count() == counts[label] > 0, label
    # Modest volumes: hundreds at the default size, whatever the registry holds.
    assert 100 < counts["cooperation_agreements"] < 400 and 100 < counts["cooperation_projects"] < 400
    assert cooperation_demo._has_cooperation()  # ``rencai demo --if-empty`` then loads nothing


@pytest.mark.django_db
def test_the_named_universities_are_there_with_their_facts(demo):
    for name, (province, city, tags) in NAMED.items():
        university = University.objects.get(name=name)
        assert (university.province, university.city, university.kind) == (province, city, InstitutionKind.UNIVERSITY)
        assert {t.label for t in university.tags.all()} == tags
        assert {t.dictionary.code for t in university.tags.all()} <= {"university_tag"}
    institute = University.objects.get(name="中国科学院山西煤炭化学研究所")
    assert institute.kind == InstitutionKind.INSTITUTE
    assert University.objects.filter(name__in=["西安交通大学", "清华大学", "中国农业大学", "山西农业大学", "运城学院"]).count() == 5
    for contact in UniversityContact.objects.all():
        assert validate_mobile(contact.mobile) == contact.mobile and contact.mobile.startswith("1700001")


@pytest.mark.django_db
def test_the_volumes_follow_what_the_city_reported(demo):
    whu = University.objects.get(name="武汉大学")
    assert 30 <= Agreement.objects.filter(university=whu).count() <= 40
    landed = Project.objects.filter(university=whu, landed_on__isnull=False)
    assert 15 <= landed.count() <= 25
    assert 55_000 <= sum(p.amount for p in landed) <= 65_000  # 万元: about 6亿元
    # 江西理工大学: many items, in every one of the five classes.
    jxust = University.objects.get(name="江西理工大学")
    classes = set(Agreement.classes.through.objects.filter(agreement__university=jxust)
                  .values_list("dictionaryitem__code", flat=True))
    assert len(classes) == 5
    assert set(Project.objects.filter(university=jxust).values_list("line__code", flat=True)) == classes
    assert Agreement.objects.filter(university=jxust).count() + Project.objects.filter(university=jxust).count() >= 30
    # The most agreements and landed projects are 武汉大学's.
    by_university = Counter(Agreement.objects.values_list("university__name", flat=True))
    assert by_university.most_common(1)[0][0] == "武汉大学"


@pytest.mark.django_db
def test_every_stage_history_is_a_valid_path_to_the_current_stage(demo, demo_day):
    chains = defaultdict(list)
    for change in StageChange.objects.order_by("project", "on", "id"):
        chains[change.project_id].append(change)
    projects = list(Project.objects.select_related("agreement"))
    assert {p.stage for p in projects} == set(Stage.values)
    for project in projects:
        chain = chains[project.pk]
        assert chain, project
        assert chain[0].from_stage == "" and chain[0].to_stage in services.START_STAGES
        for before, after in zip(chain, chain[1:], strict=False):
            assert after.from_stage == before.to_stage
            assert after.to_stage in TRANSITIONS[before.to_stage]
            assert before.on <= after.on
        assert chain[-1].to_stage == project.stage and chain[-1].on == project.stage_on <= demo_day
        reached = {}
        for change in chain:
            reached.setdefault(change.to_stage, change.on)
        for stage, field in STAGE_DATE_FIELDS.items():
            assert getattr(project, field) == reached.get(stage), (project, field)
        if project.stage == Stage.TERMINATED:
            assert project.termination_reason and project.termination_reason == chain[-1].note
        else:
            assert not project.termination_reason
        if project.agreement_id:
            assert project.university_id == project.agreement.university_id
            assert project.stage_on >= project.agreement.signed_on
    # Some stopped after they had landed (and still count as landed).
    assert Project.objects.filter(stage=Stage.TERMINATED, landed_on__isnull=False).exists()
    assert Project.objects.filter(stage=Stage.TERMINATED, signed_on__isnull=True).exists()


@pytest.mark.django_db
def test_reports_are_one_per_due_period_with_progress_that_never_goes_back(demo, demo_day):
    reports = list(Report.objects.select_related("project").order_by("project", "period"))
    assert len({(r.project_id, r.period) for r in reports}) == len(reports)
    due = {}
    previous = {}
    for report in reports:
        services.check_report(report, demo_day)  # a period's first day, from the signing period on
        project = report.project
        if project.pk not in due:
            due[project.pk] = set(services.due_periods(project, demo_day))
        assert report.period in due[project.pk]
        assert report.percent_done >= previous.get(project.pk, 0)
        previous[project.pk] = report.percent_done
    assert not Report.objects.filter(project__signed_on__isnull=True).exists()
    missing = services.missing_reports(Project.objects.all(), demo_day)
    owed = sum(len(services.due_periods(p, demo_day)) for p in Project.objects.all())
    assert missing and len(missing) + len(reports) == owed
    assert len(missing) < 0.25 * owed
    latest = services.missing_reports(Project.objects.all(), demo_day, latest_only=True)
    assert 0 < len(latest) < len(due)


@pytest.mark.django_db
def test_supervision_finds_problems_some_closed_some_overdue(demo, demo_day):
    problems = Problem.objects.all()
    overdue = services.overdue_problems(problems, demo_day)
    assert overdue.exists() and problems.filter(closed_on__isnull=False).exists()
    for problem in problems.select_related("supervision__project"):
        supervision = problem.supervision
        assert supervision.project.signed_on <= supervision.on <= demo_day
        assert problem.deadline > supervision.on
        if problem.closed_on:
            assert supervision.on <= problem.closed_on <= demo_day and problem.closure
        else:
            assert not problem.closure


@pytest.mark.django_db
def test_agreements_and_their_terms(demo, demo_day):
    agreements = list(Agreement.objects.select_related("region"))
    city = Region.objects.get(code="140800")
    for agreement in agreements:
        assert agreement.region == city or agreement.region.parent_id == city.pk
        assert agreement.signed_on <= demo_day
        if agreement.status != AgreementStatus.TERMINATED and agreement.expires_on:
            expected = AgreementStatus.EXPIRED if agreement.expires_on < demo_day else AgreementStatus.ACTIVE
            assert agreement.status == expected
        if agreement.visit_id:
            assert agreement.signed_on >= agreement.visit.on and agreement.region_id == agreement.visit.region_id
    statuses = Counter(a.status for a in agreements)
    assert statuses[AgreementStatus.EXPIRED] and statuses[AgreementStatus.ACTIVE]
    assert services.expiring_agreements(Agreement.objects.all(), demo_day, days=60).exists()
    assert len({a.partner_kind for a in agreements}) == 4
    assert any(a.region == city for a in agreements)
    codes = set(Agreement.classes.through.objects.values_list("dictionaryitem__dictionary__code", flat=True))
    assert codes == {"cooperation_class"}
    assert not AgreementDocument.objects.exists()


@pytest.mark.django_db
def test_visits_turn_into_agreements_and_projects(demo):
    assert set(Visit.objects.values_list("kind", flat=True)) == set(VisitKind.values)
    statuses = Counter(FollowUp.objects.values_list("status", flat=True))
    assert statuses[FollowUpStatus.AGREEMENT] and statuses[FollowUpStatus.PROJECT] and statuses[FollowUpStatus.OPEN]
    for follow_up in FollowUp.objects.select_related("visit", "agreement", "project"):
        if follow_up.status == FollowUpStatus.AGREEMENT:
            assert follow_up.agreement.visit_id == follow_up.visit_id
        elif follow_up.status == FollowUpStatus.PROJECT:
            project = follow_up.project
            assert (project.visit_id, project.university_id, project.region_id) == (
                follow_up.visit_id, follow_up.visit.university_id, follow_up.visit.region_id)
            assert StageChange.objects.filter(project=project).earliest("on").on >= follow_up.visit.on
        else:
            assert follow_up.agreement_id is None and follow_up.project_id is None
    # Converted liaison leads became projects of their county.
    from_leads = Project.objects.filter(lead__isnull=False).select_related("lead")
    assert from_leads.exists()
    assert all(p.lead.status == LeadStatus.CONVERTED and p.region_id == p.lead.region_id for p in from_leads)


@pytest.mark.django_db
def test_bases_experts_and_achievements(demo):
    kinds = set(Base.objects.values_list("kind__dictionary__code", "kind__code"))
    assert {d for d, _c in kinds} == {"cooperation_base"} and len(kinds) >= 10
    for base in Base.objects.select_related("agreement"):
        if base.agreement:
            assert base.agreement.university_id == base.university_id and base.agreement.region_id == base.region_id
    experts = list(Expert.objects.select_related("talent", "university"))
    assert len({e.university_id for e in experts}) >= 5
    for expert in experts:
        assert expert.talent.work_unit.startswith(expert.university.name)
        assert expert.expertise
    assert any("；" in e.expertise for e in experts)
    for achievement in Achievement.objects.all():
        if achievement.price_low is not None and achievement.price_high is not None:
            assert achievement.price_low <= achievement.price_high
    assert Achievement.objects.filter(price_low__isnull=False, price_high__isnull=False).exists()
    # Each in its kind's default 库.
    for model, code in [(Project, "projects"), (Expert, "experts"), (Achievement, "achievements")]:
        database = CooperationDatabase.objects.get(code=code)
        assert model.databases.through.objects.filter(cooperationdatabase=database).count() == model.objects.count()


# --- the same seed, the same cooperation -------------------------------------------------------------
WRITTEN = [FollowUp, Base, Expert.databases.through, Expert, Achievement.databases.through, Achievement, Report,
           Problem, Supervision, Milestone, StageChange, Project.databases.through, Project,
           Agreement.classes.through, Agreement, Visit, UniversityContact, University.tags.through, University]


def _clear() -> None:
    """Remove the generator's rows (children first) without the change log a delete would write."""
    with connection.cursor() as cursor:
        for model in WRITTEN:
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608


def _projects() -> list[tuple]:
    """What identifies the generated projects, their agreements and what hangs off them (ids left out)."""
    return sorted(
        (p.name, p.university.name if p.university else "", p.region.code, p.stage, p.signed_on, p.landed_on,
         p.completed_on, p.terminated_on, p.amount, p.leader, p.enterprise,
         p.agreement.title if p.agreement else "", p.agreement.signed_on if p.agreement else None,
         p.n_reports, p.n_changes)
        for p in Project.objects.select_related("university", "region", "agreement").annotate(
            n_reports=Count("reports", distinct=True), n_changes=Count("stage_changes", distinct=True))
    )


def _generated(seed: int) -> list[tuple]:
    """What the generator alone makes with ``seed`` on the module's registry, in place of the module's."""
    _clear()
    context = DemoContext(seed, 1, PASSWORD, Faker("zh_CN"), random.Random(seed))
    context.faker.seed_instance(seed)
    cooperation_demo.generate_cooperation(context)
    return _projects()


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_cooperation(demo):
    loaded = _projects()  # from the run's own seed
    with transaction.atomic():
        first, second = _generated(7), _generated(7)
        transaction.set_rollback(True)
    assert first == second
    assert len(first) == len(loaded)  # as many, whatever the seed
    assert [p[:4] for p in first] != [p[:4] for p in loaded]  # the comparison above can fail
