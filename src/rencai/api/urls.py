"""Wiring of the REST API: one NinjaAPI under /api/, with a router from each area.

Each area of rencai serves its endpoints from its own ``api.py``, which defines ``router`` (a
ninja ``Router``) and, optionally, ``API_PREFIX`` (default ``"/<app label>/"``; ``core`` uses
``""`` so its reference data sits at /api/regions/ and so on)::

    # rencai/talents/api.py
    router = Router(tags=["人才"])

    @router.get("/", response=list[TalentOut])
    @paginate(KeysetPagination, ordering=("name",))
    def list_talents(request, filters: Query[TalentQuery]):
        return apply_filters(TalentFilterSet, filters, scoped(request, Talent), request.auth_user)

Installed apps are searched in ``INSTALLED_APPS`` order, so a new area needs no edit here. Every
operation requires a bearer token (``ApiTokenAuth``); the schema is at /api/openapi.json and the
docs at /api/docs, served from our own static files (no CDN).
"""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger
from ninja.renderers import JSONRenderer

from rencai.api import errors
from rencai.api.auth import ApiTokenAuth

DESCRIPTION = """人才工作平台的 REST 接口。

- 认证：在「API 令牌」页面或用 `rencai token create 用户名` 创建令牌，随每个请求发送
  `Authorization: Bearer <令牌>`。令牌代表其用户：权限和数据范围与网页端完全相同，
  超出数据范围的记录一律答 404。
- 列表：按游标分页，返回 `items` 与 `next`（下一页地址，为 null 表示已到最后一页）。
- 错误：一律为 JSON，`detail` 说明原因；校验错误（422）另有 `errors`，按字段列出。
- 个人信息（如手机号）按角色脱敏。
"""

class ReadableJSONRenderer(JSONRenderer):
    """UTF-8 JSON with Chinese as characters, not ``\\uXXXX`` escapes (readable in logs and curl)."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="人才工作平台 API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    auth=ApiTokenAuth(),
    renderer=ReadableJSONRenderer(),
    # Local swagger-ui from ninja's static files; no validator badge (it would call out).
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
)
errors.install(api)


def mount_app_routers(target: NinjaAPI) -> list[str]:
    """Add the ``router`` of every installed rencai app's ``api`` module; returns the modules."""
    mounted = []
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("rencai.") or not module_has_submodule(app_config.module, "api"):
            continue
        module = import_module(f"{app_config.name}.api")
        router = getattr(module, "router", None)
        if router is None:
            continue
        target.add_router(getattr(module, "API_PREFIX", f"/{app_config.label}/"), router)
        mounted.append(module.__name__)
    return mounted


mount_app_routers(api)
