"""The rules of cooperation work against a real database: the stage flow (every valid and invalid
step), the scheduling periods and the reports they owe, overdue rectifications, expiring
agreements, the landing rate and amounts against direct counts, scope, and turning a lead or a
visit's follow-up into a project."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import override_settings

from rencai.cooperation import figures, services
from rencai.cooperation.choices import TRANSITIONS, AgreementStatus, FollowUpStatus, Stage
from rencai.cooperation.models import (
    CooperationDatabase,
    FollowUp,
    Problem,
    Project,
    Report,
    StageChange,
    Supervision,
    Visit,
)
from rencai.cooperation.tests.helpers import make_agreement, make_project, make_university
from rencai.core.models import AuditEntry
from rencai.liaison.choices import LeadKind, LeadStatus
from rencai.liaison.models import Lead
from rencai.talents.tests.helpers import region

pytestmark = pytest.mark.django_db
DAY = dt.date(2024, 1, 10)
# A path through every stage to each end, one day apart.
FULL_PATH = [Stage.SIGNED, Stage.LANDED, Stage.BUILDING, Stage.COMPLETED]


def _at(project: Project, stage: str, user) -> Project:
    """``project`` walked from 洽谈 to ``stage`` along the main line (or stopped there)."""
    day = project.stage_on
    if stage == Stage.TERMINATED:
        return services.move(project, stage, user=user, on=day, note="企业资金链断裂")
    for step in FULL_PATH[:FULL_PATH.index(stage) + 1] if stage != Stage.NEGOTIATING else []:
        day += dt.timedelta(days=1)
        project = services.move(project, step, user=user, on=day)
    return project


def test_every_step_is_allowed_exactly_when_the_flow_says(city_staff):
    """All 36 pairs of stages: the step is taken, dated and kept, or refused naming ``to_stage``
    with the project left as it was."""
    for start in Stage.values:
        for target in Stage.values:
            project = _at(make_project(city_staff, name=f"{start}→{target}"), start, city_staff)
            assert project.stage == start
            steps = StageChange.objects.filter(project=project).count()
            on = project.stage_on + dt.timedelta(days=1)
            if target in TRANSITIONS[start]:
                moved = services.move(project, target, user=city_staff, on=on, note="原因说明")
                assert moved.stage == target and moved.stage_on == on
                assert StageChange.objects.filter(project=project).count() == steps + 1
                last = StageChange.objects.filter(project=project).last()
                assert (last.from_stage, last.to_stage, last.on, last.by) == (start, target, on, city_staff)
            else:
                with pytest.raises(ValidationError) as refused:
                    services.move(project, target, user=city_staff, on=on, note="原因说明")
                assert "to_stage" in refused.value.message_dict, (start, target)
                project.refresh_from_db()
                assert project.stage == start
                assert StageChange.objects.filter(project=project).count() == steps
    allowed = sum(len(steps) for steps in TRANSITIONS.values())
    assert allowed == 9 and Project.objects.count() == 36


def test_a_step_is_dated_audited_and_keeps_the_dates_it_reached(city_staff):
    project = make_project(city_staff, stage=Stage.SIGNED, on=DAY, path=[
        (Stage.LANDED, DAY + dt.timedelta(days=30)), (Stage.BUILDING, DAY + dt.timedelta(days=40)),
        (Stage.TERMINATED, DAY + dt.timedelta(days=90), "政策调整，项目停建")])
    assert (project.signed_on, project.landed_on, project.completed_on, project.terminated_on) == (
        DAY, DAY + dt.timedelta(days=30), None, DAY + dt.timedelta(days=90))
    assert project.termination_reason == "政策调整，项目停建"
    history = list(project.stage_changes.values_list("from_stage", "to_stage"))
    assert history == [("", Stage.SIGNED), (Stage.SIGNED, Stage.LANDED), (Stage.LANDED, Stage.BUILDING),
                       (Stage.BUILDING, Stage.TERMINATED)]
    logged = AuditEntry.objects.filter(object_type="cooperation.project", object_id=str(project.pk), action="update")
    assert any(entry.changes.get("stage") for entry in logged)


def test_a_step_cannot_be_dated_before_the_current_stage_or_in_the_future(city_staff):
    project = make_project(city_staff, on=DAY)
    with pytest.raises(ValidationError) as early:
        services.move(project, Stage.SIGNED, user=city_staff, on=DAY - dt.timedelta(days=1))
    assert "on" in early.value.message_dict
    with pytest.raises(ValidationError) as future:
        services.move(project, Stage.SIGNED, user=city_staff, on=dt.date.today() + dt.timedelta(days=2))
    assert "on" in future.value.message_dict
    with pytest.raises(ValidationError) as reasonless:
        services.move(project, Stage.TERMINATED, user=city_staff, on=DAY, note="  ")
    assert "note" in reasonless.value.message_dict
    assert services.move(project, Stage.SIGNED, user=city_staff, on=DAY).stage == Stage.SIGNED


def test_a_new_project_starts_talking_or_signed_and_joins_the_project_database(city_staff):
    with pytest.raises(ValidationError):
        make_project(city_staff, stage=Stage.LANDED)
    signed = make_project(city_staff, stage=Stage.SIGNED, on=DAY)
    assert signed.signed_on == DAY
    assert list(signed.databases.values_list("code", flat=True)) == ["projects"]
    assert CooperationDatabase.objects.get(code="projects").is_default


def test_a_project_of_an_agreement_takes_its_university_and_region(city_staff):
    agreement = make_agreement(city_staff, university=make_university("江西理工大学", province="江西省"),
                               region_code="140882")
    project = make_project(city_staff, agreement=agreement)
    assert project.university.name == "江西理工大学" and project.region.code == "140882"


def test_a_county_officer_moves_only_their_own_countys_projects(city_staff, yanhu_officer, hejin_officer):
    project = make_project(city_staff, region_code="140802")
    with pytest.raises(Http404):
        services.move(project, Stage.SIGNED, user=hejin_officer, on=DAY)
    assert services.move(project, Stage.SIGNED, user=yanhu_officer, on=DAY).stage == Stage.SIGNED
    other = Project(name="跨县项目", region=region("140882"), university=make_university())
    with pytest.raises(Http404):
        services.create_project(other, user=yanhu_officer, on=DAY)
    assert not Project.objects.filter(name="跨县项目").exists()


# --- scheduling periods --------------------------------------------------------------------------------------
def test_periods_are_months_or_quarters():
    assert services.period_start(dt.date(2024, 5, 17)) == dt.date(2024, 5, 1)
    assert services.next_period(dt.date(2024, 12, 1)) == dt.date(2025, 1, 1)
    assert services.period_deadline(dt.date(2024, 2, 1)) == dt.date(2024, 3, 5)  # 29 Feb + 5 days
    with override_settings(COOPERATION_REPORT_MONTHS=3):
        assert services.period_start(dt.date(2024, 5, 17)) == dt.date(2024, 4, 1)
        assert services.next_period(dt.date(2024, 10, 1)) == dt.date(2025, 1, 1)


def test_missing_reports_are_the_due_periods_without_one(city_staff):
    project = make_project(city_staff, stage=Stage.SIGNED, on=dt.date(2024, 1, 20))
    today = dt.date(2024, 4, 10)  # January, February, March are due (March's by 5 April)
    owed = services.missing_reports(Project.objects.all(), today)
    assert [m.period for m in owed] == [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 3, 1)]
    assert services.missing_reports(Project.objects.all(), dt.date(2024, 4, 5)) == owed[:2]  # still on time
    for period in (dt.date(2024, 1, 1), dt.date(2024, 3, 1)):
        services.save_report(Report(project=project, period=period, percent_done=20, work="完成厂房设计"),
                             user=city_staff, today=today)
    owed = services.missing_reports(Project.objects.all(), today)
    assert [(m.project, m.period, m.deadline) for m in owed] == [(project, dt.date(2024, 2, 1), dt.date(2024, 3, 5))]
    assert [m.period for m in services.missing_reports(Project.objects.all(), today, latest_only=True)] == []


def test_a_finished_project_owes_the_periods_before_it_finished_only(city_staff):
    project = make_project(city_staff, stage=Stage.SIGNED, on=dt.date(2024, 1, 20), path=[
        (Stage.LANDED, dt.date(2024, 2, 10)), (Stage.COMPLETED, dt.date(2024, 3, 15))])
    owed = services.missing_reports(Project.objects.all(), dt.date(2024, 9, 1))
    assert [m.period for m in owed] == [dt.date(2024, 1, 1), dt.date(2024, 2, 1)]
    assert services.due_periods(make_project(city_staff, name="还在洽谈"), dt.date(2024, 9, 1)) == []
    assert project.completed_on == dt.date(2024, 3, 15)


def test_a_report_is_for_a_period_start_after_signing_and_once(city_staff):
    project = make_project(city_staff, stage=Stage.SIGNED, on=dt.date(2024, 3, 5))
    today = dt.date(2024, 6, 1)
    for period, field in ((dt.date(2024, 4, 2), "period"), (dt.date(2024, 2, 1), "period"),
                          (dt.date(2024, 7, 1), "period")):
        with pytest.raises(ValidationError) as refused:
            services.save_report(Report(project=project, period=period, percent_done=5, work="x"), user=city_staff,
                                 today=today)
        assert field in refused.value.message_dict
    services.save_report(Report(project=project, period=dt.date(2024, 3, 1), percent_done=5, work="开工"),
                         user=city_staff, today=today)
    with pytest.raises(ValidationError):
        services.save_report(Report(project=project, period=dt.date(2024, 3, 1), percent_done=9, work="again"),
                             user=city_staff, today=today)
    with pytest.raises(ValidationError) as over:
        services.save_report(Report(project=project, period=dt.date(2024, 4, 1), percent_done=101, work="x"),
                             user=city_staff, today=today)
    assert "percent_done" in over.value.message_dict
    talking = make_project(city_staff, name="洽谈中")
    with pytest.raises(ValidationError) as unsigned:
        services.save_report(Report(project=talking, period=dt.date(2024, 3, 1), percent_done=0, work="x"),
                             user=city_staff, today=today)
    assert "project" in unsigned.value.message_dict


# --- supervision and rectification ------------------------------------------------------------------------------
def test_overdue_rectifications_and_their_closure(city_staff):
    project = make_project(city_staff, stage=Stage.SIGNED, on=DAY)
    supervision = services.save(Supervision(project=project, on=dt.date(2024, 2, 1), inspector="市督查室 李明"),
                                user=city_staff)
    late = services.save(Problem(supervision=supervision, description="用地手续未办结", deadline=dt.date(2024, 3, 1)),
                         user=city_staff)
    services.save(Problem(supervision=supervision, description="配套资金未到位", deadline=dt.date(2024, 5, 1)),
                  user=city_staff)
    today = dt.date(2024, 4, 1)
    assert list(services.overdue_problems(Problem.objects.all(), today)) == [late]
    with pytest.raises(ValidationError):
        services.close_problem(late, user=city_staff, on=dt.date(2024, 3, 20), closure=" ")
    with pytest.raises(ValidationError):
        services.close_problem(late, user=city_staff, on=dt.date(2024, 1, 20), closure="已办结")  # before the visit
    services.close_problem(late, user=city_staff, on=dt.date(2024, 3, 20), closure="已取得用地批复")
    assert list(services.overdue_problems(Problem.objects.all(), today)) == []


# --- agreements ------------------------------------------------------------------------------------------------
def test_agreement_terms_expire_and_are_reminded(city_staff):
    today = dt.date.today()
    soon = make_agreement(city_staff, title="即将到期", expires_on=today + dt.timedelta(days=30))
    make_agreement(city_staff, title="长期", expires_on=None)
    make_agreement(city_staff, title="还远", expires_on=today + dt.timedelta(days=400))
    past = make_agreement(city_staff, title="已过期", signed_on=dt.date(2020, 1, 1), expires_on=dt.date(2023, 1, 1))
    assert past.status == AgreementStatus.EXPIRED and soon.status == AgreementStatus.ACTIVE
    from rencai.cooperation.models import Agreement

    assert list(services.expiring_agreements(Agreement.objects.all(), today)) == [soon]
    Agreement.objects.filter(pk=soon.pk).update(expires_on=today - dt.timedelta(days=1))
    assert services.mark_expired_agreements(today) == 1
    soon.refresh_from_db()
    assert soon.status == AgreementStatus.EXPIRED
    with pytest.raises(ValidationError):
        make_agreement(city_staff, title="倒签", signed_on=dt.date(2024, 5, 1), expires_on=dt.date(2024, 4, 1))


# --- figures -----------------------------------------------------------------------------------------------------
def test_landing_rate_and_amounts_equal_direct_counts(city_staff, yanhu_officer):
    whu, jxust = make_university("武汉大学"), make_university("江西理工大学", province="江西省", tags=("industry",))
    a1 = make_agreement(city_staff, university=whu, amount="30000", region_code="140802", signed_on=dt.date(2023, 5, 1))
    a2 = make_agreement(city_staff, university=jxust, amount="1200.50", region_code="140882",
                        signed_on=dt.date(2024, 6, 1))
    specs = [
        (a1, Stage.SIGNED, [(Stage.LANDED, dt.date(2023, 8, 1))], "12000"),
        (a1, Stage.SIGNED, [(Stage.LANDED, dt.date(2023, 9, 1)), (Stage.TERMINATED, dt.date(2023, 10, 1), "撤资")],
         "8000"),
        (a1, Stage.SIGNED, [], "5000"),
        (a1, Stage.NEGOTIATING, [], "3000"),
        (a2, Stage.SIGNED, [(Stage.LANDED, dt.date(2024, 7, 1)), (Stage.COMPLETED, dt.date(2024, 8, 1))], "600.25"),
        (a2, Stage.SIGNED, [(Stage.TERMINATED, dt.date(2024, 7, 1), "技术路线变化")], None),
    ]
    for n, (agreement, stage, path, amount) in enumerate(specs):
        make_project(city_staff, name=f"项目{n}", agreement=agreement, stage=stage, on=agreement.signed_on,
                     amount=amount, path=path)
    projects, agreements = figures.scoped(city_staff)
    rows, total = figures.figures(projects, agreements, "university")
    by = {row.label: row for row in rows}
    signed = Project.objects.filter(signed_on__isnull=False)
    landed = Project.objects.filter(landed_on__isnull=False)
    assert (total.projects, total.signed, total.landed) == (Project.objects.count(), signed.count(), landed.count())
    assert (total.signed, total.landed) == (5, 3)
    assert total.landing_rate == round(100 * 3 / 5, 1)
    assert by["武汉大学"].landed == 2 and by["武汉大学"].signed == 3 and by["武汉大学"].landing_rate == 66.7
    assert by["武汉大学"].by_stage[Stage.TERMINATED] == 1 and by["武汉大学"].by_stage[Stage.NEGOTIATING] == 1
    assert by["江西理工大学"].landed_amount == Decimal("600.25")
    assert total.project_amount == sum(p.amount or 0 for p in Project.objects.all()) == Decimal("28600.25")
    assert total.agreement_amount == Decimal("31200.50") and total.agreements == 2
    years, _total = figures.figures(projects, agreements, "year")
    assert [(r.key, r.agreements, r.signed) for r in years] == [(2024, 1, 2), (2023, 1, 3), (None, 0, 0)]
    # A county officer's figures are their county's alone.
    own, own_total = figures.figures(*figures.scoped(yanhu_officer), "region")
    assert [r.label for r in own] == ["盐湖区"] and own_total.projects == 4 and own_total.agreements == 1


# --- leads and visits -------------------------------------------------------------------------------------------
def test_a_lead_becomes_a_project_in_one_step_and_once(city_staff, yanhu_officer, hejin_officer):
    lead = services.save(Lead(kind=LeadKind.INVESTMENT, title="在外人才拟回乡建设储能材料厂", description="投资约 2 亿元",
                              region=region("140802")), user=city_staff)
    with pytest.raises(Http404):
        services.convert_lead(lead, user=hejin_officer)
    project = services.convert_lead(lead, user=yanhu_officer)
    lead.refresh_from_db()
    assert (project.name, project.region.code, project.stage, project.lead) == (
        "在外人才拟回乡建设储能材料厂", "140802", Stage.NEGOTIATING, lead)
    assert lead.status == LeadStatus.CONVERTED and "已转为合作项目" in lead.outcome
    with pytest.raises(ValidationError):
        services.convert_lead(lead, user=yanhu_officer)
    assert Project.objects.filter(lead=lead).count() == 1


def test_a_visits_follow_ups_become_a_project_and_a_lead(city_staff):
    visit = services.save(Visit(university=make_university("山西大学", province="山西省"), on=dt.date(2024, 4, 2),
                                region=region("140882"), delegation="河津市委书记一行"), user=city_staff)
    first = services.save(FollowUp(visit=visit, description="共建煤化工联合实验室"), user=city_staff)
    second = services.save(FollowUp(visit=visit, description="推荐博士服务团成员"), user=city_staff)
    project = services.follow_up_to_project(first, user=city_staff)
    lead = services.follow_up_to_lead(second, user=city_staff)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.project) == (FollowUpStatus.PROJECT, project)
    assert project.university.name == "山西大学" and project.region.code == "140882" and project.visit == visit
    assert (second.status, second.lead) == (FollowUpStatus.LEAD, lead) and lead.region.code == "140882"
    with pytest.raises(ValidationError):
        services.follow_up_to_project(first, user=city_staff)


def test_no_one_links_another_countys_records_or_edits_the_shared_ones(city_staff, yanhu_officer, client):
    from rencai.cooperation.models import Achievement, Base, University
    from rencai.core.scope import user_can

    hejin_agreement = make_agreement(city_staff, region_code="140882")
    project = Project(name="借用河津协议", region=region("140802"), university=make_university(),
                      agreement=hejin_agreement)
    with pytest.raises(ValidationError) as refused:
        services.create_project(project, user=yanhu_officer, on=DAY)
    assert "agreement" in refused.value.message_dict and not Project.objects.filter(name="借用河津协议").exists()
    base = Base(name="实训基地", host_unit="盐湖区职教中心", university=make_university(), region=region("140802"),
                agreement=hejin_agreement)
    with pytest.raises(ValidationError):
        services.save(base, user=yanhu_officer)
    # Universities and achievements are read by counties and kept by city-level users.
    for model in (University, Achievement):
        assert user_can(yanhu_officer, model, "view") and not user_can(yanhu_officer, model, "add")
        assert user_can(city_staff, model, "add")
    client.force_login(yanhu_officer)
    assert client.get("/cooperation/universities/add/").status_code == 403
    assert client.get("/cooperation/universities/").status_code == 200


def test_an_agreement_without_an_expiry_date_is_active_again(city_staff):
    agreement = make_agreement(city_staff, signed_on=dt.date(2020, 1, 1), expires_on=dt.date(2023, 1, 1))
    assert agreement.status == AgreementStatus.EXPIRED
    agreement.expires_on = None
    assert services.save_agreement(agreement, user=city_staff).status == AgreementStatus.ACTIVE


def test_what_is_done_stays_done(city_staff):
    """No report after a project finished, no second conversion of a follow-up, no second closure
    of a problem, no deadline before the supervision."""
    project = make_project(city_staff, stage=Stage.SIGNED, on=dt.date(2024, 1, 20), path=[
        (Stage.TERMINATED, dt.date(2024, 3, 10), "合作方退出")])
    services.save_report(Report(project=project, period=dt.date(2024, 3, 1), percent_done=30, work="收尾"),
                         user=city_staff, today=dt.date(2024, 6, 1))
    with pytest.raises(ValidationError) as late:
        services.save_report(Report(project=project, period=dt.date(2024, 4, 1), percent_done=30, work="x"),
                             user=city_staff, today=dt.date(2024, 6, 1))
    assert "period" in late.value.message_dict

    visit = services.save(Visit(university=make_university(), on=dt.date(2024, 4, 2), region=region("140802"),
                                delegation="盐湖区区长一行"), user=city_staff)
    dropped = services.save(FollowUp(visit=visit, description="共建实验室", status=FollowUpStatus.DROPPED),
                            user=city_staff)
    with pytest.raises(ValidationError):
        services.follow_up_to_project(dropped, user=city_staff)
    item = services.save(FollowUp(visit=visit, description="联合培养研究生"), user=city_staff)
    services.follow_up_to_lead(item, user=city_staff)
    with pytest.raises(ValidationError):
        services.follow_up_to_project(item, user=city_staff)
    assert not Project.objects.filter(visit=visit).exists()

    supervision = services.save(Supervision(project=project, on=dt.date(2024, 2, 1), inspector="督查组"), user=city_staff)
    with pytest.raises(ValidationError) as early:
        services.save(Problem(supervision=supervision, description="x", deadline=dt.date(2024, 1, 1)), user=city_staff)
    assert "deadline" in early.value.message_dict
    problem = services.save(Problem(supervision=supervision, description="台账不全", deadline=dt.date(2024, 3, 1)),
                            user=city_staff)
    services.close_problem(problem, user=city_staff, on=dt.date(2024, 2, 20), closure="已补齐")
    with pytest.raises(ValidationError):
        services.close_problem(problem, user=city_staff, on=dt.date(2024, 2, 25), closure="再次")
    problem.refresh_from_db()
    assert (problem.closed_on, problem.closure) == (dt.date(2024, 2, 20), "已补齐")


def test_quarterly_periods_across_the_year_end(city_staff):
    with override_settings(COOPERATION_REPORT_MONTHS=3, COOPERATION_REPORT_GRACE_DAYS=10):
        project = make_project(city_staff, stage=Stage.SIGNED, on=dt.date(2024, 11, 20))
        assert services.period_deadline(dt.date(2024, 10, 1)) == dt.date(2025, 1, 10)
        assert services.due_periods(project, dt.date(2025, 1, 10)) == []  # still on time
        assert services.due_periods(project, dt.date(2025, 1, 11)) == [dt.date(2024, 10, 1)]
        assert services.due_periods(project, dt.date(2025, 7, 11)) == [
            dt.date(2024, 10, 1), dt.date(2025, 1, 1), dt.date(2025, 4, 1)]
        with pytest.raises(ValidationError):  # a month inside the quarter is no period start
            services.save_report(Report(project=project, period=dt.date(2024, 11, 1), percent_done=5, work="x"),
                                 user=city_staff, today=dt.date(2025, 1, 20))
        services.save_report(Report(project=project, period=dt.date(2024, 10, 1), percent_done=5, work="开工"),
                             user=city_staff, today=dt.date(2025, 1, 20))
        owed = services.missing_reports(Project.objects.all(), dt.date(2025, 7, 11))
        assert [m.period for m in owed] == [dt.date(2025, 1, 1), dt.date(2025, 4, 1)]


def test_a_follow_up_converts_once_even_if_its_status_is_set_back(city_staff):
    visit = services.save(Visit(university=make_university(), on=dt.date(2024, 4, 2), region=region("140802"),
                                delegation="盐湖区区长一行"), user=city_staff)
    item = services.save(FollowUp(visit=visit, description="共建研究院"), user=city_staff)
    project = services.follow_up_to_project(item, user=city_staff)
    item.refresh_from_db()
    item.status = FollowUpStatus.OPEN
    with pytest.raises(ValidationError) as kept:
        services.save_follow_up(item, user=city_staff)
    assert "status" in kept.value.message_dict
    FollowUp.objects.filter(pk=item.pk).update(status=FollowUpStatus.OPEN)  # even behind the services' back
    with pytest.raises(ValidationError):
        services.follow_up_to_lead(item, user=city_staff)
    assert Project.objects.filter(visit=visit).get() == project and not Lead.objects.exists()
    other = services.save(FollowUp(visit=visit, description="推荐人才"), user=city_staff)
    other.status = FollowUpStatus.PROJECT
    with pytest.raises(ValidationError):  # a status only its button sets
        services.save_follow_up(other, user=city_staff)


def test_a_countys_project_keeps_its_city_agreement_when_the_officer_edits_it(city_staff, yanhu_officer):
    city_agreement = make_agreement(city_staff, region_code="140800", title="市校全面合作协议")
    project = make_project(city_staff, name="盐湖区承接项目", agreement=city_agreement)
    project.region = region("140802")
    project.save()
    project = Project.objects.get(pk=project.pk)
    project.leader = "王强 副区长"
    services.update_project(project, user=yanhu_officer)
    project.refresh_from_db()
    assert project.agreement == city_agreement and project.leader == "王强 副区长"
