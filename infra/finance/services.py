"""Writes to the money: allocations and disbursements, and their reversals.

Rules, enforced here and again by the database (migration 0002's triggers):
- an allocation never takes a capital plan past its amount;
- a disbursement never takes an allocation past what it holds;
- no negative amounts, and no edits: a correction is a reversal row pointing at the original,
  so the old figure stays on the record.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from infra.finance.models import Allocation, CapitalPlan, Disbursement, ProgrammeNode
from infra.money import format_vnd
from infra.works.choices import Stage
from infra.works.models import Work

__all__ = [
    "allocation_available",
    "allocation_create",
    "allocation_reverse",
    "disbursement_create",
    "disbursement_reverse",
    "plan_unallocated",
]


def _positive(amount: int, field: str = "amount") -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise ValidationError({field: _("Amounts are whole numbers of VND.")})
    if amount <= 0:
        raise ValidationError({field: _("The amount must be more than zero.")})


def _not_future(day: date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})


def plan_unallocated(*, capital_plan: CapitalPlan) -> int:
    """Return what is left of a capital plan to allocate (reversals give money back)."""
    originals = capital_plan.allocations.filter(reverses__isnull=True).aggregate(t=Sum("amount"))["t"] or 0
    reversals = Allocation.objects.filter(reverses__capital_plan=capital_plan).aggregate(t=Sum("amount"))["t"] or 0
    return capital_plan.amount - originals + reversals


def _disbursed_net(allocation: Allocation) -> int:
    paid = allocation.disbursements.filter(reverses__isnull=True).aggregate(t=Sum("amount"))["t"] or 0
    returned = Disbursement.objects.filter(reverses__allocation=allocation).aggregate(t=Sum("amount"))["t"] or 0
    return paid - returned


def allocation_available(*, allocation: Allocation) -> int:
    """Return what can still be paid from an allocation (after its reversals and payments)."""
    reversed_amount = allocation.reversals.aggregate(t=Sum("amount"))["t"] or 0
    return allocation.amount - reversed_amount - _disbursed_net(allocation)


@transaction.atomic
def allocation_create(
    *,
    capital_plan: CapitalPlan,
    programme_line: ProgrammeNode,
    amount: int,
    allocated_on: date,
    user: AbstractBaseUser | None,
    work: Work | None = None,
    decision_number: str = "",
    note: str = "",
    is_demo: bool = False,
) -> Allocation:
    """Allocate part of a capital plan to a programme line and, usually, a work."""
    _positive(amount)
    _not_future(allocated_on, "allocated_on")
    # Lock the plan so two allocations cannot both pass the ceiling check.
    plan = CapitalPlan.objects.select_for_update().get(pk=capital_plan.pk)
    if work is not None and work.stage in (Stage.PROPOSED, Stage.CANCELLED):
        raise ValidationError({"work": _("Money can only be allocated to an approved, not cancelled, work.")})
    available = plan_unallocated(capital_plan=plan)
    if amount > available:
        raise ValidationError(
            {"amount": _("The allocation of %(amount)s VND exceeds what remains of the capital plan (%(available)s VND).")
             % {"amount": format_vnd(amount), "available": format_vnd(available)}}
        )
    allocation = Allocation(capital_plan=plan, programme_line=programme_line, work=work, amount=amount,
                            allocated_on=allocated_on, decision_number=decision_number.strip(), note=note.strip(),
                            recorded_by=user, is_demo=is_demo)
    allocation.full_clean()
    allocation._history_user = user
    allocation.save()
    return allocation


@transaction.atomic
def _as_stated(original: Allocation | Disbursement, stated: Mapping[str, Any] | None) -> None:
    """A reversal takes its target from the row it reverses (and a payment reversal its amount): refuse what a
    caller states otherwise (a form that asks for them), rather than store something else without a word."""
    errors = []
    for name, given in (stated or {}).items():
        kept = getattr(original, name)
        if given == kept:
            continue
        if name == "amount":
            errors.append(_("A payment reversal cancels the whole payment: its amount is %(amount)s VND, not %(given)s.")
                          % {"amount": format_vnd(kept), "given": format_vnd(given or 0)})
            continue
        errors.append(_("%(field)s: a reversal keeps that of the row it reverses (%(value)s); you gave %(given)s.")
                      % {"field": capfirst(original._meta.get_field(name).verbose_name),
                         "value": kept if kept is not None else "—", "given": given if given not in (None, "") else "—"})
    if errors:
        raise ValidationError(errors)


def allocation_reverse(
    *, allocation: Allocation, amount: int | None = None, on: date, reason: str, user: AbstractBaseUser | None,
    stated: Mapping[str, Any] | None = None,
) -> Allocation:
    """Take back (part of) an allocation with a new row; money already paid cannot be taken back. `stated`: what
    the caller says of the reversal's plan, line and work, which must be the original's (_as_stated)."""
    if not reason.strip():
        raise ValidationError({"note": _("Give the reason for the reversal.")})
    _not_future(on, "allocated_on")
    original = Allocation.objects.select_for_update().get(pk=allocation.pk)
    _as_stated(original, stated)
    if original.reverses_id:
        raise ValidationError(_("A reversal cannot itself be reversed; record a new allocation instead."))
    available = allocation_available(allocation=original)
    amount = available if amount is None else amount
    _positive(amount)
    if amount > available:
        raise ValidationError(
            {"amount": _("Only %(available)s VND of this allocation is unpaid and can be reversed.")
             % {"available": format_vnd(available)}}
        )
    reversal = Allocation(capital_plan=original.capital_plan, programme_line=original.programme_line, work=original.work,
                          amount=amount, allocated_on=on, decision_number=original.decision_number, reverses=original,
                          note=reason.strip(), recorded_by=user, is_demo=original.is_demo)
    # The decision number is the original's as stored (perhaps before its text was checked): the reversal must stay possible.
    reversal.full_clean(exclude=["decision_number"])
    reversal._history_user = user
    reversal.save()
    return reversal


@transaction.atomic
def disbursement_create(
    *,
    allocation: Allocation,
    amount: int,
    paid_on: date,
    voucher_number: str,
    user: AbstractBaseUser | None,
    note: str = "",
    is_demo: bool = False,
) -> Disbursement:
    """Record a payment against an allocation, within what the allocation still holds."""
    _positive(amount)
    _not_future(paid_on, "paid_on")
    if not voucher_number.strip():
        raise ValidationError({"voucher_number": _("A payment needs its voucher number.")})
    # Lock the allocation so two payments cannot both pass the ceiling check.
    locked = Allocation.objects.select_for_update().get(pk=allocation.pk)
    if locked.reverses_id:
        raise ValidationError({"allocation": _("Payments are made against an allocation, not against its reversal.")})
    if paid_on < locked.allocated_on:
        raise ValidationError({"paid_on": _("A payment cannot be dated before its allocation.")})
    available = allocation_available(allocation=locked)
    if amount > available:
        raise ValidationError(
            {"amount": _("The payment of %(amount)s VND exceeds what remains of the allocation (%(available)s VND).")
             % {"amount": format_vnd(amount), "available": format_vnd(available)}}
        )
    disbursement = Disbursement(allocation=locked, amount=amount, paid_on=paid_on, voucher_number=voucher_number.strip(),
                                note=note.strip(), recorded_by=user, is_demo=is_demo)
    disbursement.full_clean()
    disbursement._history_user = user
    disbursement.save()
    return disbursement


# A reversal's voucher number, when none is typed: the original's with "-HUY" (cancelled), kept within the column.
_REVERSAL_SUFFIX = "-HUY"


def _reversal_voucher(original: Disbursement) -> str:
    """"<voucher>-HUY", or -HUY2, -HUY3… when taken on the allocation, within the column's 80 characters."""
    length = Disbursement._meta.get_field("voucher_number").max_length
    for n in range(1, 100):
        suffix = _REVERSAL_SUFFIX + ("" if n == 1 else str(n))
        candidate = original.voucher_number[:length - len(suffix)] + suffix
        if not Disbursement.objects.filter(allocation_id=original.allocation_id, voucher_number=candidate).exists():
            return candidate
    raise ValidationError({"voucher_number": _("Type a voucher number for the reversal.")})


@transaction.atomic
def disbursement_reverse(
    *, disbursement: Disbursement, on: date, reason: str, voucher_number: str, user: AbstractBaseUser | None,
    stated: Mapping[str, Any] | None = None,
) -> Disbursement:
    """Cancel a payment with a new row of the same amount; the original stays on the record. `stated`: what the
    caller says of the reversal's allocation and amount, which must be the original's (_as_stated)."""
    if not reason.strip():
        raise ValidationError({"note": _("Give the reason for the reversal.")})
    _not_future(on, "paid_on")
    original = Disbursement.objects.select_for_update().get(pk=disbursement.pk)
    _as_stated(original, stated)
    if original.reverses_id:
        raise ValidationError(_("A reversal cannot itself be reversed; record a new payment instead."))
    if original.reversals.exists():
        raise ValidationError(_("This payment has already been reversed."))
    reversal = Disbursement(allocation=original.allocation, amount=original.amount, paid_on=on,
                            voucher_number=voucher_number.strip() or _reversal_voucher(original),
                            reverses=original,
                            note=reason.strip(), recorded_by=user, is_demo=original.is_demo)
    # A voucher number not typed is made from the original's as stored (free on the allocation, within the column),
    # whose characters must not stop the reversal.
    reversal.full_clean(exclude=[] if voucher_number.strip() else ["voucher_number"])
    reversal._history_user = user
    reversal.save()
    return reversal
