"""Template helpers of the shell: Tabler form fields and small display filters."""

from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("core/_field.html")
def form_field(field):
    """One form field the Tabler way: label (required ones marked), widget, error, help."""
    widget = field.field.widget
    return {
        "field": field,
        # One box beside its label; a list of boxes (CheckboxSelectMultiple) is laid out as a field.
        "is_checkbox": getattr(widget, "input_type", None) == "checkbox" and not getattr(widget, "allow_multiple_selected", False),
        "is_checkbox_list": getattr(widget, "input_type", None) == "checkbox" and getattr(widget, "allow_multiple_selected", False),
        "is_hidden": field.is_hidden,
    }


@register.filter
def attr(obj, name):
    """``{{ row|attr:"name" }}``: an attribute by a name held in a variable."""
    return getattr(obj, name, "")
