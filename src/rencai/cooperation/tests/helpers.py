"""Helpers of the cooperation tests: universities, agreements and projects made through the
services, as the pages make them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rencai.cooperation import services
from rencai.cooperation.choices import Stage
from rencai.cooperation.models import Agreement, Project, University
from rencai.core import audit
from rencai.talents.tests.helpers import item, region


def make_university(name: str = "武汉大学", *, province: str = "湖北省", tags=("p985",)) -> University:
    university, _created = University.objects.get_or_create(name=name, defaults={"province": province})
    university.tags.set([item("university_tag", code) for code in tags])
    return university


def make_agreement(user, *, university=None, region_code: str = "140802", signed_on=dt.date(2024, 3, 1),
                   expires_on=None, amount=None, title: str = "全面合作协议", classes=("talent", "project")) -> Agreement:
    agreement = Agreement(title=title, university=university or make_university(), partner="盐湖区人民政府",
                          region=region(region_code), signed_on=signed_on, expires_on=expires_on,
                          amount=Decimal(amount) if amount is not None else None)
    with audit.acting(user):
        return services.save_agreement(agreement, user=user,
                                       classes=[item("cooperation_class", code) for code in classes])


def make_project(user, *, name: str = "新材料中试基地", region_code: str = "140802", university=None, agreement=None,
                 stage: str = Stage.NEGOTIATING, on=dt.date(2024, 1, 10), amount=None, path=()) -> Project:
    """A project entered at ``stage`` on ``on``, then moved along ``path`` ((stage, date) steps)."""
    project = Project(name=name, region=region(region_code) if agreement is None else None,
                      university=university if university is not None else (None if agreement else make_university()),
                      agreement=agreement, amount=Decimal(amount) if amount is not None else None)
    with audit.acting(user):
        project = services.create_project(project, user=user, stage=stage, on=on)
        for to_stage, day, *note in path:
            project = services.move(project, to_stage, user=user, on=day, note=note[0] if note else "")
    return project
