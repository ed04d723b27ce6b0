"""Automatic change logging: every save and delete of a change-logged model is audited.

Bulk paths (``bulk_create``, ``QuerySet.update``) send no signals; services that use them write
their own summary entry.
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save, pre_save
from django.dispatch import receiver

from rencai.core import audit
from rencai.core.models.audit import AuditAction
from rencai.core.models.base import ChangeLoggedModel, RencaiModel


def _is_logged(sender) -> bool:
    return isinstance(sender, type) and issubclass(sender, ChangeLoggedModel)


@receiver(pre_save)
def stamp_actor(sender, instance, raw=False, **kwargs):
    if raw or not (isinstance(sender, type) and issubclass(sender, RencaiModel)):
        return
    user = audit.current_actor().user
    if user is not None and getattr(user, "is_authenticated", False):
        if instance._state.adding and instance.created_by_id is None:
            instance.created_by = user
        instance.updated_by = user


@receiver(post_save)
def log_save(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw or not _is_logged(sender):
        return
    after = audit.snapshot(instance)
    if created:
        audit.record(AuditAction.CREATE, obj=instance, changes={k: [None, v] for k, v in after.items() if v not in (None, "", [], {})})
    else:
        loaded = getattr(instance, "_loaded_values", None)
        before = audit.snapshot(instance, loaded) if loaded is not None else {}
        if update_fields is not None:
            names = set(update_fields)
            after = {k: v for k, v in after.items() if k in names or k.removesuffix("_id") in names}
        changes = audit.diff(before, after)
        if not changes:
            return
        audit.record(AuditAction.UPDATE, obj=instance, changes=changes)
    # What is saved is what was loaded now: a second save logs only its own changes.
    instance._loaded_values = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@receiver(post_delete)
def log_delete(sender, instance, **kwargs):
    if not _is_logged(sender):
        return
    before = audit.snapshot(instance)
    audit.record(AuditAction.DELETE, obj=instance, changes={k: [v, None] for k, v in before.items() if v not in (None, "")})


@receiver(m2m_changed)
def log_m2m(sender, instance, action, model, pk_set, reverse, **kwargs):
    if reverse or action not in {"post_add", "post_remove", "post_clear"} or not isinstance(instance, ChangeLoggedModel):
        return
    field_name = next(
        (f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender), sender.__name__
    )
    labels = sorted(str(o) for o in model.objects.filter(pk__in=pk_set or ())) if pk_set else []
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    audit.record(AuditAction.UPDATE, obj=instance, changes={field_name: {verb: labels}})


@receiver(post_migrate)
def sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs):
    # Runs once per migrate, after the last app's permissions exist: post_migrate is sent for
    # the apps that have models only.
    from django.apps import apps

    with_models = [a for a in apps.get_app_configs() if a.models_module is not None]
    if app_config is None or app_config.label != with_models[-1].label:
        return
    from rencai.core.roles import sync_builtin_roles

    sync_builtin_roles()
