"""The built-in roles and their permission rules, and separation of administrator duties.

Business roles get the permissions of every business app (each area of rencai), so a new area's
models join them on the next ``migrate`` without editing this file. Administrator roles get only
the platform permissions of their duty and none of the business data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

# Apps whose models are platform machinery, not business data.
PLATFORM_APPS = {"auth", "contenttypes", "sessions", "core", "admin"}
# Core models that are business data all the same (region-scoped, seen by business roles only).
BUSINESS_CORE_MODELS = {"orgunit"}
REFERENCE = ["core.view_region", "core.view_dictionary", "core.view_dictionaryitem"]
REFERENCE_EDIT = [
    f"core.{action}_{model}" for model in ("region", "dictionary", "dictionaryitem") for action in ("add", "change", "delete")
]


@dataclass(frozen=True)
class RoleDefinition:
    code: str
    name: str
    description: str
    duty: str = ""
    all_regions: bool = False
    can_view_personal: bool = False
    business_actions: tuple[str, ...] = ()
    # Actions on city-wide configuration models (``city_configuration = True``, e.g. the set of
    # talent databases): only the city administrator changes those; other roles read them.
    configuration_actions: tuple[str, ...] = ("view",)
    platform_perms: tuple[str, ...] = field(default_factory=tuple)


BUILTIN_ROLES = (
    RoleDefinition(
        "city_admin", "市级管理员", "全市全部业务数据，维护数据字典和行政区划。",
        all_regions=True, can_view_personal=True, business_actions=("view", "add", "change", "delete"),
        configuration_actions=("view", "add", "change", "delete"),
        platform_perms=(*REFERENCE, *REFERENCE_EDIT, "core.view_job"),
    ),
    RoleDefinition(
        "city_staff", "市级业务员", "全市全部业务数据，不管理用户。",
        all_regions=True, can_view_personal=True, business_actions=("view", "add", "change", "delete"),
        platform_perms=(*REFERENCE, "core.view_job"),
    ),
    RoleDefinition(
        "county_officer", "县级专员", "只能查看和维护本人负责地区（县）的数据。",
        can_view_personal=True, business_actions=("view", "add", "change", "delete"),
        platform_perms=(*REFERENCE, "core.view_job"),
    ),
    RoleDefinition(
        "leader", "领导", "只读：驾驶舱和统计，个人信息脱敏。",
        all_regions=True, business_actions=("view",), platform_perms=tuple(REFERENCE),
    ),
    RoleDefinition(
        "system_admin", "系统管理员", "账户与系统设置（三员之一）；不能查看人才数据。",
        duty="system",
        platform_perms=(
            "core.view_user", "core.add_user", "core.change_user", "core.view_role",
            *REFERENCE, *REFERENCE_EDIT, "core.view_job",
        ),
    ),
    RoleDefinition(
        "security_admin", "安全管理员", "角色、权限与安全策略（三员之一）；不能查看人才数据。",
        duty="security",
        platform_perms=("core.view_role", "core.change_role", "core.view_user", *REFERENCE),
    ),
    RoleDefinition(
        "audit_admin", "审计管理员", "只能查看和导出审计日志（三员之一）；不能查看人才数据。",
        duty="audit", platform_perms=("core.view_auditentry", "core.export_auditentry"),
    ),
)


def business_permissions_q():
    """Permissions over business data: every non-platform app, and core's business models."""
    from django.db.models import Q

    return ~Q(content_type__app_label__in=PLATFORM_APPS) | Q(
        content_type__app_label="core", content_type__model__in=BUSINESS_CORE_MODELS
    )


def is_business_permission(perm: str) -> bool:
    app, codename = perm.split(".", 1)
    return app not in PLATFORM_APPS or (app == "core" and codename.split("_", 1)[1] in BUSINESS_CORE_MODELS)


def definition_permissions(definition: RoleDefinition) -> list[Permission]:
    perms = list(
        Permission.objects.filter(
            content_type__app_label__in=[p.split(".")[0] for p in definition.platform_perms],
            codename__in=[p.split(".")[1] for p in definition.platform_perms],
        ).select_related("content_type")
    )
    perms = [p for p in perms if f"{p.content_type.app_label}.{p.codename}" in definition.platform_perms]
    if definition.business_actions:
        business = Permission.objects.filter(business_permissions_q()).select_related("content_type")
        for perm in business:
            model = perm.content_type.model_class()
            configuration = getattr(model, "city_configuration", False)
            allowed = definition.configuration_actions if configuration else definition.business_actions
            action = perm.codename.split("_", 1)[0]
            if action in allowed and action in definition.business_actions:
                perms.append(perm)
    return perms


@transaction.atomic
def sync_builtin_roles() -> None:
    """Create the built-in roles and add any permission their rules now cover.

    Never removes a permission, and never re-adds one a security administrator revoked.
    """
    from rencai.core.models import Role

    for definition in BUILTIN_ROLES:
        role, _created = Role.objects.get_or_create(
            code=definition.code,
            defaults={
                "name": definition.name,
                "description": definition.description,
                "duty": definition.duty,
                "all_regions": definition.all_regions,
                "can_view_personal": definition.can_view_personal,
                "is_builtin": True,
            },
        )
        revoked = set(role.revoked_permissions)
        wanted = [p for p in definition_permissions(definition) if f"{p.content_type.app_label}.{p.codename}" not in revoked]
        have = set(role.permissions.values_list("id", flat=True))
        missing = [p for p in wanted if p.id not in have]
        if missing:
            role.permissions.add(*missing)


def check_duties(roles) -> None:
    """Refuse a set of roles that combines two administrator duties (三员分立)."""
    duties = {role.duty for role in roles if role.duty}
    if len(duties) > 1:
        raise ValidationError(
            _("系统管理员、安全管理员、审计管理员三种职责须由不同账户担任，不能由同一账户兼任。"),
            code="duties_combined",
        )
    if duties and any(not role.duty and role.permissions.filter(business_permissions_q()).exists() for role in roles):
        raise ValidationError(
            _("管理员账户不能同时担任查看人才数据的业务角色。"), code="duty_with_business",
        )


def duty_permissions(duty: str) -> set[str]:
    """The platform permissions an administrator duty may hold: those of its built-in role.

    Keeps the three duties apart even when roles are edited (an 审计管理员 role cannot be given
    user management, a 系统管理员 role cannot read the audit log).
    """
    return {perm for definition in BUILTIN_ROLES if definition.duty == duty for perm in definition.platform_perms}
