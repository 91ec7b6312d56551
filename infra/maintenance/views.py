"""Maintenance pages, exports, calendar feed and map layer.

Views stay thin: parse, ask the policy, call one selector or service, render.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from infra.accounts.pages import page_refusal
from infra.accounts.policy import Action, can
from infra.maintenance import services
from infra.maintenance.calendar import calendar_ics, feed_key, feed_user
from infra.maintenance.exports import plan_xlsx
from infra.maintenance.forms import (
    CloseForm,
    InspectionForm,
    RecordForm,
    ScheduleForm,
    add_service_errors,
    parse_commune,
    parse_plan_query,
)
from infra.maintenance.models import Inspection, Record, SavedPlan, Schedule, TaskKind
from infra.maintenance.planner import line_reasons
from infra.maintenance.saved import plan_changes, plan_save, saved_plan
from infra.maintenance.selectors import DUE_SOON_DAYS, calendar_tasks, maintenance_geojson, plan_for, plan_readable, tasks_due
from infra.works.models import Work
from infra.works.selectors import work_get_visible

PAGE_LINES = 500  # lines shown per table on the page; the workbook has them all
SCHEDULE_FIELDS = ("task_kind", "interval_months", "starts_on", "responsible", "estimated_cost", "description")


def _bad_request(error: ValidationError) -> HttpResponse:
    """A 400 for a file or feed: the reasons as plain text, one per line, in the person's language."""
    lines = [f"{field}: {message}" if field != "__all__" else message
             for field, found in error.message_dict.items() for message in found]
    return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")


@require_GET
def plan_view(request: HttpRequest) -> HttpResponse:
    """The yearly plan: ranked lines within the budget, why each ranks there, and what falls outside."""
    refused = page_refusal(request, plan_readable(request.user))
    if refused:
        return refused
    today = timezone.localdate()
    query = {name: request.GET.get(name, "")[:40] for name in ("year", "budget", "commune")}
    context = {"query": query, "default_year": today.year + 1, "due_soon_days": DUE_SOON_DAYS, "errors": {}, "plan": None,
               "calendar_url": _personal_calendar_url(request), "layer_url": reverse("maintenance:layer"),
               "may_export": can(request.user, Action.EXPORT)}
    if not query["year"] and not query["budget"]:
        context["due"] = tasks_due(user=request.user, within_days=DUE_SOON_DAYS, today=today)[:PAGE_LINES]
        context["has_demo"] = any(task.is_demo for task in context["due"])
        return render(request, "maintenance/plan.html", context)
    try:
        year, budget, commune = parse_plan_query(request.GET)
    except ValidationError as error:
        context["errors"] = error.message_dict
        return render(request, "maintenance/plan.html", context, status=400)
    plan = plan_for(user=request.user, year=year, budget=budget, commune=commune, today=today)
    context.update({
        **_plan_tables(plan, today=today), "commune": commune, "may_save": can(request.user, Action.MAINTENANCE_PLAN),
        # The workbook of this very plan: the values as read, not the query's text (cut for the form's boxes).
        "xlsx_url": f"{reverse('maintenance:plan-xlsx')}?"
                    f"{urlencode({'year': year, 'budget': budget, **({'commune': commune.code} if commune else {})})}",
    })
    return render(request, "maintenance/plan.html", context)


def _plan_tables(plan, *, today) -> dict:
    """What the plan's pages show of its lines: the first PAGE_LINES of each table, with why each ranks there."""

    def rows(lines):
        return [{"line": line, "task": TaskKind(line.candidate.task_kind).label,
                 "reasons": line_reasons(line, plan=plan, today=today)} for line in lines[:PAGE_LINES]]

    funded, outside = plan.funded, plan.outside
    return {"plan": plan, "funded": rows(funded), "outside": rows(outside),
            "truncated": len(funded) > PAGE_LINES or len(outside) > PAGE_LINES,
            "has_demo": any(line.candidate.is_demo for line in plan.lines)}


@require_http_methods(["GET", "POST"])
def plans_view(request: HttpRequest) -> HttpResponse:
    """The saved plans (GET), or save the plan of the year, budget and commune posted, as the data stand now (POST)."""
    if request.method == "POST":
        refused = page_refusal(request, can(request.user, Action.MAINTENANCE_PLAN))
        if refused:
            return refused
        try:
            year, budget, commune = parse_plan_query(request.POST)
            saved = plan_save(user=request.user, year=year, budget=budget, commune=commune, note=request.POST.get("note", ""))
        except ValidationError as error:
            return _bad_request(error)
        expected = request.POST.get("total", "")
        if expected and expected != str(saved.total):
            # Saved as the data stand now; the person looked at a plan whose total was different.
            messages.warning(request, _("The plan changed after you looked at it: it was saved as it is now. Check it below."))
        else:
            messages.success(request, _("Plan saved."))
        return redirect(reverse("maintenance:saved", args=[saved.pk]))
    refused = page_refusal(request, plan_readable(request.user))
    if refused:
        return refused
    plans = list(SavedPlan.objects.select_related("commune", "made_by").order_by("-made_at", "-id")[:PAGE_LINES + 1])
    return render(request, "maintenance/plans.html", {"plans": plans[:PAGE_LINES], "truncated": len(plans) > PAGE_LINES})


def _saved(request: HttpRequest, pk: int) -> SavedPlan | HttpResponse:
    refused = page_refusal(request, plan_readable(request.user))
    if refused:
        return refused
    found = SavedPlan.objects.select_related("commune", "made_by").filter(pk=pk).first()
    if found is None:
        raise Http404(_("No such saved plan."))
    return found


@require_GET
def saved_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A saved plan as it was saved, and what the plan made today with its inputs would change."""
    found = _saved(request, pk)
    if isinstance(found, HttpResponse):
        return found
    plan = saved_plan(found)
    # The plan made now over the same period (from the day it was saved): only what the data changed shows, not the
    # rounds a current year's plan loses as the year goes on.
    now = plan_for(user=request.user, year=found.year, budget=found.budget, commune=found.commune, today=found.as_of)
    changes = plan_changes(plan, now)
    context = {**_plan_tables(plan, today=found.as_of), "saved": found, "commune": found.commune, "now": now,
               "changes": changes[:PAGE_LINES], "changes_truncated": len(changes) > PAGE_LINES,
               "may_export": can(request.user, Action.EXPORT)}
    return render(request, "maintenance/saved.html", context)


@require_GET
def saved_xlsx_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A saved plan's workbook, from its stored lines."""
    found = _saved(request, pk)
    if isinstance(found, HttpResponse):
        return found
    if not can(request.user, Action.EXPORT):
        raise PermissionDenied
    commune = f"{found.commune.unit_type} {found.commune.name}" if found.commune else ""
    made = timezone.localtime(found.made_at).strftime("%d/%m/%Y %H:%M")
    label = _("#%(id)s, saved on %(when)s by %(who)s") % {"id": found.pk, "when": made, "who": found.made_by or "—"}
    content = plan_xlsx(saved_plan(found), today=found.as_of, commune=commune,
                        saved=f"{label}{': ' + found.note if found.note else ''}")
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="maintenance-plan-{found.year}-saved-{found.pk}.xlsx"'
    return response


@require_GET
def plan_xlsx_view(request: HttpRequest) -> HttpResponse:
    """The plan as an Excel workbook (year, budget and, optionally, commune in the query)."""
    refused = page_refusal(request, plan_readable(request.user) and can(request.user, Action.EXPORT))
    if refused:
        return refused
    try:
        year, budget, commune = parse_plan_query(request.GET)
    except ValidationError as error:
        return _bad_request(error)
    today = timezone.localdate()
    plan = plan_for(user=request.user, year=year, budget=budget, commune=commune, today=today)
    content = plan_xlsx(plan, today=today, commune=f"{commune.unit_type} {commune.name}" if commune else "")
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    suffix = f"-{commune.code}" if commune else ""
    # Year and code are checked (digits; [0-9A-Za-z]{1,16}), so they are safe in a header.
    response["Content-Disposition"] = f'attachment; filename="maintenance-plan-{year}{suffix}.xlsx"'
    return response


def _personal_calendar_url(request: HttpRequest) -> str:
    url = reverse("maintenance:calendar")
    return f"{url}?{urlencode({'key': feed_key(request.user)})}" if request.user.is_authenticated else url


@require_GET
def calendar_view(request: HttpRequest) -> HttpResponse:
    """The iCalendar feed of due tasks: public works without costs, or what a signed-in person (or their key) may see."""
    user = request.user
    if request.GET.get("key"):
        user = feed_user(request.GET["key"])
        if user is None:
            message = _("This subscription link is not valid any more; copy a new one from the maintenance page.")
            return HttpResponse(message + "\n", status=403, content_type="text/plain; charset=utf-8")
    try:
        commune = parse_commune(request.GET.get("commune"))
    except ValidationError as error:
        return _bad_request(error)
    tasks = calendar_tasks(user=user, commune=commune)
    name = _("Maintenance of works")
    if commune is not None:
        name = _("Maintenance of works: %(commune)s") % {"commune": f"{commune.unit_type} {commune.name}"}
    work_url = request.build_absolute_uri(reverse("works:detail", args=[0])).replace("/0/", "/{id}/")
    content = calendar_ics(tasks, name=name, work_url=work_url, stamp=timezone.now())
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="maintenance.ics"'
    # A personal feed must not sit in a shared cache.
    response["Cache-Control"] = "private, max-age=900" if user is not None and user.is_authenticated else "public, max-age=900"
    return response


@require_GET
def layer_view(request: HttpRequest) -> HttpResponse:
    """Works due soon, overdue or in poor condition, as GeoJSON built in the database."""
    try:
        commune = parse_commune(request.GET.get("commune"))
    except ValidationError as error:
        return JsonResponse({"errors": error.message_dict}, status=400, json_dumps_params={"ensure_ascii": False})
    response = HttpResponse(maintenance_geojson(user=request.user, commune=commune), content_type="application/geo+json")
    response["Cache-Control"] = "private, max-age=60"
    return response


_FORMS = {"inspection": InspectionForm, "record": RecordForm, "schedule": ScheduleForm, "close": CloseForm}


def _forms(work, *, data=None, files=None, action: str | None = None, editing: Schedule | None = None) -> dict:
    def make(name):
        bound = data if name == action else None
        kwargs = {"work": work} if name == "record" else {}
        if name == "schedule" and editing is not None and bound is None:
            kwargs["initial"] = {"schedule": editing.pk, "seen": services.schedule_state(editing),
                                 **{name: getattr(editing, name) for name in SCHEDULE_FIELDS}}
        return _FORMS[name](bound, files if name == action else None, prefix=name, **kwargs)

    return {name: make(name) for name in _FORMS}


def _work_schedule(work, pk) -> Schedule:
    try:
        return work.schedules.get(pk=pk)
    except (Schedule.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such task on this work.")) from None


def _write(request: HttpRequest, work, action: str, form) -> None:
    data = form.cleaned_data
    user = request.user
    if action == "inspection":
        inspection = services.inspection_create(
            user=user, work=work, inspected_on=data["inspected_on"], inspector=data["inspector"], condition=data["condition"],
            notes=data["notes"], photos=data["photos"] or [], repair_cost=data["repair_cost"])
        messages.success(request, _("Inspection recorded."))
        if inspection.proposed_repairs.exists():
            messages.warning(request, _("The condition calls for a repair: a repair task was proposed."))
    elif action == "record":
        services.record_create(user=user, work=work, done_on=data["done_on"], cost=data["cost"], description=data["description"],
                               schedule=data["schedule"])
        messages.success(request, _("Maintenance recorded."))
    elif action == "schedule":
        fields = {name: data[name] for name in SCHEDULE_FIELDS}
        if data.get("schedule"):
            services.schedule_update(user=user, schedule=_work_schedule(work, data["schedule"]), seen=data["seen"] or None,
                                     **fields)
        else:
            services.schedule_create(user=user, work=work, **fields)
        messages.success(request, _("Schedule saved."))
    else:
        schedule = _work_schedule(work, data["schedule"])
        services.schedule_close(user=user, schedule=schedule, on=data["closed_on"], note=data["note"])
        messages.success(request, _("Task closed."))


@require_http_methods(["GET", "POST"])
def work_view(request: HttpRequest, pk: int) -> HttpResponse:
    """One work's upkeep: tasks and when they are due, inspections, work done; forms for those who manage it."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        work = work_get_visible(user=request.user, pk=pk)
    except Work.DoesNotExist:
        raise Http404(_("No such work, or you may not see it.")) from None
    may_edit = can(request.user, Action.MAINTENANCE_EDIT, work)
    if not (may_edit or plan_readable(request.user)):
        raise PermissionDenied
    action = request.POST.get("action") if request.method == "POST" else None
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if action not in _FORMS:
            return HttpResponse(_("Unknown action.") + "\n", status=400, content_type="text/plain; charset=utf-8")
    editing = None
    if may_edit and request.GET.get("edit"):
        editing = _work_schedule(work, request.GET["edit"])
    forms = _forms(work, data=request.POST if action else None, files=request.FILES if action else None, action=action,
                   editing=editing)
    if action:
        form = forms[action]
        if form.is_valid():
            try:
                _write(request, work, action, form)
                return redirect(reverse("maintenance:work", args=[work.pk]))
            except ValidationError as error:
                add_service_errors(form, error)
        status = 400
    schedules = list(Schedule.objects.filter(work=work).select_related("proposed_by").order_by("closed_on", "task_kind", "id"))
    context = {
        "work": work, "may_edit": may_edit, "forms": forms, "action": action, "today": timezone.localdate(),
        "schedules": schedules, "has_demo": work.is_demo,
        "inspections": list(Inspection.objects.filter(work=work).prefetch_related("photos").order_by("-inspected_on", "-id")),
        "records": list(Record.objects.filter(work=work).select_related("schedule").order_by("-done_on", "-id")),
        "editing": editing,
    }
    return render(request, "maintenance/work.html", context, status=status)
