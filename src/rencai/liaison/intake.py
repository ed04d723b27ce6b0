"""Self-registration and personal update links (信息采集): the rules behind the public pages and
the review queue.

The public side (nobody signed in):

- ``submit_registration``: a native of the city working elsewhere registers; the submission waits
  for review in the county of their 籍贯;
- ``update_link(talent)``: a signed, expiring address (``django.core.signing``, salt ``SALT``,
  ``settings.INTAKE_LINK_MAX_AGE_DAYS``) to a form of the talent's own details; the address
  carries the talent's id only encrypted, so it names nobody, and an expired or altered one
  reads as no talent at all (``talent_for_token``). ``submit_update`` files the corrections as a
  proposed change; a second correction before review replaces the first.
- ``spend_attempt``: the rate limits (per client address, per ID-card number) kept in Django's
  cache, fixed windows of ``settings.INTAKE_LIMIT_MINUTES``.

The review side (staff, within data scope): ``find_matches`` (the registry's dedupe scorer and the
exact ID-card match through the lookup hash), ``accept_submission`` (a new talent through
``talents.services.save_talent``, source 自主登记, the consent copied), ``merge_submission`` (the
values the reviewer picks, field by field, into an existing record, with optimistic locking),
``reject_submission``. Each claims the submission with one conditional UPDATE, so two reviewers
acting at once cannot both handle it: the second gets ``AlreadyHandled``. Each is audited.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.core import audit, crypto
from rencai.core.models.audit import AuditAction
from rencai.liaison.models_intake import PERSON_FIELDS, IntakeSubmission, SubmissionKind, SubmissionStatus
from rencai.talents import services
from rencai.talents.choices import ConsentMethod, TalentKind, TalentSource
from rencai.talents.models import Talent

SALT = "rencai.liaison.intake.update-link"
# The notice the person agreed to (templates/liaison/intake/_notice.html): a new text, a new version.
NOTICE_VERSION = "2026-1"
CONSENT_SCOPE = gettext_lazy(
    "建立人才联络档案（一人一档）、联络服务、人才工作统计；含身份证号码、手机号码等敏感个人信息"
)


# --- rate limits --------------------------------------------------------------------------------------
class RateLimited(Exception):
    """Too many attempts from this address, or for this ID-card number, in the current window."""

    def __init__(self, wait_seconds: int):
        self.wait_seconds = wait_seconds
        super().__init__(limited_message(wait_seconds))


def limited_message(wait_seconds: int) -> str:
    minutes = max(1, math.ceil(wait_seconds / 60))
    return _("提交次数过多，请 %(minutes)d 分钟后再试。已填写的内容仍保留在下方。") % {"minutes": minutes}


def _clock() -> float:
    return time.time()


def spend_attempt(kind: str, key: str, limit: int) -> None:
    """Count one attempt under (``kind``, ``key``); raise ``RateLimited`` past ``limit`` in the
    current window. The key is hashed: the cache holds no address or number."""
    window = settings.INTAKE_LIMIT_MINUTES * 60
    now = _clock()
    slot = int(now // window)
    digest = hashlib.sha256(f"{kind}:{key}".encode()).hexdigest()[:32]
    cache_key = f"rencai:intake:{digest}:{slot}"
    cache.add(cache_key, 0, timeout=window + 60)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 60)
        count = 1
    if count > limit:
        raise RateLimited(max(1, int((slot + 1) * window - now)))


def spend_address_attempt(address: str | None) -> None:
    """Every submission from a client address counts, valid or not."""
    spend_attempt("ip", address or "unknown", settings.INTAKE_LIMIT_PER_IP)


def spend_id_attempt(id_card: str) -> None:
    """Each valid submission for an ID-card number counts (under its keyed lookup hash)."""
    if id_card:
        digest = IntakeSubmission._meta.get_field("id_card").lookup_hash(id_card)
        spend_attempt("id", digest, settings.INTAKE_LIMIT_PER_ID)


# --- addresses --------------------------------------------------------------------------------------------
def public_url(path: str, request=None) -> str:
    """``path`` on the address the public reaches rencai at (``settings.PUBLIC_URL``), else on
    the host of ``request``, else the bare path."""
    if settings.PUBLIC_URL:
        return settings.PUBLIC_URL + path
    if request is not None:
        return request.build_absolute_uri(path)
    return path


def registration_link(request=None, *, county=None) -> str:
    """The address of the public registration page (with ``county`` as the 籍贯 chosen first)."""
    path = reverse("intake_register")
    if county is not None:
        path += "?" + urlencode({"county": county.code})
    return public_url(path, request)


def update_token(talent: Talent) -> str:
    """The signed token of ``talent``'s update link: the id encrypted, then signed with a time."""
    return signing.dumps({"t": crypto.encrypt(str(talent.pk))}, salt=SALT)


def update_link(talent: Talent, request=None) -> str:
    """The personal update link of ``talent`` (for campaigns), valid for
    ``settings.INTAKE_LINK_MAX_AGE_DAYS`` days. In the query string, so access logs (which leave
    query strings out) never hold it."""
    return public_url(reverse("intake_update") + "?" + urlencode({"t": update_token(talent)}), request)


def talent_for_token(token: str | None) -> Talent | None:
    """The talent of a valid, unexpired update token; None for anything else (expired, altered,
    made with another key, or a talent since deleted), all alike."""
    if not token or len(token) > 1000:
        return None
    try:
        payload = signing.loads(token, salt=SALT, max_age=timedelta(days=settings.INTAKE_LINK_MAX_AGE_DAYS))
        pk = int(crypto.decrypt(payload["t"]))
    except (signing.BadSignature, crypto.DecryptionError, KeyError, TypeError, ValueError):
        return None
    return Talent._base_manager.select_related("region").filter(pk=pk).first()


# --- values -------------------------------------------------------------------------------------------------
def person_fields(kind: str) -> tuple[str, ...]:
    """The fields a person fills in: a correction leaves the ID-card number as it is (who the record
    is about is corrected by the office, not through a link)."""
    if kind == SubmissionKind.UPDATE:
        return tuple(name for name in PERSON_FIELDS if name != "id_card")
    return PERSON_FIELDS


def _attname(name: str) -> str:
    return IntakeSubmission._meta.get_field(name).attname


def copy_person_values(source, target, names=PERSON_FIELDS) -> None:
    for name in names:
        attname = _attname(name)
        setattr(target, attname, getattr(source, attname))


def talent_from(submission: IntakeSubmission, *, kind: str = TalentKind.NATIVE) -> Talent:
    """An unsaved talent with the submission's values (in its region), birth date and gender
    taken from the ID-card number: what the registry's rules and the dedupe scorer judge."""
    talent = Talent(kind=kind, region_id=submission.region_id)
    copy_person_values(submission, talent, person_fields(submission.kind))
    services.fill_from_id_card(talent)
    return talent


def person_errors(submission: IntakeSubmission, *, kind: str = TalentKind.NATIVE) -> dict[str, list[str]]:
    """The registry's rules the submitted values break (ID-card number against gender, 籍贯 of
    在外人才, the work place, the category of the kind), by field. A work city given without its
    province gets the province, as in the registry."""
    talent = talent_from(submission, kind=kind)
    talent.region_id = None  # the region is the office's to check, not the person's
    errors = services.talent_errors(talent, user=None)
    submission.work_province_id = talent.work_province_id
    return errors


def _consent(submission: IntakeSubmission) -> None:
    submission.consent_at = timezone.now()
    submission.consent_scope = str(CONSENT_SCOPE)[:200]
    submission.consent_method = ConsentMethod.ONLINE
    submission.consent_notice = NOTICE_VERSION


def _copy_consent(submission: IntakeSubmission, talent: Talent) -> None:
    talent.consent_date = timezone.localtime(submission.consent_at).date()
    talent.consent_scope = submission.consent_scope
    talent.consent_method = submission.consent_method


# --- submitting (the public side) ---------------------------------------------------------------------
def submit_registration(submission: IntakeSubmission) -> IntakeSubmission:
    """File a self-registration (values already validated by the form) in the county of its 籍贯,
    with the consent the person gave just now."""
    submission.kind = SubmissionKind.REGISTRATION
    submission.status = SubmissionStatus.PENDING
    submission.region_id = submission.native_place_id
    _consent(submission)
    submission.full_clean()
    submission.save()
    return submission


def submit_update(talent: Talent, submission: IntakeSubmission) -> IntakeSubmission:
    """File the corrections of ``talent``'s own details; a correction still waiting for review
    is replaced by this one (one pending correction per talent, kept by a constraint)."""
    submission.kind = SubmissionKind.UPDATE
    submission.status = SubmissionStatus.PENDING
    submission.talent = talent
    submission.region_id = talent.region_id
    submission.base_version = talent.version
    _consent(submission)
    submission.full_clean(validate_constraints=False)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                pending = IntakeSubmission.objects.select_for_update().filter(
                    talent=talent, kind=SubmissionKind.UPDATE, status=SubmissionStatus.PENDING).first()
                if pending is None:
                    submission.save()
                    return submission
                copy_person_values(submission, pending, person_fields(SubmissionKind.UPDATE))
                for name in ("region_id", "base_version", "consent_at", "consent_scope", "consent_method",
                             "consent_notice"):
                    setattr(pending, name, getattr(submission, name))
                pending.save()
                return pending
        except IntegrityError:
            continue  # another correction of the same talent was filed at this very moment: replace it
    raise ValidationError(_("提交失败，请稍后再试。"))


# --- matches (the review side) ------------------------------------------------------------------------
@dataclass
class Candidate:
    talent: Talent
    score: float
    evidence: list[dict]  # the scorer's comparisons (label, weight), missing ones left out
    same_id: bool = False


@dataclass
class Matches:
    """The registered talents a registration may be: the one with the same ID-card number and the
    look-alikes the dedupe scorer finds, among those the reviewer may see; and whether the number
    is registered where the reviewer cannot see (nothing more is said about that record)."""

    candidates: list[Candidate] = field(default_factory=list)
    same_id_elsewhere: bool = False

    @property
    def same_id(self) -> Candidate | None:
        return next((c for c in self.candidates if c.same_id), None)


def find_matches(submission: IntakeSubmission, user, *, limit: int = 10) -> Matches:
    """The proposed matches of a pending registration (none once handled: its values are gone)."""
    from rencai.imports.dedupe import find_candidates_for

    matches = Matches()
    if submission.kind != SubmissionKind.REGISTRATION or not submission.is_pending:
        return matches
    visible = Talent.objects.restrict(user, "view")
    same_id_pk = None
    if submission.id_card_hash:
        same_id_pk = Talent._base_manager.filter(id_card_hash=submission.id_card_hash).values_list("pk", flat=True).first()
        if same_id_pk is not None and not visible.filter(pk=same_id_pk).exists():
            matches.same_id_elsewhere = True
            same_id_pk = None
    scored = find_candidates_for(talent_from(submission), user=user, limit=limit)
    pks = [pk for pk, _score in scored]
    if same_id_pk is not None and same_id_pk not in pks:
        pks.insert(0, same_id_pk)
    talents = visible.select_related("region", "category").in_bulk(pks)
    scores = dict(scored)
    for pk in pks:
        talent = talents.get(pk)
        if talent is None:
            continue
        score = scores.get(pk)
        evidence = [
            {"label": item["label"], "weight": item["weight"]}
            for item in (score.evidence.values() if score else ()) if item["level"] != "missing"
        ]
        matches.candidates.append(Candidate(talent, score.score if score else 1.0, evidence, same_id=pk == same_id_pk))
    matches.candidates.sort(key=lambda c: (not c.same_id, -c.score))
    return matches


# --- comparing a submission with a record ----------------------------------------------------------
SUBMITTED, EXISTING = "submitted", "existing"


def _empty(value) -> bool:
    return value in (None, "")


def default_take(submission: IntakeSubmission, talent: Talent) -> set[str]:
    """The fields whose submitted value replaces the record's unless the reviewer says otherwise:
    those the person filled in differently. An emptied field keeps the record's value."""
    take = set()
    for name in person_fields(submission.kind):
        attname = _attname(name)
        mine, theirs = getattr(talent, attname), getattr(submission, attname)
        if not _empty(theirs) and theirs != mine:
            take.add(name)
    return take


# --- handling ----------------------------------------------------------------------------------------------
class AlreadyHandled(ValidationError):
    """Someone handled the submission first (two reviewers at once)."""

    def __init__(self, submission: IntakeSubmission):
        self.submission = submission
        who = submission.handled_by
        when = submission.handled_at
        super().__init__(
            _("这条%(kind)s已由%(who)s于 %(when)s 处理（%(status)s），不能重复处理。") % {
                "kind": submission.get_kind_display(),
                "who": f"“{who.full_name or who.username}”" if who else _("他人"),
                "when": date_format(timezone.localtime(when), "Y-m-d H:i:s") if when else "",
                "status": submission.get_status_display(),
            },
            code="already_handled",
        )


def _claim(submission: IntakeSubmission, user, status: str) -> IntakeSubmission:
    """Take the submission for this decision: one conditional UPDATE, so of two reviewers acting at
    once only one passes, on SQLite and PostgreSQL alike. Out of scope: 404."""
    in_scope = IntakeSubmission.objects.restrict(user, "change").filter(pk=submission.pk)
    claimed = in_scope.filter(status=SubmissionStatus.PENDING).update(
        status=status, handled_by=user, handled_at=timezone.now())
    fresh = in_scope.select_related("handled_by").first()
    if fresh is None:
        raise Http404
    if not claimed:
        raise AlreadyHandled(fresh)
    return fresh


def _erase_personal_values(submission: IntakeSubmission) -> None:
    """Once handled, the submission keeps the name, the outcome and the consent; the person's
    other values now live in the record, or nowhere (as the notice on the form says)."""
    for name in PERSON_FIELDS:
        if name == "name":
            continue
        model_field = IntakeSubmission._meta.get_field(name)
        setattr(submission, model_field.attname, None if model_field.null else "")


def _close(submission: IntakeSubmission, *, user, status: str, message: str, talent: Talent | None = None,
           reason: str = "", changes: dict | None = None) -> None:
    submission.status = status
    if talent is not None:
        submission.talent = talent
    submission.reject_reason = reason
    _erase_personal_values(submission)
    submission.save()
    audit.record(AuditAction.UPDATE, obj=submission, actor=user, message=message,
                 changes={"status": [SubmissionStatus.PENDING, status], **(changes or {})})


def accept_submission(submission: IntakeSubmission, *, user, confirm_duplicates: bool = False) -> Talent:
    """A registration becomes a new talent in its county, source 自主登记, with the consent.

    Raises ``AlreadyHandled``, the registry's refusals (``DuplicateIdCard``; ``PossibleDuplicates``
    unless ``confirm_duplicates``: the reviewer saw the proposed matches), ``Http404``."""
    if submission.kind != SubmissionKind.REGISTRATION:
        raise ValidationError(_("信息更正只能并入它所属的人才记录。"))
    with transaction.atomic():
        claimed = _claim(submission, user, SubmissionStatus.ACCEPTED)
        talent = talent_from(claimed)
        talent.source = TalentSource.SELF_REGISTRATION
        talent.source_ref = _("自主登记 #%(id)s") % {"id": claimed.pk}
        _copy_consent(claimed, talent)
        services.save_talent(talent, user=user, confirm_duplicates=confirm_duplicates)
        _close(claimed, user=user, status=SubmissionStatus.ACCEPTED, talent=talent,
               message=_("审核通过自主登记，新建人才“%(name)s”（编号 %(id)s）") % {"name": talent.name, "id": talent.pk},
               changes={"talent_id": [None, talent.pk]})
    return talent


def merge_submission(submission: IntakeSubmission, talent: Talent, *, user, take, expected_version: int) -> Talent:
    """Write the submitted values of the fields in ``take`` into ``talent`` (read at
    ``expected_version`` by the reviewer), with the consent the person gave; a correction goes
    only into its own talent. Raises ``AlreadyHandled``, ``StaleTalent`` (the record changed
    meanwhile), the registry's other refusals, ``Http404`` (the record is out of scope)."""
    fields = person_fields(submission.kind)
    unknown = set(take) - set(fields)
    if unknown:
        raise ValueError(f"not mergeable: {sorted(unknown)}")
    if submission.kind == SubmissionKind.UPDATE and talent.pk != submission.talent_id:
        raise ValidationError(_("信息更正只能并入它所属的人才记录。"))
    with transaction.atomic():
        claimed = _claim(submission, user, SubmissionStatus.MERGED)
        target = Talent.objects.restrict(user, "change").filter(pk=talent.pk).first()
        if target is None:
            raise Http404
        taken = [name for name in fields if name in take]
        copy_person_values(claimed, target, taken)
        _copy_consent(claimed, target)
        services.save_talent(target, user=user, confirm_duplicates=True, expected_version=expected_version)
        _close(claimed, user=user, status=SubmissionStatus.MERGED, talent=target,
               message=_("审核%(kind)s，并入人才“%(name)s”（编号 %(id)s），采用 %(count)d 项填写内容") % {
                   "kind": claimed.get_kind_display(), "name": target.name, "id": target.pk, "count": len(taken)},
               changes={"talent_id": [None, target.pk], "fields_taken": taken})
    return target


def reject_submission(submission: IntakeSubmission, *, user, reason: str) -> IntakeSubmission:
    """Reject with a reason (required); the submitted values are erased."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写驳回理由。")]})
    with transaction.atomic():
        claimed = _claim(submission, user, SubmissionStatus.REJECTED)
        _close(claimed, user=user, status=SubmissionStatus.REJECTED, reason=reason[:1000],
               message=_("驳回%(kind)s：%(reason)s") % {"kind": claimed.get_kind_display(), "reason": reason[:200]})
    return claimed
