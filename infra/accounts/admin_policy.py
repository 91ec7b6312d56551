"""Admin permissions = Django's model permissions AND the access policy (infra.accounts.policy)."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from gis.admin import FoldedSearchMixin
from infra.accounts.policy import Action, can, works_visible
from infra.dates import DateField
from infra.numbers import WholeNumberField

__all__ = ["PolicyAdminMixin"]


class _WholeNumberWidget(forms.TextInput):
    """A text box as wide as the admin's box for big integers (its own is a number box, which refuses 1.500.000)."""

    def __init__(self, attrs: dict | None = None):
        super().__init__({"class": "vBigIntegerField", **(attrs or {})})


# Every admin form (the mixin below, and its inlines): integer columns (money, counts,
# percentages, years) read as written or refused, never "150.000" as 150 (infra.numbers); dates from 1900 to
# 2100 (infra.dates). The admin keeps its own entries for IntegerField and BigIntegerField, and a model field
# takes the first entry along its classes: both are named.
_WHOLE_NUMBER = {"form_class": WholeNumberField, "widget": _WholeNumberWidget}
_FORM_FIELDS = {models.IntegerField: _WHOLE_NUMBER, models.BigIntegerField: _WHOLE_NUMBER,
               models.DateField: {"form_class": DateField, "widget": AdminDateWidget}}


class PolicyAdminMixin(FoldedSearchMixin):
    """Narrow an admin to what the policy allows (and search it with case and Vietnamese marks aside).

    `work_path` leads from the model to its work ("" for Work itself, None when the model is not
    about one work); lists show only rows of works the person may see, and adds and changes are
    allowed only where the policy allows the action for that work. Nothing is deleted from the
    admin: history must stay whole, and corrections are new records.
    """

    policy_add: Action | None = None
    policy_change: tuple[Action, ...] = ()
    formfield_overrides = _FORM_FIELDS
    work_path: str | None = "work"

    def _work_of(self, obj: Any) -> Any:
        if obj is None or self.work_path is None:
            return None
        return obj if self.work_path == "" else getattr(obj, self.work_path, None)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.work_path is None:
            return queryset
        if self.work_path == "":
            return works_visible(request.user, queryset)
        # Rows tied to no work (an allocation to a programme line) follow the model permissions alone.
        return queryset.filter(Q(**{f"{self.work_path}__in": works_visible(request.user)}) | Q(**{f"{self.work_path}__isnull": True}))

    def has_add_permission(self, request, *args):
        return (self.policy_add is not None and can(request.user, self.policy_add)
                and super().has_add_permission(request, *args))

    def has_change_permission(self, request, obj=None):
        target = self._work_of(obj)
        allowed = any(can(request.user, action, target) for action in self.policy_change)
        return allowed and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def may_read_history(self, request, obj) -> bool:
        """The full history (gis.admin.HistoryAdmin's pages) is for those the policy lets read it, of this work."""
        return can(request.user, Action.HISTORY_READ, self._work_of(obj)) and self.has_view_permission(request, obj)

    def get_inline_instances(self, request, obj=None):
        # The inlines' forms read numbers and dates as the admin's own does, whichever app wrote the inline.
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            for field, options in _FORM_FIELDS.items():
                inline.formfield_overrides.setdefault(field, {}).update(options)
        return inlines

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Offer only works the person may see; the form check below covers the rest.
        if db_field.name == "work":
            kwargs["queryset"] = works_visible(request.user).order_by("code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def check_work_allowed(self, request, work: Any, action: Action | None) -> None:
        """Raise ValidationError unless the person may do `action` to this work."""
        if action is not None and work is not None and not can(request.user, action, work):
            raise ValidationError(_("You may not do this for work %(code)s.") % {"code": work.code})

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        admin = self
        action = self.policy_add if obj is None else (self.policy_change[0] if self.policy_change else None)

        class PolicyForm(form):
            def clean(self):
                data = super().clean()
                work = data.get("work") if admin.work_path == "work" else None
                try:
                    admin.check_work_allowed(request, work, action)
                except ValidationError as exc:
                    self.add_error(None, ValidationError(exc.messages))
                return data

        PolicyForm.__name__ = form.__name__
        return PolicyForm
