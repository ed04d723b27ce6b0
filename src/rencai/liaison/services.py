"""Writing liaison records: contacts with their talents, topics and requests, the handling of a
request, leads, and the cadence rules.

Every write re-checks data scope inside its transaction: the talents of a contact must all be
ones the user may see, and the record's region one the user covers. The talents' schedules
(``liaison.schedule``) are worked out again in the same transaction, so a worklist never shows a
talent as overdue who was just contacted.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.core.models import Region
from rencai.core.scope import check_in_scope
from rencai.liaison import schedule
from rencai.liaison.choices import REQUEST_CLOSED, LeadStatus
from rencai.liaison.models import CadenceRule, ContactRecord, ContactRequest, Lead
from rencai.talents.models import Talent


def common_region(regions: list[Region]) -> Region | None:
    """The smallest region that holds all of ``regions``: their county when they share one, else
    the city (or province) above them."""
    if not regions:
        return None
    paths = [region.path.strip("/").split("/") for region in regions]
    shared = []
    for codes in zip(*paths, strict=False):
        if len(set(codes)) != 1:
            break
        shared.append(codes[0])
    if not shared:
        return None
    return next((r for r in regions if r.code == shared[-1]), None) or Region.objects.get(code=shared[-1])


def _check_region_holds(region: Region | None, regions: list[Region], field: str) -> None:
    """A record filed under ``region`` must be visible to no one who may not see its talents:
    ``region`` is the region holding them all, or one above it (a county's contact may be filed
    under the city, never a county's talents under another county)."""
    if region is None or not regions:
        return
    holder = common_region(regions)
    if holder is None or not holder.path.startswith(region.path):
        raise ValidationError({field: [_("所属地区必须包含联络对象所在地区。")]})


def _talents_in_scope(user, talents) -> list[Talent]:
    ids = sorted({t.pk if isinstance(t, Talent) else int(t) for t in talents})
    if not ids:
        raise ValidationError({"talents": [_("请至少选择一位联络对象。")]})
    found = list(Talent.objects.restrict(user, "view").filter(pk__in=ids).select_related("region"))
    if len(found) != len(ids):
        # Someone out of scope (or deleted) reads the same as missing: nothing to guess from.
        raise ValidationError({"talents": [_("所选人才中有不存在或不在您数据范围内的记录。")]})
    return found


def save_contact(contact: ContactRecord, *, user, talents, topics=None, requests: list[dict] | None = None,
                 ) -> ContactRecord:
    """Create or update a contact record with its talents (required), topics and requests.

    A blank region becomes the smallest region holding the talents' managing regions. ``requests``
    (None leaves them as they are) are dicts with ``content``, and optionally ``id``, ``talent``,
    ``status``, ``handler``, ``result``; rows not named are removed. Raises ``ValidationError``.
    """
    created = contact.pk is None
    with transaction.atomic():
        chosen = _talents_in_scope(user, talents)
        before = set(contact.talents.values_list("pk", flat=True)) if not created else set()
        if contact.region_id is None:
            contact.region = common_region([t.region for t in chosen])
        else:
            _check_region_holds(contact.region, [t.region for t in chosen], "region")
        if contact.contacted_at is None:
            contact.contacted_at = timezone.now()
        elif timezone.is_naive(contact.contacted_at):
            contact.contacted_at = timezone.make_aware(contact.contacted_at)  # a time without a zone is local
        if contact.contacted_at > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationError({"contacted_at": [_("联络时间不能晚于现在。")]})
        if contact.next_contact_date and contact.next_contact_date < timezone.localtime(contact.contacted_at).date():
            raise ValidationError({"next_contact_date": [_("下次联络日期不能早于本次联络日期。")]})
        if contact.staff_id is None and getattr(user, "is_authenticated", False):
            contact.staff = user
        check_in_scope(user, contact, "add" if created else "change")
        contact.full_clean(exclude=["talents", "topics"])
        contact.save()
        contact.talents.set(chosen)
        if topics is not None:
            contact.topics.set(topics)
        if requests is not None:
            _sync_requests(contact, requests, {t.pk for t in chosen})
        schedule.refresh(before | {t.pk for t in chosen})
    return contact


def _sync_requests(contact: ContactRecord, rows: list[dict], talent_ids: set[int]) -> None:
    existing = {r.pk: r for r in contact.requests.all()}
    kept = set()
    for row in rows:
        content = (row.get("content") or "").strip()
        if not content:
            continue
        request = existing.get(row.get("id")) or ContactRequest(contact=contact)
        request.content = content
        talent = row.get("talent")
        talent_id = talent.pk if isinstance(talent, Talent) else talent
        if talent_id is not None and int(talent_id) not in talent_ids:
            raise ValidationError({"requests": [_("诉求的提出人必须是本次联络对象之一。")]})
        if talent_id is None and len(talent_ids) == 1:
            talent_id = next(iter(talent_ids))  # one talent in the contact: the request is theirs
        request.talent_id = talent_id
        request.status = row.get("status") or request.status
        request.handler = row.get("handler", request.handler)
        request.result = row.get("result", request.result) or ""
        close_request_date(request)
        request.full_clean(exclude=["contact"])
        request.save()
        kept.add(request.pk)
    for pk, request in existing.items():
        if pk not in kept:
            request.delete()


def close_request_date(request: ContactRequest) -> None:
    """A request closed gets the day it closed; one reopened loses it."""
    if request.status in REQUEST_CLOSED:
        request.closed_on = request.closed_on or timezone.localdate()
    else:
        request.closed_on = None


def save_request(request: ContactRequest, *, user) -> ContactRequest:
    """Save the handling of a request (status, handler, result) on its own, outside its contact's
    form: the date it closed follows the status."""
    with transaction.atomic():
        check_in_scope(user, request, "change")
        close_request_date(request)
        request.full_clean(exclude=["contact"])
        request.save()
    return request


def delete_contact(contact: ContactRecord, *, user) -> None:
    with transaction.atomic():
        check_in_scope(user, contact, "delete")
        talent_ids = set(contact.talents.values_list("pk", flat=True))
        contact.delete()
        schedule.refresh(talent_ids)


def save_lead(lead: Lead, *, user) -> Lead:
    """Create or update a lead; its region defaults to its talent's (or its contact's)."""
    with transaction.atomic():
        if lead.talent_id is not None and not Talent.objects.restrict(user, "view").filter(pk=lead.talent_id).exists():
            raise ValidationError({"talent": [_("该人才不存在或不在您的数据范围内。")]})
        if lead.contact_id is not None and not ContactRecord.objects.restrict(user, "view").filter(
                pk=lead.contact_id).exists():
            raise ValidationError({"contact": [_("该联络记录不存在或不在您的数据范围内。")]})
        sources = [source for source in (lead.talent, lead.contact) if source is not None]
        if lead.region_id is None:
            if sources:
                lead.region_id = sources[0].region_id
        else:
            _check_region_holds(lead.region, [source.region for source in sources], "region")
        if lead.status == LeadStatus.NEW and lead.owner_id is None and getattr(user, "is_authenticated", False):
            lead.owner = user
        # Validated first: a lead with no region (none given, no talent or contact to take it
        # from) is a missing field, not a record out of scope.
        lead.full_clean()
        check_in_scope(user, lead, "add" if lead.pk is None else "change")
        lead.save()
    return lead


def delete_lead(lead: Lead, *, user) -> None:
    with transaction.atomic():
        check_in_scope(user, lead, "delete")
        lead.delete()


def save_cadence_rule(rule: CadenceRule, *, user) -> CadenceRule:
    """Create or update a cadence rule (city configuration: administrators only). Every talent's
    schedule is worked out again in the background once the change commits (``receivers``)."""
    with transaction.atomic():
        check_in_scope(user, rule, "add" if rule.pk is None else "change")
        rule.full_clean()
        rule.save()
    return rule


def delete_cadence_rule(rule: CadenceRule, *, user) -> None:
    with transaction.atomic():
        check_in_scope(user, rule, "delete")
        rule.delete()
