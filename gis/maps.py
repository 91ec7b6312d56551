"""Map symbols, and printable maps built with folium as one self-contained HTML file.

Pure: everything arrives as GeoJSON dicts and plain text (already translated by the caller);
nothing here knows about works, stages or who may see what. The file needs no network: Leaflet
is inlined from django-leaflet's static files and there is no tile layer unless one is asked for.
Text from data is escaped into static HTML; folium's own popups and tooltips are not used,
because they paste text into JavaScript template literals unescaped.
"""
from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import folium
from django.contrib.staticfiles import finders

__all__ = ["SHAPES", "LegendEntry", "PrintedFeature", "printable_map_html", "symbol_svg"]


def _regular(sides: int, radius: float = 1.0, start: float = -90.0) -> list[tuple[float, float]]:
    return [(round(radius * math.cos(math.radians(start + i * 360 / sides)), 3),
             round(radius * math.sin(math.radians(start + i * 360 / sides)), 3)) for i in range(sides)]


def _star(points: int = 5, inner: float = 0.45) -> list[tuple[float, float]]:
    outer = _regular(points)
    inner_points = _regular(points, inner, -90 + 180 / points)
    return [p for pair in zip(outer, inner_points, strict=True) for p in pair]


def _drop() -> list[tuple[float, float]]:
    # A tip above a circle, joined along the circle's tangents (y grows downwards, as on screen).
    centre_y, radius, tip = 0.3, 0.65, (0.0, -1.05)
    spread = math.degrees(math.acos(radius / (centre_y - tip[1])))
    start, end = -90 + spread, 270 - spread
    steps = 16
    arc = [(round(radius * math.cos(math.radians(start + (end - start) * i / steps)), 3),
            round(centre_y + radius * math.sin(math.radians(start + (end - start) * i / steps)), 3)) for i in range(steps + 1)]
    return [tip, *arc]


# Symbol outlines in a unit box centred on the point (y down); drawn by the web map's canvas and
# by the printable map's SVG alike, so the two always agree.
SHAPES: dict[str, list[tuple[float, float]]] = {
    "circle": _regular(20, 0.85),
    "square": [(-0.78, -0.78), (0.78, -0.78), (0.78, 0.78), (-0.78, 0.78)],
    "triangle": [(0.0, -1.0), (0.97, 0.75), (-0.97, 0.75)],
    "diamond": [(0.0, -1.05), (1.0, 0.0), (0.0, 1.05), (-1.0, 0.0)],
    "cross": [(-0.34, -1), (0.34, -1), (0.34, -0.34), (1, -0.34), (1, 0.34), (0.34, 0.34), (0.34, 1), (-0.34, 1),
              (-0.34, 0.34), (-1, 0.34), (-1, -0.34), (-0.34, -0.34)],
    "star": _star(),
    "drop": _drop(),
    "hexagon": _regular(6, 0.95, 0),
    "bolt": [(0.25, -1.05), (-0.7, 0.2), (-0.08, 0.2), (-0.3, 1.05), (0.7, -0.25), (0.08, -0.25)],
}


def symbol_svg(shape: str, *, fill: str, size: int = 18, stroke: str = "#1b1b1b") -> str:
    """Return an inline SVG of a symbol; `shape` and the colours come from code, never from data."""
    points = " ".join(f"{x:g},{y:g}" for x, y in SHAPES[shape])
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(size)}" height="{int(size)}" viewBox="-1.2 -1.2 2.4 2.4" '
            f'aria-hidden="true"><polygon points="{points}" fill="{html.escape(fill)}" stroke="{html.escape(stroke)}" '
            'stroke-width="0.18" stroke-linejoin="round"/></svg>')


@dataclass(frozen=True)
class LegendEntry:
    """A line of the legend: an SVG symbol (or a line sample) and its label."""

    label: str
    shape: str = ""
    colour: str = "#777"
    dash: str = ""


@dataclass(frozen=True)
class PrintedFeature:
    """A numbered feature of the printed map, with the row the table shows for it."""

    geometry: dict
    shape: str
    colour: str
    cells: Sequence[str] = field(default_factory=tuple)


def _leaflet_assets() -> tuple[str, str]:
    js_path, css_path = finders.find("leaflet/leaflet.js"), finders.find("leaflet/leaflet.css")
    if not js_path or not css_path:
        raise FileNotFoundError("django-leaflet's static files (leaflet/leaflet.js, leaflet/leaflet.css) were not found")
    js = Path(js_path).read_text(encoding="utf-8")
    css = Path(css_path).read_text(encoding="utf-8")
    # Inlined text must not close its own element early.
    return js.replace("</script", "<\\/script"), css.replace("</style", "<\\/style")


def _anchor(geometry: dict) -> tuple[float, float] | None:
    """Return a [lat, lon] where a feature's symbol goes: the point, a line's middle vertex, a polygon's ring centre."""
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if not coords:
        return None
    if kind == "Point":
        lon, lat = coords[:2]
    elif kind in ("MultiPoint", "LineString"):
        lon, lat = coords[len(coords) // 2][:2]
    elif kind in ("MultiLineString", "Polygon"):
        ring = max(coords, key=len)
        lon, lat = (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)) if kind == "Polygon" \
            else ring[len(ring) // 2][:2]
    elif kind == "MultiPolygon":
        ring = max((polygon[0] for polygon in coords), key=len)
        lon, lat = sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    else:
        return None
    return lat, lon  # Leaflet speaks [lat, lon]


def _bounds(collections: Iterable[dict]) -> list[list[float]] | None:
    xs, ys = [], []

    def walk(coords):
        if coords and isinstance(coords[0], (int, float)):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for item in coords or []:
                walk(item)

    for collection in collections:
        for feature in (collection or {}).get("features", []):
            walk((feature.get("geometry") or {}).get("coordinates"))
    if not xs:
        return None
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


_CSS = """
html, body { height: auto; }
body { display: flex; flex-direction: column; font-family: "Noto Sans", "Segoe UI", Roboto, sans-serif; color: #1b1b1b; }
.report-header { order: 0; padding: 8px 16px; } .report-header h1 { margin: 0; font-size: 20px; }
.report-header p { margin: 2px 0; font-size: 13px; }
.folium-map { order: 1; flex: none; border-top: 1px solid #999; border-bottom: 1px solid #999; }
.leaflet-control-scale-line + .leaflet-control-scale-line { display: none; } /* metric only */
.report-body { order: 2; padding: 8px 16px; font-size: 12px; }
.report-legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0; }
.report-legend span { display: inline-flex; align-items: center; gap: 4px; }
.report-table { border-collapse: collapse; width: 100%; }
.report-table th, .report-table td { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top; }
.report-table td.num { text-align: right; white-space: nowrap; }
.report-note { background: #fff3c4; border: 1px solid #e0c34a; padding: 4px 8px; }
.work-symbol { position: relative; } .work-symbol b { position: absolute; left: 17px; top: -3px; font: 700 11px sans-serif;
  color: #1b1b1b; text-shadow: 0 0 2px #fff, 0 0 2px #fff; }
@media print { .folium-map { break-inside: avoid; } }
"""


def _legend_html(entries: Sequence[LegendEntry]) -> str:
    items = []
    for entry in entries:
        if entry.shape:
            sample = symbol_svg(entry.shape, fill=entry.colour, size=14)
        else:
            dash = f' stroke-dasharray="{html.escape(entry.dash)}"' if entry.dash else ""
            sample = (f'<svg width="28" height="10" aria-hidden="true"><line x1="1" y1="5" x2="27" y2="5" '
                      f'stroke="{html.escape(entry.colour)}" stroke-width="3"{dash}/></svg>')
        items.append(f"<span>{sample}{html.escape(entry.label)}</span>")
    return f'<div class="report-legend">{"".join(items)}</div>'


def printable_map_html(
    *,
    title: str,
    lines: Sequence[str] = (),
    area: dict | None = None,
    links: dict | None = None,
    villages: dict | None = None,
    centres: dict | None = None,
    features: Sequence[PrintedFeature] = (),
    columns: Sequence[str] = (),
    legend: Sequence[LegendEntry] = (),
    note: str = "",
    empty: str = "",
    link_style: dict | None = None,
    numeric_columns: int = 0,
    language: str = "vi",
    tiles: str | None = None,
) -> str:
    """Return a whole HTML document: a heading, the map, a legend and a numbered table.

    `area` is drawn as the frame (commune boundaries), `links` as thin lines, `villages` and
    `centres` as small white and yellow dots, and each feature
    with its symbol and number; the table row i describes the feature numbered i, its last
    `numeric_columns` cells aligned as figures. All strings are plain text. `tiles` is a folium tile
    name or URL template, off by default.
    """
    leaflet_js, leaflet_css = _leaflet_assets()
    bounds = _bounds([area or {}, links or {}, {"features": [{"geometry": f.geometry} for f in features]}])
    fmap = folium.Map(location=[22.6, 103.35], zoom_start=11, tiles=tiles, control_scale=True, height="640px",
                      prefer_canvas=False)
    # No CDN: drop folium's default links (jQuery, Bootstrap, Leaflet) and inline Leaflet instead.
    fmap.default_js = []
    fmap.default_css = []
    figure = fmap.get_root()
    figure.header.add_child(folium.Element(f"<style>{leaflet_css}</style>"), name="leaflet_css")
    figure.header.add_child(folium.Element(f"<script>{leaflet_js}</script>"), name="leaflet_js")
    figure.header.add_child(folium.Element(f"<style>{_CSS}</style>"), name="report_css")
    figure.header.add_child(folium.Element(f'<meta name="generator" content="folium {folium.__version__}">'), name="gen")
    figure.html.add_child(folium.Element(
        f'<header class="report-header"><h1>{html.escape(title)}</h1>'
        + "".join(f"<p>{html.escape(line)}</p>" for line in lines) + "</header>"
    ), name="report_header")

    if area and area.get("features"):
        folium.GeoJson(area, name="area", style_function=lambda _f: {
            "color": "#7a1f1f", "weight": 2, "fillColor": "#f6efe6", "fillOpacity": 0.35}).add_to(fmap)
    if links and links.get("features"):
        style = link_style or {"color": "#555", "weight": 1.5, "dashArray": "4 4", "opacity": 0.8}
        folium.GeoJson(links, name="links", style_function=lambda _f: style).add_to(fmap)
    for places, fill, radius in ((villages, "#ffffff", 4), (centres, "#ffd600", 6)):
        if places and places.get("features"):
            folium.GeoJson(places, marker=folium.CircleMarker(radius=radius, color="#1b1b1b", weight=1.5, fill=True,
                                                              fill_color=fill, fill_opacity=1)).add_to(fmap)
    for number, item in enumerate(features, start=1):
        kind = item.geometry.get("type", "")
        if kind not in ("Point", "MultiPoint"):
            folium.GeoJson({"type": "Feature", "geometry": item.geometry, "properties": {}},
                           style_function=lambda _f, colour=item.colour: {"color": colour, "weight": 4, "fillColor": colour,
                                                                          "fillOpacity": 0.4}).add_to(fmap)
        anchor = _anchor(item.geometry)
        if anchor:
            symbol = symbol_svg(item.shape, fill=item.colour)
            icon = folium.DivIcon(html=f'<div class="work-symbol">{symbol}<b>{number}</b></div>',
                                  icon_size=(18, 18), icon_anchor=(9, 9), class_name="work-symbol-icon")
            folium.Marker(location=list(anchor), icon=icon).add_to(fmap)
    if bounds:
        fmap.fit_bounds(bounds, padding=(20, 20))

    rows = []
    for number, item in enumerate(features, start=1):
        first_figure = len(item.cells) - numeric_columns
        cells = "".join(
            f'<td class="num">{html.escape(cell)}</td>' if i >= first_figure else f"<td>{html.escape(cell)}</td>"
            for i, cell in enumerate(item.cells)
        )
        rows.append(f'<tr><td class="num">{number}</td><td>{symbol_svg(item.shape, fill=item.colour, size=14)}</td>{cells}</tr>')
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in columns)
    table = (f'<table class="report-table"><thead><tr><th scope="col">#</th><th scope="col"></th>{head}</tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table>') if rows else f"<p>{html.escape(empty)}</p>"
    note_html = f'<p class="report-note">{html.escape(note)}</p>' if note else ""
    figure.html.add_child(folium.Element(
        f'<section class="report-body">{_legend_html(legend)}{note_html}{table}</section>'), name="report_body")
    document = figure.render()
    return document.replace("<html>", f'<html lang="{html.escape(language)}">', 1)
