"""Account pages: sign-in (with the TOTP step), sign-out, one's own password and two-factor
device, user management (系统管理员), roles and the security policy (安全管理员).

Views parse and authorise, then call ``core.services.accounts``; a refused permission raises
PermissionDenied so the shared 403 handler audits it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from rencai.core import audit
from rencai.core.auth import signin, totp
from rencai.core.auth.filters import UserFilterSet
from rencai.core.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    RoleForm,
    SignInForm,
    UserForm,
    permission_groups,
)
from rencai.core.models import Role, User
from rencai.core.models.audit import AuditAction
from rencai.core.services import accounts as service

PENDING_KEY = "rencai_pending_signin"
PENDING_SECONDS = 300  # time allowed between the password and the TOTP code
ENROL_KEY = "rencai_totp_enrol_secret"
PLAIN = "core/base_plain.html"
SHELL = "core/base.html"


def permission_required(perm: str):
    """Signed in (else the login page) and holding ``perm`` (else 403, audited)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _next_url(request, default: str = "home") -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default)


def _no_store(response):
    """One-time passwords and TOTP secrets must not stay in a browser or proxy cache."""
    response["Cache-Control"] = "no-store"
    return response


# --- signing in and out ---------------------------------------------------------------------------
@sensitive_post_parameters("password")
@never_cache
def login_view(request):
    """Username and password; a wrong name and a wrong password get the same answer.

    An account with two-factor sign-in is not logged in here: the session only remembers who
    passed the password step, for ``totp_verify``.
    """
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_next_url(request))
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        attempt = signin.check_password(form.cleaned_data["username"], form.cleaned_data["password"])
        if attempt.error:
            error = attempt.error
        elif attempt.needs_totp:
            request.session.cycle_key()
            request.session[PENDING_KEY] = {"user": attempt.user.pk, "at": time.time(), "next": _next_url(request)}
            return redirect("totp_verify")
        else:
            signin.complete_sign_in(request, attempt.user)
            return redirect(_next_url(request))
    return render(request, "registration/login.html", {
        "form": form,
        "error": error,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "idle": request.GET.get("idle") == "1",
        "idle_minutes": settings.IDLE_TIMEOUT_MINUTES,
        "page_title": _("登录"),
    })


@sensitive_post_parameters("code")
@never_cache
def totp_verify(request):
    """The second step of signing in: a code from the authenticator app, each usable once."""
    pending = request.session.get(PENDING_KEY)
    user = None
    if pending and time.time() - pending["at"] <= PENDING_SECONDS:
        user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None or not user.totp_enabled:
        request.session.pop(PENDING_KEY, None)
        messages.warning(request, _("登录已超时，请重新输入用户名和密码。"))
        return redirect("login")
    if user.is_locked:
        request.session.pop(PENDING_KEY, None)
        messages.error(request, signin.locked_message(user.locked_until))
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if totp.consume_code(user, code):
            request.session.pop(PENDING_KEY, None)
            signin.complete_sign_in(request, user, method="密码和两步验证码")
            return redirect(pending["next"])
        replay = totp.is_replay(user, code)
        message = signin.register_failure(user, "两步验证码重复使用" if replay else "两步验证码错误")
        if user.is_locked:
            request.session.pop(PENDING_KEY, None)
            messages.error(request, message)
            return redirect("login")
        form.add_error(
            "code", _("该验证码已经使用过，请等待应用显示下一个验证码。") if replay else _("验证码不正确，请重新输入。")
        )
    return render(request, "registration/totp_verify.html", {"form": form, "pending_user": user, "page_title": _("两步验证")})


@require_POST
def logout_view(request):
    """Sign out by POST only, so a link or an image on another page cannot sign anyone out."""
    if request.user.is_authenticated:
        audit.record(AuditAction.LOGOUT, obj=request.user, actor=request.user, message="主动退出")
        logout(request)
        messages.success(request, _("您已安全退出。"))
    return redirect("login")


# --- one's own account ------------------------------------------------------------------------------
@login_required
def account(request):
    """我的账户: one's details, roles and regions, and the password and two-factor status."""
    user = request.user
    expires = None
    if settings.PASSWORD_MAX_AGE_DAYS and user.password_changed_at:
        expires = user.password_changed_at + timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)
    return render(request, "core/accounts/account.html", {
        "page_title": _("我的账户"), "account": user, "password_expires": expires,
        "roles": user.roles.all(), "regions": user.regions.all(),
    })


@sensitive_post_parameters()
@never_cache
@login_required
def password_change(request):
    """One's own new password; also the page the security gate sends forced and expired ones to."""
    user = request.user
    forced = user.must_change_password
    expired = user.password_expired
    form = ChangePasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        service.do_change_password(user, form.cleaned_data["new_password1"], acting_user=user)
        update_session_auth_hash(request, user)
        messages.success(request, _("密码已修改。"))
        return redirect(_next_url(request, "home" if forced or expired else "account"))
    return render(request, "registration/password_change.html", {
        "form": form, "forced": forced, "expired": expired, "plain": forced or expired,
        "base_template": PLAIN if forced or expired else SHELL,
        "max_age": settings.PASSWORD_MAX_AGE_DAYS, "page_title": _("修改密码"),
    })


@sensitive_post_parameters("code")
@never_cache
@login_required
def totp_setup(request):
    """Enrol an authenticator app (QR code drawn here, plus the secret as text), or turn it off."""
    user = request.user
    form = CodeForm(request.POST or None)
    if user.totp_enabled:
        if request.method == "POST" and form.is_valid():
            try:
                done = service.do_disable_totp(user, form.cleaned_data["code"], acting_user=user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if done:
                    messages.success(request, _("两步验证已关闭。"))
                    return redirect("account")
                form.add_error("code", _("验证码不正确或已使用过，请输入应用中显示的最新验证码。"))
        return _no_store(render(request, "core/accounts/totp_status.html", {
            "form": form, "page_title": _("两步验证"), "required": user.is_administrator,
        }))

    forced = user.is_administrator
    secret = request.session.get(ENROL_KEY)
    if not secret:
        secret = request.session[ENROL_KEY] = totp.new_secret()
    if request.method == "POST" and form.is_valid():
        if service.do_enable_totp(user, secret, form.cleaned_data["code"], acting_user=user):
            request.session.pop(ENROL_KEY, None)
            messages.success(request, _("两步验证已启用。今后登录时，输入密码后还需输入应用中的验证码。"))
            return redirect("home" if forced else "account")
        form.add_error("code", _("验证码不正确。请确认已扫描本页的二维码，并输入应用中显示的最新验证码。"))
    return _no_store(render(request, "core/accounts/totp_setup.html", {
        "form": form, "forced": forced, "plain": forced, "base_template": PLAIN if forced else SHELL, "page_title": _("启用两步验证"),
        "qr_svg": totp.qr_svg(totp.provisioning_uri(user, secret)), "secret": totp.grouped(secret),
    }))


# --- user management (系统管理员) -------------------------------------------------------------------
@permission_required("core.view_user")
def user_list(request):
    queryset = User.objects.prefetch_related("roles", "regions").order_by("username")
    filterset = UserFilterSet(request.GET or None, queryset=queryset)
    users = filterset.qs if filterset.is_bound else queryset
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "core/accounts/user_list.html", {
        "page_title": _("用户管理"), "filterset": filterset, "page": page, "query": params.urlencode(),
        "can_add": request.user.has_perm("core.add_user"),
    })


@permission_required("core.view_user")
def user_detail(request, pk: int):
    subject = get_object_or_404(User.objects.prefetch_related("roles", "regions"), pk=pk)
    return render(request, "core/accounts/user_detail.html", {
        "page_title": _("用户：%(name)s") % {"name": subject.username}, "subject": subject,
        "can_change": request.user.has_perm("core.change_user"),
    })


@sensitive_post_parameters()
@permission_required("core.add_user")
def user_add(request):
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subject, password = service.do_create_user(
                username=data["username"], full_name=data["full_name"], email=data["email"], phone=data["phone"],
                roles=data["roles"], regions=data["regions"], acting_user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _no_store(render(request, "core/accounts/user_password.html", {
                "page_title": _("账户已创建"), "subject": subject, "password": password, "created": True,
            }))
    return render(request, "core/accounts/user_form.html", {"page_title": _("新建用户"), "form": form})


@permission_required("core.change_user")
def user_edit(request, pk: int):
    subject = get_object_or_404(User, pk=pk)
    form = UserForm(request.POST or None, instance=subject)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service.do_update_user(
                subject, full_name=data["full_name"], email=data["email"], phone=data["phone"],
                roles=data["roles"], regions=data["regions"], acting_user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已保存用户 %(name)s。") % {"name": subject.username})
            return redirect("user_detail", pk=subject.pk)
    return render(request, "core/accounts/user_form.html", {
        "page_title": _("编辑用户：%(name)s") % {"name": subject.username}, "form": form, "subject": subject,
    })


USER_ACTIONS = {
    "disable": (_l("停用账户"), _l("停用后该账户不能登录，已登录的会话立即失效。"), "btn-danger",
                _l("已停用账户 %(name)s。")),
    "enable": (_l("启用账户"), _l("启用后该账户可以重新登录。"), "btn-primary", _l("已启用账户 %(name)s。")),
    "unlock": (_l("解除锁定"), _l("解除因连续登录失败造成的锁定。"), "btn-primary", _l("已解除账户 %(name)s 的锁定。")),
    "reset_password": (
        _l("重置密码"),
        _l("将生成一个新的一次性密码，仅显示一次；该用户下次登录时必须修改密码，已登录的会话立即失效。"),
        "btn-warning", "",
    ),
    "reset_totp": (
        _l("重置两步验证"), _l("删除该用户已绑定的身份验证器（例如手机丢失）。管理员账户下次登录时须重新绑定。"),
        "btn-warning", _l("已重置账户 %(name)s 的两步验证。"),
    ),
}


USER_ACTION_SERVICES = {
    "disable": service.do_disable_user,
    "enable": service.do_enable_user,
    "unlock": service.do_unlock_user,
    "reset_totp": service.do_reset_totp,
}


def _user_action(action: str):
    """A confirm-then-POST page for one account action (reset password shows the new one)."""
    title, explanation, button, done = USER_ACTIONS[action]

    @sensitive_post_parameters()
    @permission_required("core.change_user")
    def view(request, pk: int):
        subject = get_object_or_404(User, pk=pk)
        if request.method == "POST":
            try:
                if action == "reset_password":
                    password = service.do_reset_password(subject, acting_user=request.user)
                    return _no_store(render(request, "core/accounts/user_password.html", {
                        "page_title": _("密码已重置"), "subject": subject, "password": password, "created": False,
                    }))
                USER_ACTION_SERVICES[action](subject, acting_user=request.user)
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, done % {"name": subject.username})
            return redirect("user_detail", pk=subject.pk)
        return render(request, "core/accounts/user_confirm.html", {
            "page_title": f"{title}：{subject.username}", "subject": subject, "title": title,
            "explanation": explanation, "button": button,
        })

    view.__name__ = f"user_{action}"
    return view


# --- roles and the security policy (安全管理员) -------------------------------------------------------
@permission_required("core.view_role")
def role_list(request):
    roles = Role.objects.annotate(
        user_count=Count("users", distinct=True), permission_count=Count("permissions", distinct=True)
    ).order_by("id")
    return render(request, "core/accounts/role_list.html", {
        "page_title": _("角色与权限"), "roles": roles, "can_change": request.user.has_perm("core.change_role"),
    })


@permission_required("core.view_role")
def role_detail(request, pk: int):
    role = get_object_or_404(Role, pk=pk)
    granted = role.permissions.select_related("content_type").order_by(
        "content_type__app_label", "content_type__model", "id"
    )
    holders = role.users.order_by("username") if request.user.has_perm("core.view_user") else None
    return render(request, "core/accounts/role_detail.html", {
        "page_title": _("角色：%(name)s") % {"name": role.name}, "role": role,
        "groups": permission_groups(granted, {p.pk for p in granted}), "holders": holders,
        "can_change": request.user.has_perm("core.change_role"),
    })


@permission_required("core.change_role")
def role_edit(request, pk: int):
    role = get_object_or_404(Role, pk=pk)
    form = RoleForm(request.POST or None, instance=role)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            service.do_update_role(
                role, permissions=data["permissions"], all_regions=data["all_regions"],
                can_view_personal=data["can_view_personal"], acting_user=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已保存角色“%(name)s”。") % {"name": role.name})
            return redirect("role_detail", pk=role.pk)
    return render(request, "core/accounts/role_form.html", {
        "page_title": _("编辑角色：%(name)s") % {"name": role.name}, "role": role, "form": form, "groups": form.grouped_permissions(),
    })


@permission_required("core.view_role")
def security_policy(request):
    """The policy in force, read from the settings (changed by the operator, not on a page)."""
    min_length = min_classes = None
    similarity = common = False
    for validator in settings.AUTH_PASSWORD_VALIDATORS:
        name, options = validator["NAME"], validator.get("OPTIONS", {})
        if name.endswith("MinimumLengthValidator"):
            min_length = options.get("min_length", 8)
        elif name.endswith("CharacterClassValidator"):
            min_classes = options.get("min_classes", 3)
        elif name.endswith("UserAttributeSimilarityValidator"):
            similarity = True
        elif name.endswith("CommonPasswordValidator"):
            common = True
    return render(request, "core/accounts/security_policy.html", {
        "page_title": _("安全策略"),
        "min_length": min_length, "min_classes": min_classes, "similarity": similarity, "common": common,
        "max_age": settings.PASSWORD_MAX_AGE_DAYS, "lockout_attempts": settings.LOCKOUT_ATTEMPTS,
        "lockout_minutes": settings.LOCKOUT_MINUTES, "idle_minutes": settings.IDLE_TIMEOUT_MINUTES,
        "retention_days": settings.AUDIT_RETENTION_DAYS, "https": settings.HTTPS,
        "hasher": settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1].removesuffix("PasswordHasher"),
    })


urlpatterns = [
    path("accounts/login/", login_view, name="login"),
    path("accounts/login/verify/", totp_verify, name="totp_verify"),
    path("accounts/logout/", logout_view, name="logout"),
    path("accounts/", account, name="account"),
    path("accounts/password/", password_change, name="password_change"),
    path("accounts/two-factor/", totp_setup, name="totp_setup"),
    path("users/", user_list, name="user_list"),
    path("users/add/", user_add, name="user_add"),
    path("users/<int:pk>/", user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", user_edit, name="user_edit"),
    path("users/<int:pk>/disable/", _user_action("disable"), name="user_disable"),
    path("users/<int:pk>/enable/", _user_action("enable"), name="user_enable"),
    path("users/<int:pk>/unlock/", _user_action("unlock"), name="user_unlock"),
    path("users/<int:pk>/reset-password/", _user_action("reset_password"), name="user_reset_password"),
    path("users/<int:pk>/reset-two-factor/", _user_action("reset_totp"), name="user_reset_totp"),
    path("roles/", role_list, name="role_list"),
    path("roles/<int:pk>/", role_detail, name="role_detail"),
    path("roles/<int:pk>/edit/", role_edit, name="role_edit"),
    path("roles/policy/", security_policy, name="security_policy"),
]
