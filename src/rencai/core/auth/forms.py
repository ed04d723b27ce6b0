"""Forms of sign-in, passwords, two-factor enrolment, user and role management.

Forms only validate; the changes are made by ``core.services.accounts``.
"""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from rencai.core.models import Region, Role, User
from rencai.core.roles import business_permissions_q, is_business_permission
from rencai.core.services.accounts import perm_label, validate_role_set

ACTION_LABELS = {"view": _("查看"), "add": _("新增"), "change": _("修改"), "delete": _("删除")}
# Apps whose permissions mean nothing in rencai (Django's own machinery).
HIDDEN_PERMISSION_APPS = {"auth", "contenttypes", "sessions", "admin"}


class StyledFormMixin:
    """Tabler's classes on every widget, and the invalid mark on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class SignInForm(StyledFormMixin, forms.Form):
    username = forms.CharField(
        label=_("用户名"), max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("密码"), strip=False, max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label=_("验证码"), max_length=8, min_length=6,
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True,
        }),
        help_text=_("打开手机上的身份验证器应用，输入其中显示的 6 位数字。"),
    )


class ChangePasswordForm(StyledFormMixin, PasswordChangeForm):
    """Django's form (old password, new twice, the configured policy) plus: not the same again."""

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("new_password1")
        if password and not self.has_error("new_password2") and self.user.check_password(password):
            self.add_error("new_password2", ValidationError(_("新密码不能与当前密码相同。"), code="password_unchanged"))
        return cleaned


def deployment_regions(keep=()):
    """The regions staff of this installation are assigned: the city and every region under it.

    The national code table has thousands of rows; a county officer of 运城 is never given
    海淀区. Regions already assigned (``keep``) stay offered so an edit does not drop them.
    """
    city = f"/{settings.CITY_CODE}/"
    regions = Region.objects.filter(is_active=True)
    if regions.filter(path__contains=city).exists():
        regions = Region.objects.filter(Q(is_active=True, path__contains=city) | Q(pk__in=list(keep)))
    # The city first, then its counties, then the zones under them, each by code.
    return regions.order_by(Length("path"), "code")


class RegionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return obj.name


class RoleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Role) -> str:
        return obj.name


class UserForm(StyledFormMixin, forms.ModelForm):
    """Add or edit an account: contact details, roles and the regions it covers."""

    roles = RoleChoiceField(
        label=_("角色"), queryset=Role.objects.order_by("id"), required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("系统管理员、安全管理员、审计管理员三种职责须由不同账户担任，且不能兼任业务角色。"),
    )
    regions = RegionChoiceField(
        label=_("负责地区"), queryset=Region.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("包含其下级地区：分配运城市即可查看全市各县。"),
    )

    class Meta:
        model = User
        fields = ["username", "full_name", "email", "phone", "roles", "regions"]
        widgets = {
            "username": forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        keep = self.instance.regions.values_list("pk", flat=True) if self.instance.pk else ()
        self.fields["regions"].queryset = deployment_regions(keep)
        if self.instance.pk:
            # A username is the audit trail's name for a person: it does not change.
            del self.fields["username"]
        self.fields["full_name"].required = True

    def clean(self):
        cleaned = super().clean()
        roles = list(cleaned.get("roles") or [])
        try:
            validate_role_set(roles)
        except ValidationError as exc:
            self.add_error("roles", exc)
        regional = [r for r in roles if not r.duty and not r.all_regions]
        if regional and not cleaned.get("regions"):
            self.add_error(
                "regions",
                _("角色“%(role)s”只能查看所分配地区的数据，请至少选择一个地区。") % {"role": regional[0].name},
            )
        return cleaned

def permission_queryset():
    return (
        Permission.objects.exclude(content_type__app_label__in=HIDDEN_PERMISSION_APPS)
        .select_related("content_type")
        .order_by("content_type__app_label", "content_type__model", "id")
    )


def permission_groups(permissions, checked: set[int]) -> list[dict]:
    """Permissions grouped by app, then model, with their actions in a fixed order."""
    by_model: dict[tuple[str, str], list] = defaultdict(list)
    for perm in permissions:
        by_model[(perm.content_type.app_label, perm.content_type.model)].append(perm)
    groups: dict[str, dict] = {}
    for (app_label, model_name), perms in by_model.items():
        try:
            app_name = str(apps.get_app_config(app_label).verbose_name)
        except LookupError:
            app_name = app_label
        model = apps.get_model(app_label, model_name) if _model_exists(app_label, model_name) else None
        model_name_label = str(model._meta.verbose_name) if model else model_name
        group = groups.setdefault(app_label, {"label": app_name, "models": []})
        row = {"label": model_name_label, "actions": {}, "others": []}
        for perm in perms:
            action = perm.codename.split("_", 1)[0]
            item = {
                "id": perm.pk, "label": perm_label(perm), "checked": perm.pk in checked,
                "business": is_business_permission(perm_label(perm)),
                "name": str(ACTION_LABELS.get(action, perm.name)),
            }
            if action in ACTION_LABELS and perm.codename == f"{action}_{model_name}":
                row["actions"][action] = item
            else:
                item["name"] = perm.name
                row["others"].append(item)
        row["cells"] = [row["actions"].get(action) for action in ACTION_LABELS]
        row["business"] = any(is_business_permission(perm_label(perm)) for perm in perms)
        group["models"].append(row)
    return list(groups.values())


def _model_exists(app_label: str, model_name: str) -> bool:
    try:
        apps.get_model(app_label, model_name)
    except LookupError:
        return False
    return True


class RoleForm(StyledFormMixin, forms.ModelForm):
    """A role's permissions (checkboxes grouped by app and model), region scope and clearance."""

    permissions = forms.ModelMultipleChoiceField(
        label=_("权限"), queryset=permission_queryset(), required=False, widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Role
        fields = ["all_regions", "can_view_personal", "permissions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.duty:
            # A duty role is never offered business data; the service refuses it all the same.
            self.fields["permissions"].queryset = permission_queryset().exclude(business_permissions_q())

    def clean_permissions(self):
        perms = self.cleaned_data["permissions"]
        business = sorted(perm_label(p) for p in perms if is_business_permission(perm_label(p)))
        if self.instance.duty and business:
            raise ValidationError(_("管理员角色（三员）不能拥有业务数据权限。"), code="duty_with_business")
        return perms

    def grouped_permissions(self) -> list[dict]:
        if self.is_bound:
            checked = {int(v) for v in self.data.getlist("permissions") if str(v).isdigit()}
        else:
            checked = set(self.instance.permissions.values_list("pk", flat=True)) if self.instance.pk else set()
        return permission_groups(self.fields["permissions"].queryset, checked)

def password_policy_help() -> list[str]:
    return password_validation.password_validators_help_texts()
