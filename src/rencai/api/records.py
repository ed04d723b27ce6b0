"""Read, create, change and delete of one model's records, declared once per model.

An area's API declares what differs — the response schema, the input schemas, how the record is
read with its relations, and the service calls that save and delete it — and gets the four
endpoints the rest of the API has by hand: ``GET``/``PATCH``/``DELETE /{id}`` and ``POST /``,
each authorised (permission, then scope: 404 outside it), writing in one transaction, with an
``ETag`` on what it answers and ``If-Match`` honoured (412 when stale)::

    add_record_endpoints(
        leads_router, Lead, out=LeadOut, create_in=LeadIn, patch_in=LeadPatch,
        read=lambda: Lead.objects.select_related("talent", "owner", "region"),
        save=_save_lead,                # (request, lead, payload) -> lead, through the service
        delete=services.delete_lead,    # (lead, *, user)
    )

Lists stay with each area: their filters and order are the model's own.

(No ``from __future__ import annotations``: ninja reads the annotations of the endpoints.)
"""

from collections.abc import Callable

from django.db import transaction
from django.http import HttpResponse
from ninja import Router, Schema, Status

from rencai.api.auth import get_in_scope, scoped
from rencai.api.locking import check_if_match, etag

VERBS = ("read", "create", "update", "delete")


def respond_with(response: HttpResponse, obj):
    """``obj`` as the answer, with its ``ETag``."""
    response["ETag"] = etag(obj)
    return obj


def add_record_endpoints(router: Router, model, *, out: type[Schema], read: Callable, save: Callable | None = None,
                         delete: Callable | None = None, create_in: type[Schema] | None = None,
                         patch_in: type[Schema] | None = None, verbs: tuple[str, ...] = VERBS) -> None:
    """Add ``verbs`` of ``model`` to ``router``: ``read()`` is the queryset a record is answered
    from, ``save(request, obj, payload)`` sets the fields sent and saves through the service,
    ``delete(obj, user=…)`` deletes through it."""
    name = model._meta.model_name
    noun = str(model._meta.verbose_name)

    def get_record(request, pk: int, response: HttpResponse):
        return respond_with(response, get_in_scope(request, read(), "view", pk=pk))

    def create_record(request, payload: create_in, response: HttpResponse):
        scoped(request, model, "add")
        with transaction.atomic():
            obj = save(request, model(), payload)
        return Status(201, respond_with(response, read().get(pk=obj.pk)))

    def update_record(request, pk: int, payload: patch_in, response: HttpResponse):
        """Changes only the fields sent; refused with 412 if the record changed since it was read
        (``If-Match``)."""
        with transaction.atomic():
            obj = get_in_scope(request, model.objects.select_for_update(), "change", pk=pk)
            check_if_match(request, obj)
            save(request, obj, payload)
        return respond_with(response, read().get(pk=obj.pk))

    def delete_record(request, pk: int):
        with transaction.atomic():
            obj = get_in_scope(request, model.objects.select_for_update(), "delete", pk=pk)
            check_if_match(request, obj)
            delete(obj, user=request.auth_user)
        return Status(204, None)

    routes = {
        "read": (router.get, "/{int:pk}", get_record, out, noun),
        "create": (router.post, "/", create_record, {201: out}, f"新增{noun}"),
        "update": (router.patch, "/{int:pk}", update_record, out, f"修改{noun}"),
        "delete": (router.delete, "/{int:pk}", delete_record, {204: None}, f"删除{noun}"),
    }
    for verb in verbs:
        method, path, view, response, summary = routes[verb]
        view.__name__ = f"{view.__name__.split('_')[0]}_{name}"
        method(path, response=response, summary=summary, operation_id=f"{model._meta.app_label}_{view.__name__}")(view)
