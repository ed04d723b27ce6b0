"""Helpers of the registry's page, form, service and API tests: valid ID-card numbers, talents made
through the service (as the UI makes them), and the form as a browser posts it."""

from __future__ import annotations

import datetime as dt
import re

from rencai.core import audit
from rencai.core.models import DictionaryItem, Region
from rencai.core.validators import id_check_char
from rencai.talents import services
from rencai.talents.choices import TalentKind
from rencai.talents.models import Talent


def id_number(birth: str = "19900115", *, male: bool = True, county: str = "140802", seq: int = 12) -> str:
    """A valid 18-digit ID-card number (GB 11643) for a birth date ``YYYYMMDD``."""
    order = seq * 10 + (1 if male else 2)  # the sequence code's parity is the gender
    first17 = f"{county}{birth}{order:03d}"
    return first17 + id_check_char(first17)


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def item(dictionary: str, code: str) -> DictionaryItem:
    return DictionaryItem.objects.get(dictionary__code=dictionary, code=code)


def make_talent(user, *, name="张伟", region_code="140802", kind=TalentKind.NATIVE, confirm=True, **fields) -> Talent:
    """A talent created through ``services.save_talent`` by ``user`` (an all-region user makes
    any county's talents)."""
    fields.setdefault("native_place", region("140802") if kind == TalentKind.NATIVE else None)
    databases = fields.pop("databases", None)
    tags = fields.pop("tags", None)
    education = fields.pop("education_history", None)
    work = fields.pop("work_history", None)
    talent = Talent(name=name, region=region(region_code), kind=kind, **fields)
    with audit.acting(user):
        return services.save_talent(talent, user=user, databases=databases, tags=tags, education=education, work=work,
                                    confirm_duplicates=confirm)


def form_values(page: str) -> dict:
    """The values a browser would post from an edit page: text inputs, selected options,
    checked boxes, textareas (enough for the talent form and its formsets)."""
    data: dict = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or re.search(r'type="(submit|button)"', tag):
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio"):
            if " checked" in tag:
                data.setdefault(name.group(1), []).append(value.group(1) if value else "on")
            continue
        data[name.group(1)] = _unescape(value.group(1)) if value else ""
    for name, attrs, body in re.findall(r'<select name="([^"]+)"([^>]*)>(.*?)</select>', page, re.S):
        chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', body)
        if re.search(r"\bmultiple\b", attrs):
            data[name] = chosen  # nothing chosen: nothing sent
        else:
            data[name] = chosen[0] if chosen else ""
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = _unescape(body.strip("\n"))
    return data


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def today() -> dt.date:
    from django.utils import timezone

    return timezone.localdate()
