"""The 「API 令牌」 page: every signed-in user creates and revokes their own API tokens.

A new token is shown once, in the response to the POST that created it (never put in the session
or a message, never retrievable again); the page is not cached.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rencai.core.models import ApiToken
from rencai.core.services.tokens import MAX_TOKEN_DAYS, create_token, revoke_token, token_status, tokens_of


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("用途"), max_length=100, required=False,
        help_text=gettext_lazy("例如「数据同步脚本」，便于日后辨认。"),
    )
    days = forms.IntegerField(
        label=gettext_lazy("有效期（天）"), min_value=1, max_value=MAX_TOKEN_DAYS,
        help_text=gettext_lazy("到期后令牌自动失效，最长 %(max)d 天。") % {"max": MAX_TOKEN_DAYS},
    )


@login_required
@never_cache
def token_list(request):
    new_token = None
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                token, new_token = create_token(
                    request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"],
                    acting_user=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                form = TokenForm(initial={"days": settings.API_TOKEN_DEFAULT_DAYS})
    else:
        form = TokenForm(initial={"days": settings.API_TOKEN_DEFAULT_DAYS})
    now = timezone.now()
    tokens = [(token, token_status(token, now)) for token in tokens_of(request.user)]
    return render(request, "core/tokens/token_list.html", {
        "page_title": _("API 令牌"), "form": form, "tokens": tokens, "new_token": new_token,
    })


@login_required
@require_POST
def token_revoke(request, pk: int):
    # Only one's own tokens: another user's token id answers 404, like anything out of scope.
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if revoke_token(token, acting_user=request.user):
        messages.success(request, _("令牌 %(prefix)s… 已撤销，使用它的请求将被拒绝。") % {"prefix": token.prefix})
    return redirect("token_list")


urlpatterns = [
    path("tokens/", token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", token_revoke, name="token_revoke"),
]
