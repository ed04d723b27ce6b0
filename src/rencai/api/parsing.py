"""What every area's API does with a request's values before its service sees them: collect
field errors for one 422, and find the records a value names within the caller's scope."""

from __future__ import annotations

from django.utils.translation import gettext as _


def add_error(errors: dict, name: str, message: str) -> None:
    """Add ``message`` to field ``name`` of ``errors`` (raised together as one 422)."""
    errors.setdefault(name, []).append(message)


def unknown_code(code) -> str:
    return _("代码“%(code)s”不存在。") % {"code": code}


def writable_region(user, code, errors: dict, name: str = "region"):
    """The region with this GB/T 2260 code that ``user`` may file a record under (else a field
    error, the same for a region that does not exist and one out of scope)."""
    from rencai.core.forms import region_choices

    region = region_choices(user).filter(code=code or "").first()
    if region is None:
        add_error(errors, name, _("所选地区不存在，或不在您的数据范围内。"))
    return region
