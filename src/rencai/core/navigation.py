"""The sidebar: each area registers its menu; an area a user has no permission for is hidden.

Apps call ``register_menu`` from their ``AppConfig.ready``; areas not built yet simply have no
entry, so nothing unfinished is ever shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    permission: str | None = None
    url_kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MenuGroup:
    key: str
    label: str
    icon: str
    items: tuple[MenuItem, ...]
    order: int = 100


_menu: dict[str, MenuGroup] = {}


def register_menu(group: MenuGroup) -> None:
    _menu[group.key] = group


def sidebar_for(request) -> list[dict]:
    """The groups and items the user may open, with the current one marked active."""
    user = request.user
    result = []
    for group in sorted(_menu.values(), key=lambda g: (g.order, g.key)):
        items = []
        for item in group.items:
            if item.permission and not user.has_perm(item.permission):
                continue
            try:
                url = reverse(item.url_name, kwargs=item.url_kwargs)
            except NoReverseMatch:
                continue
            items.append({"label": item.label, "url": url, "active": request.path.startswith(url) and url != "/"})
        if items:
            result.append({"key": group.key, "label": group.label, "icon": group.icon, "items": items,
                           "active": any(i["active"] for i in items)})
    return result
