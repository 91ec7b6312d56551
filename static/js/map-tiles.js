/* Vector tiles (/tiles/<layer>/{z}/{x}/{y}.mvt, built by PostGIS) drawn on Leaflet's grid: the home map's
 * large layers when the server says the database can make tiles (config.tiles).
 *
 * Decoding is @mapbox/vector-tile on pbf (static/vendor, resolved through the page's import map); the
 * drawing is ours: one canvas per tile, each feature styled by a function of its properties that returns
 * Leaflet path options, like the GeoJSON layers, and point symbols traced from the same outlines.
 *
 * Clicks and hover. The tile canvases take no pointer events. Instead each tile layer puts an inkless
 * "picker" path on the map's own canvas renderer, the one the GeoJSON layers are drawn by. Leaflet asks
 * every path on that canvas, in drawing order, whether the pointer is on it; the picker answers from the
 * decoded features of the tile under the pointer. So the top-most thing under the pointer gets the click,
 * whether it came from a tile or from GeoJSON, through Leaflet's own events (a second interactive canvas
 * on top would swallow every click meant for the commune boundaries below it).
 *
 * Exposes window.WorksMapTiles.layer(urlTemplate, options) -> an L.GridLayer that also has
 * setQuery(query), featureIds() and fires "featureclick" {feature, latlng}.
 */
import { PbfReader } from "pbf";
import { VectorTile } from "@mapbox/vector-tile";

var kit = window.WorksMapKit;
var KINDS = { 1: "point", 2: "line", 3: "area" };
// Areas first, then lines, then points: what is drawn last is on top and is picked first.
var KIND_RANK = { area: 0, line: 1, point: 2 };

function decode(buffer, names, size, style) {
  var tile = new VectorTile(new PbfReader(buffer));
  var features = [];
  names.forEach(function (name, layerRank) {
    var layer = tile.layers[name];
    if (!layer) { return; }
    var scale = size / layer.extent;
    for (var i = 0; i < layer.length; i++) {
      var feature = layer.feature(i);
      var kind = KINDS[feature.type];
      var options = kind && style(feature.properties, kind, name);
      if (!options) { continue; }
      var parts = feature.loadGeometry().map(function (ring) {
        return ring.map(function (p) { return [p.x * scale, p.y * scale]; });
      });
      features.push({
        id: feature.id, properties: feature.properties, kind: kind, layerRank: layerRank, parts: parts,
        options: L.extend({}, L.Path.prototype.options, { fill: kind !== "line" }, options)
      });
    }
  });
  return features.sort(function (a, b) {
    return a.layerRank - b.layerRank || KIND_RANK[a.kind] - KIND_RANK[b.kind] || a.id - b.id;
  });
}

function dashes(dashArray) {
  return dashArray ? String(dashArray).split(/[ ,]+/).map(Number) : [];
}

// As Leaflet's canvas renderer fills and strokes a path, so the two kinds of layer look alike.
function fillStroke(ctx, o) {
  if (o.fill) {
    ctx.globalAlpha = o.fillOpacity;
    ctx.fillStyle = o.fillColor || o.color;
    ctx.fill(o.fillRule || "evenodd");
  }
  if (o.stroke && o.weight !== 0) {
    ctx.setLineDash(dashes(o.dashArray));
    ctx.globalAlpha = o.opacity;
    ctx.lineWidth = o.weight;
    ctx.strokeStyle = o.color;
    ctx.lineCap = o.lineCap;
    ctx.lineJoin = o.lineJoin;
    ctx.stroke();
  }
}

function draw(canvas, features, ratio) {
  var ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  features.forEach(function (f) {
    var o = f.options;
    f.parts.forEach(function (part) {
      if (f.kind === "point") {
        var x = part[0][0], y = part[0][1];
        if (o.outline) {
          kit.tracePath(ctx, o.outline, x, y, o.radius);
        } else {
          ctx.beginPath();
          ctx.arc(x, y, o.radius, 0, Math.PI * 2);
        }
        fillStroke(ctx, o);
      }
    });
    if (f.kind !== "point") {
      ctx.beginPath();
      f.parts.forEach(function (ring) {
        ring.forEach(function (p, i) { if (i === 0) { ctx.moveTo(p[0], p[1]); } else { ctx.lineTo(p[0], p[1]); } });
        if (f.kind === "area") { ctx.closePath(); }
      });
      fillStroke(ctx, o);
    }
  });
}

function nearSegment(p, a, b, reach) {
  var dx = b[0] - a[0], dy = b[1] - a[1];
  var t = dx || dy ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy))) : 0;
  var ex = a[0] + t * dx - p[0], ey = a[1] + t * dy - p[1];
  return ex * ex + ey * ey <= reach * reach;
}

// Even-odd over every ring, as the area was filled.
function inside(p, rings) {
  var hit = false;
  rings.forEach(function (ring) {
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var a = ring[i], b = ring[j];
      if ((a[1] > p[1]) !== (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]) { hit = !hit; }
    }
  });
  return hit;
}

// The point part under p, or (for lines and areas) p itself when the feature is under it; else null.
// `tolerance` is the canvas renderer's: a stroke is hit within half its width plus that, as Leaflet does.
function under(f, p, tolerance) {
  var o = f.options;
  var reach = (o.stroke ? o.weight / 2 : 0) + tolerance;
  if (f.kind === "point") {
    reach += o.radius;
    for (var k = 0; k < f.parts.length; k++) {
      var q = f.parts[k][0];
      if ((q[0] - p[0]) * (q[0] - p[0]) + (q[1] - p[1]) * (q[1] - p[1]) <= reach * reach) { return q; }
    }
    return null;
  }
  if (f.kind === "area" && o.fill && inside(p, f.parts)) { return p; }
  for (var r = 0; r < f.parts.length; r++) {
    var ring = f.parts[r];
    for (var i = 1; i < ring.length; i++) { if (nearSegment(p, ring[i - 1], ring[i], reach)) { return p; } }
  }
  return null;
}

// An inkless path on the map's canvas renderer that answers "is the pointer on one of my tile features?".
var Picker = L.Path.extend({
  options: { interactive: true },
  initialize: function (grid) { this._grid = grid; },
  _project: L.Util.falseFn,
  _update: L.Util.falseFn,
  _updatePath: L.Util.falseFn,
  _empty: function () { return true; },
  _containsPoint: function (point) { return !!this._grid.pick(this._map.layerPointToLatLng(point)); }
});

var VectorTileLayer = L.GridLayer.extend({
  options: {
    layers: [],       // the MVT layers to draw, bottom first
    style: null,      // function (properties, kind, layerName) -> Leaflet path options (+ radius, outline), or null to skip
    tooltip: null,    // function (properties) -> DOM node, or null for none
    updateWhenZooming: false
  },

  initialize: function (url, options) {
    L.GridLayer.prototype.initialize.call(this, options);
    this._url = url;
    this._query = "";
    this._features = {};   // tile key -> decoded features, in drawing order
    this._fetches = {};    // tile key -> AbortController of its request
    this._picker = new Picker(this);
    this._tip = L.tooltip({ direction: "top", offset: [0, -6] });
    this._picker.on("click", this._onClick, this);
    this._picker.on("mousemove", this._onHover, this);
    this._picker.on("mouseout", this._closeTip, this);
    this.on("tileunload", this._onTileUnload, this);
  },

  onAdd: function (map) {
    L.GridLayer.prototype.onAdd.call(this, map);
    this._picker.addTo(map);
  },

  onRemove: function (map) {
    this._closeTip();
    map.removeLayer(this._picker);
    L.GridLayer.prototype.onRemove.call(this, map);
  },

  bringToFront: function () {
    L.GridLayer.prototype.bringToFront.call(this);
    if (this._map) { this._picker.bringToFront(); }
    return this;
  },

  // Ask the tiles again with these query parameters (the works filters), dropping what was drawn.
  setQuery: function (query) {
    query = String(query || "");
    if (query !== this._query) {
      this._query = query;
      this.redraw();
    }
    return this;
  },

  // The ids of the features drawn in the current view (each once, though it may lie in several tiles).
  featureIds: function () {
    var ids = {};
    for (var key in this._tiles) {
      if (this._tiles[key].current && this._features[key]) {
        this._features[key].forEach(function (f) { ids[f.id] = true; });
      }
    }
    return Object.keys(ids).map(Number);
  },

  // The top-most feature drawn at a place, with where its popup belongs (a point's own place), or null.
  pick: function (latlng) {
    var map = this._map, z = this._tileZoom;
    if (!map || z === undefined) { return null; }
    var size = this.getTileSize();
    var px = map.project(latlng, z);
    var coords = L.point(Math.floor(px.x / size.x), Math.floor(px.y / size.y));
    coords.z = z;
    var features = this._features[this._tileCoordsToKey(coords)];
    if (!features) { return null; }
    var origin = coords.scaleBy(size);
    var p = [px.x - origin.x, px.y - origin.y];
    var tolerance = (this._picker._renderer && this._picker._renderer.options.tolerance) || 0;
    for (var i = features.length - 1; i >= 0; i--) {
      var at = under(features[i], p, tolerance);
      if (at) {
        var place = at === p ? latlng : map.unproject(L.point(origin.x + at[0], origin.y + at[1]), z);
        return { feature: features[i], latlng: place };
      }
    }
    return null;
  },

  createTile: function (coords, done) {
    var tile = L.DomUtil.create("canvas", "leaflet-tile");
    var size = this.getTileSize();
    var ratio = window.devicePixelRatio || 1;
    tile.width = size.x * ratio;
    tile.height = size.y * ratio;
    var key = this._tileCoordsToKey(coords);
    var controller = new AbortController();
    this._fetches[key] = controller;
    var url = L.Util.template(this._url, { z: coords.z, x: coords.x, y: coords.y }) + (this._query ? "?" + this._query : "");
    var options = this.options;
    var self = this;
    fetch(url, { credentials: "same-origin", signal: controller.signal })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.arrayBuffer();
      })
      .then(function (buffer) {
        if (controller.signal.aborted) { return; }
        var features = decode(buffer, options.layers, size.x, options.style);
        self._features[key] = features;
        draw(tile, features, ratio);
        done(null, tile);
      })
      .catch(function (error) {
        if (!controller.signal.aborted) { done(error, tile); }
      });
    return tile;
  },

  _onTileUnload: function (e) {
    var key = this._tileCoordsToKey(e.coords);
    if (this._fetches[key]) { this._fetches[key].abort(); }
    delete this._fetches[key];
    delete this._features[key];
  },

  _onClick: function (e) {
    var hit = this.pick(e.latlng);
    if (hit) { this.fire("featureclick", hit); }
  },

  _onHover: function (e) {
    var hit = this.options.tooltip && this.pick(e.latlng);
    if (!hit) { this._closeTip(); return; }
    if (this._tipFeature !== hit.feature) {
      this._tipFeature = hit.feature;
      this._tip.setContent(this.options.tooltip(hit.feature.properties));
    }
    this._tip.setLatLng(hit.latlng);
    if (!this._map.hasLayer(this._tip)) { this._map.openTooltip(this._tip); }
  },

  _closeTip: function () {
    this._tipFeature = null;
    if (this._map && this._map.hasLayer(this._tip)) { this._map.closeTooltip(this._tip); }
  }
});

window.WorksMapTiles = {
  layer: function (url, options) { return new VectorTileLayer(url, options); }
};
