"""The plan workbook, the iCalendar feed and the map layer: formats checked by independent readers, access by role."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import icalendar
import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from infra.maintenance.calendar import feed_key
from infra.maintenance.models import Condition, ResponsibleKind, TaskKind
from infra.maintenance.services import inspection_create, schedule_create
from infra.works.choices import Category, Stage
from infra.works.services import work_create

pytestmark = pytest.mark.django_db


def _vi(message: str) -> str:
    with translation.override("vi"):
        return gettext(message)


# How the feed (in Vietnamese, the default language) introduces a cost.
COST = _vi("Estimated cost: %(cost)s VND").split("%(cost)s")[0]


@pytest.fixture
def register(road, other_road, make_work, people):
    """Overdue routine tasks on two roads, a risky name, an unpublished work with a task, a bridge in poor condition."""
    hostile = make_work(code="EVIL-1", name="=HYPERLINK(\"http://x\";\"bấm\")", category=Category.HEALTH)
    bridge = make_work(code="CAU-1", category=Category.BRIDGE, households=30, poor=5)
    centre = Point(103.36, 22.53, srid=4326)
    hidden = work_create(user=people["board"], code="DX-1", name="Đề xuất chưa công bố", category=Category.HEALTH,
                         geometry=centre, approved_year=2026, stage=Stage.PROPOSED, stage_date=date(2026, 1, 5))
    today = timezone.localdate()
    for work, starts, cost in ((road, date(2025, 1, 31), 30_000_000), (other_road, today + timedelta(days=6), 20_000_000),
                               (hostile, today + timedelta(days=60), 1_000_000), (hidden, today + timedelta(days=90), 7_000_000)):
        schedule_create(user=people["planner"], work=work, task_kind=TaskKind.ROUTINE, interval_months=3, starts_on=starts,
                        responsible=ResponsibleKind.COMMUNE_COMMITTEE, estimated_cost=cost, description="-chạy; =1+1")
    inspection_create(user=people["planner"], work=bridge, inspected_on=date(2026, 3, 2), inspector="X",
                      condition=Condition.FAILED)
    return {"road": road, "other_road": other_road, "hostile": hostile, "bridge": bridge, "hidden": hidden}


# ---- XLSX -------------------------------------------------------------------------------------------

def test_the_plan_workbook_has_numbers_as_numbers_a_frozen_filtered_header_and_no_formulas(client, people, register):
    client.force_login(people["auditor"])
    year = timezone.localdate().year + 1
    response = client.get(f"/maintenance/plan.xlsx?year={year}&budget=100000000")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="maintenance-plan-{year}.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:Q{sheet.max_row}"
    header = [cell.value for cell in sheet[1]]
    rows = [dict(zip(header, (cell for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 4  # three routine tasks on works in use and the failed bridge's repair
    # the proposed work's task is not planned: it is on a sheet of its own
    assert [row[0] for row in book.worksheets[2].iter_rows(min_row=2, values_only=True)] == ["DX-1"]
    cost_header = header[11]
    for row in rows:
        cell = row[cost_header]
        assert cell.data_type == "n" and isinstance(cell.value, int)
        assert "#,##0" in cell.number_format
        assert row[header[8]].is_date
    # nothing in the workbook is a formula; risky text is kept as text, as it was written, marked with the quote prefix
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
    names = [row[header[3]].value for row in rows]
    assert "=HYPERLINK(\"http://x\";\"bấm\")" in names
    assert any(row[header[6]].value == "-chạy; =1+1" and row[header[6]].quotePrefix for row in rows)
    summary = book.worksheets[1]
    assert summary.cell(row=4, column=2).value == 100_000_000 and summary.cell(row=4, column=2).data_type == "n"


@pytest.mark.parametrize(("who", "status"), [("planner", 200), ("board", 200), ("auditor", 200), ("officer", 403)])
def test_workbook_access_by_role(client, people, register, who, status):
    client.force_login(people[who])
    assert client.get("/maintenance/plan.xlsx?year=2027&budget=1").status_code == status


def test_the_public_gets_no_workbook(client, register):
    assert client.get("/maintenance/plan.xlsx?year=2027&budget=1").status_code == 302


@pytest.mark.parametrize("query", ["year=2027&budget=-1", "year=x&budget=1", "year=2101&budget=1", "budget=1",
                                   "year=2027&budget=1&commune=nope!"])
def test_a_bad_workbook_request_is_a_400_saying_why(client, people, register, query):
    client.force_login(people["planner"])
    response = client.get(f"/maintenance/plan.xlsx?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain") and response.content.strip()


# ---- iCalendar --------------------------------------------------------------------------------------

def parse_ics(data: bytes) -> list[dict]:
    """A minimal RFC 5545 reader, independent of the icalendar library: check framing, unfold, split, nest."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")  # CRLF line ends only
    physical = text.split("\r\n")[:-1]
    assert all(len(line.encode("utf-8")) <= 75 for line in physical)     # folded at 75 octets
    logical: list[str] = []
    for line in physical:
        if line[:1] in (" ", "\t"):
            logical[-1] += line[1:]                                        # unfold
        else:
            logical.append(line)
    stack: list[dict] = []
    done: list[dict] = []
    for line in logical:
        match = re.match(r"^([A-Za-z0-9-]+)((?:;[^:]*)?):(.*)$", line)
        assert match, line
        name, params, value = match.group(1).upper(), match.group(2), match.group(3)
        if name == "BEGIN":
            stack.append({"type": value, "props": {}, "params": {}})
        elif name == "END":
            component = stack.pop()
            assert component["type"] == value
            done.append(component)
        else:
            stack[-1]["props"].setdefault(name, []).append(value)
            stack[-1]["params"][name] = params
    assert not stack
    return done


def _unescape(value: str) -> str:
    return value.replace("\\n", "\n").replace("\\N", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


def test_the_public_feed_parses_and_shows_published_works_without_costs(client, register):
    response = client.get("/maintenance/calendar.ics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    components = parse_ics(response.content)
    calendar = components[-1]
    assert calendar["type"] == "VCALENDAR" and calendar["props"]["VERSION"] == ["2.0"] and calendar["props"]["PRODID"]
    events = [c for c in components if c["type"] == "VEVENT"]
    summaries = [_unescape(e["props"]["SUMMARY"][0]) for e in events]
    assert len(events) == 4  # three public routine tasks and the bridge's repair; the unpublished work's task is not there
    assert not any("DX-1" in s for s in summaries)
    for event in events:
        for required in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
            assert required in event["props"]
        assert event["params"]["DTSTART"] == ";VALUE=DATE" and re.fullmatch(r"\d{8}", event["props"]["DTSTART"][0])
        assert COST not in _unescape(event["props"]["DESCRIPTION"][0])
    assert len({e["props"]["UID"][0] for e in events}) == 4
    # and the library that calendar apps share reads it the same way
    parsed = icalendar.Calendar.from_ical(response.content)
    assert len(parsed.walk("VEVENT")) == 4


def test_uids_are_stable_and_the_due_date_is_the_tasks(client, register):
    first = parse_ics(client.get("/maintenance/calendar.ics").content)
    second = parse_ics(client.get("/maintenance/calendar.ics").content)
    uids = [e["props"]["UID"][0] for e in first if e["type"] == "VEVENT"]
    assert uids == [e["props"]["UID"][0] for e in second if e["type"] == "VEVENT"]
    assert all(re.fullmatch(r"schedule-\d+@maintenance\.phong-tho-infra", uid) for uid in uids)
    road = next(e for e in first if e["type"] == "VEVENT" and "ROAD-PT" in e["props"]["SUMMARY"][0])
    assert road["props"]["DTSTART"] == ["20250131"] and road["props"]["DTEND"] == ["20250201"]
    assert road["props"]["GEO"][0].count(";") == 1  # latitude;longitude


def test_a_planners_personal_feed_shows_everything_with_costs_without_a_session(client, people, register):
    key = feed_key(people["planner"])
    response = client.get(f"/maintenance/calendar.ics?key={key}")
    events = [c for c in parse_ics(response.content) if c["type"] == "VEVENT"]
    assert len(events) == 5
    assert any(f"{COST}30.000.000" in _unescape(e["props"]["DESCRIPTION"][0]) for e in events)
    assert response["Cache-Control"].startswith("private")


def test_a_commune_officers_feed_shows_costs_of_their_own_works_only(client, people, register):
    client.force_login(people["officer"])
    events = [c for c in parse_ics(client.get("/maintenance/calendar.ics").content) if c["type"] == "VEVENT"]
    costs = {e["props"]["SUMMARY"][0].split(":")[0]: COST in _unescape(e["props"]["DESCRIPTION"][0]) for e in events}
    assert costs["ROAD-PT"] is True and costs["ROAD-DS"] is False


def test_a_key_is_revoked_by_a_password_change(client, people, register):
    planner = people["planner"]
    key = feed_key(planner)
    planner.set_password("mật khẩu mới rất dài")
    planner.save()
    assert client.get(f"/maintenance/calendar.ics?key={key}").status_code == 403
    assert client.get("/maintenance/calendar.ics?key=forged").status_code == 403


def test_the_feed_per_commune_and_a_bad_commune(client, register):
    events = [c for c in parse_ics(client.get("/maintenance/calendar.ics?commune=03571").content) if c["type"] == "VEVENT"]
    assert [e["props"]["SUMMARY"][0].split(":")[0] for e in events] == ["ROAD-DS"]
    response = client.get("/maintenance/calendar.ics?commune=xx@2025-99-99")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/plain")


# ---- the map layer ----------------------------------------------------------------------------------

def test_the_layer_marks_overdue_due_soon_and_poor_condition(client, people, register):
    client.force_login(people["planner"])
    features = {f["properties"]["code"]: f for f in client.get("/maintenance/layer.geojson").json()["features"]}
    assert set(features) == {"ROAD-PT", "CAU-1", "ROAD-DS"}  # EVIL-1 falls due in 60 days: not yet "soon"
    assert features["ROAD-DS"]["properties"]["status"] == "due_soon"
    assert features["ROAD-PT"]["properties"]["status"] == "overdue"
    assert features["ROAD-PT"]["properties"]["overdue_tasks"] == 1
    assert features["ROAD-PT"]["properties"]["next_due"] == "2025-01-31"
    assert features["CAU-1"]["properties"]["status"] == "poor_condition"
    assert features["CAU-1"]["properties"]["condition"] == "failed"
    assert features["ROAD-PT"]["geometry"]["type"] == "LineString"
    assert features["ROAD-PT"]["properties"]["is_demo"] is False


def test_due_soon_is_within_thirty_days(client, people, road):
    soon = timezone.localdate() + timedelta(days=30)
    schedule_create(user=people["planner"], work=road, task_kind=TaskKind.ROUTINE, interval_months=3, starts_on=soon,
                    responsible=ResponsibleKind.COMMUNITY)
    features = client.get("/maintenance/layer.geojson").json()["features"]
    assert [(f["properties"]["code"], f["properties"]["status"], f["properties"]["due_soon_tasks"]) for f in features] == [
        ("ROAD-PT", "due_soon", 1)]


def test_the_public_layer_shows_published_works_only(client, people, register):
    inspection_create(user=people["planner"], work=register["hidden"], inspected_on=date(2026, 3, 2), inspector="X",
                      condition=Condition.POOR)
    public = {f["properties"]["code"] for f in client.get("/maintenance/layer.geojson").json()["features"]}
    client.force_login(people["board"])
    board = {f["properties"]["code"] for f in client.get("/maintenance/layer.geojson").json()["features"]}
    assert "DX-1" not in public and "DX-1" in board and "ROAD-PT" in public


def test_a_bad_commune_on_the_layer_is_a_400(client, register):
    response = client.get("/maintenance/layer.geojson?commune=abc!")
    assert response.status_code == 400 and "commune" in response.json()["errors"]
