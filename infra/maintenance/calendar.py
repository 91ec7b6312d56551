"""The maintenance calendar as an iCalendar feed (RFC 5545) that calendar apps subscribe to.

One all-day VEVENT per open task on its next due date; the UID names the task, so an app
updates the event in place when the task is done and its due date moves. Built with the
icalendar library, never by hand.

Who sees what: the public feed (no key) holds the tasks of published works, without costs.
A signed-in person's feed, or their personal subscription link (`?key=`, signed, revoked by a
change of password), holds what they may see, with costs for those who plan or manage them.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from infra.maintenance.models import ResponsibleKind, TaskKind
from infra.maintenance.selectors import CalendarTask
from infra.money import format_vnd

__all__ = ["UID_DOMAIN", "calendar_ics", "feed_key", "feed_user"]

UID_DOMAIN = "maintenance.phong-tho-infra"
_SALT = "infra.maintenance.calendar"
PRODID = "-//Phong Tho infrastructure works register//Maintenance calendar//VI"


def _password_tag(user) -> str:
    return salted_hmac(_SALT, user.password or "").hexdigest()[:16]


def feed_key(user) -> str:
    """Return a personal subscription key: the user's id, signed, tied to their current password."""
    return signing.dumps({"u": user.pk, "p": _password_tag(user)}, salt=_SALT, compress=True)


def feed_user(key: str):
    """Return the active user a key belongs to, or None for a key that is forged, stale or revoked."""
    try:
        data = signing.loads(key, salt=_SALT)
        user = get_user_model().objects.get(pk=data["u"], is_active=True)
    except (signing.BadSignature, KeyError, TypeError, ValueError, get_user_model().DoesNotExist):
        return None
    return user if data.get("p") == _password_tag(user) else None


def calendar_ics(tasks: list[CalendarTask], *, name: str, work_url: str, stamp: datetime) -> bytes:
    """Return the feed: one VEVENT per task. `work_url` has `{id}` for the work's page."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    # Ask subscribing apps to look again twice a day.
    calendar.add("refresh-interval", timedelta(hours=12), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT12H")
    for task in tasks:
        calendar.add_component(_event(task, work_url=work_url, stamp=stamp))
    return calendar.to_ical()


def _event(task: CalendarTask, *, work_url: str, stamp: datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"schedule-{task.schedule_id}@{UID_DOMAIN}")
    event.add("dtstamp", (task.revised or stamp).astimezone(UTC))
    event.add("dtstart", task.next_due)  # a date: an all-day event
    event.add("dtend", task.next_due + timedelta(days=1))
    task_label = str(TaskKind(task.task_kind).label)
    demo = f" ({_('demo')})" if task.is_demo else ""
    event.add("summary", f"{task.work_code}: {task_label} – {task.work_name}{demo}")
    lines = [task.description] if task.description else []
    lines.append(_("Responsible: %(who)s") % {"who": ResponsibleKind(task.responsible).label})
    if task.interval_months:
        lines.append(_("Every %(months)s months") % {"months": task.interval_months})
    else:
        lines.append(_("One-off task"))
    if task.estimated_cost is not None:
        lines.append(_("Estimated cost: %(cost)s VND") % {"cost": format_vnd(task.estimated_cost)})
    url = work_url.format(id=task.work_id)
    lines.append(url)
    event.add("description", "\n".join(lines))
    event.add("url", url)
    if task.commune:
        event.add("location", task.commune)
    if task.lat is not None and task.lon is not None:
        event.add("geo", (round(task.lat, 6), round(task.lon, 6)))  # RFC 5545 GEO is latitude;longitude
    event.add("categories", [task_label])
    event.add("transp", "TRANSPARENT")
    return event
