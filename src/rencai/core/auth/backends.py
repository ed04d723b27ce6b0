"""The authentication backend: usernames and passwords, permissions from roles.

An account holding an administrator duty gets only the permissions that duty allows (no business
permission, and none of another duty's), whatever else it holds: separation of duties (三员分立)
does not rest on roles being configured right.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

from rencai.core.roles import duty_permissions


class RoleBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        return user.is_active

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        cache = getattr(user_obj, "_rencai_perm_cache", None)
        if cache is None:
            rows = Permission.objects.filter(pk__in=user_obj.roles.values("permissions"))
            perms = {f"{app}.{codename}" for app, codename in rows.values_list("content_type__app_label", "codename")}
            for duty in user_obj.duties:
                perms &= duty_permissions(duty)
            cache = user_obj._rencai_perm_cache = perms
        return cache

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return any(p.startswith(f"{app_label}.") for p in self.get_all_permissions(user_obj))
