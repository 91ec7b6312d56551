/* Helpers shared by the maps: DOM text (never HTML from data), Vietnamese figures, and the
 * category symbols drawn on Leaflet's canvas (and on vector tiles, map-tiles.js) from the outlines the
 * server sends (gis.maps.SHAPES).
 */
(function () {
  "use strict";

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) { return String(values[key]); });
  }

  // The page language's marks, as the server writes figures (infra/money.py): Vietnamese 82.075,5, English
  // 82,075.5. Read with the other language's marks, a figure changes by a factor of a thousand.
  function marks() {
    var english = (document.documentElement.lang || "vi").toLowerCase().indexOf("en") === 0;
    return english ? { thousands: ",", decimal: "." } : { thousands: ".", decimal: "," };
  }

  function groupThousands(digits) {
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, marks().thousands);
  }

  // Million VND to a thousand VND; an amount that rounds to nothing there reads "< 0,001", never 0 or -0.
  function millions(vnd) {
    if (vnd === null || vnd === undefined) { return "—"; }
    var amount = Number(vnd);
    var mark = marks().decimal;
    var thousandths = Math.round(Math.abs(amount) / 1000);
    if (amount !== 0 && thousandths === 0) { return amount > 0 ? "< 0" + mark + "001" : "> -0" + mark + "001"; }
    var whole = Math.floor(thousandths / 1000);
    var fraction = String(thousandths % 1000).padStart(3, "0").replace(/0+$/, "");
    return (amount < 0 ? "-" : "") + groupThousands(String(whole)) + (fraction ? mark + fraction : "");
  }

  // A number with one decimal and the page language's marks (1,5 km; 1.5 km on English pages).
  function decimal(value, digits) {
    var parts = Math.abs(Number(value)).toFixed(digits).split(".");
    return (Number(value) < 0 ? "-" : "") + groupThousands(parts[0]) + (parts[1] ? marks().decimal + parts[1] : "");
  }

  // A whole number with the page language's thousands mark.
  function whole(value) {
    return (Number(value) < 0 ? "-" : "") + groupThousands(String(Math.abs(Math.round(Number(value)))));
  }

  function dayMonthYear(iso) {
    if (!iso) { return null; }
    var parts = String(iso).split("-");
    return parts.length === 3 ? parts[2] + "/" + parts[1] + "/" + parts[0] : String(iso);
  }

  // A popup box: a title, rows of [label, text or node], a link; `demoLabel` marks synthetic data.
  function popup(title, rows, options) {
    options = options || {};
    var box = el("div", null, "popup");
    var head = el("div", null, "popup-title");
    if (options.symbol) { head.appendChild(options.symbol); }
    head.appendChild(el("strong", title));
    if (options.isDemo) { head.appendChild(el("span", options.demoLabel, "badge-demo")); }
    box.appendChild(head);
    if (options.subtitle) { box.appendChild(el("div", options.subtitle, "popup-sub")); }
    var dl = el("dl");
    rows.forEach(function (row) {
      if (row[1] === null || row[1] === undefined || row[1] === "") { return; }
      dl.appendChild(el("dt", row[0]));
      var dd = el("dd");
      if (row[1] instanceof Node) { dd.appendChild(row[1]); } else { dd.textContent = String(row[1]); }
      dl.appendChild(dd);
    });
    box.appendChild(dl);
    if (options.link) {
      var a = el("a", options.linkLabel);
      a.href = options.link;
      box.appendChild(a);
    }
    return box;
  }

  function swatch(colour) {
    var s = el("span", null, "swatch");
    s.style.background = colour;
    return s;
  }

  function tracePath(ctx, outline, x, y, radius) {
    ctx.beginPath();
    outline.forEach(function (pt, i) {
      var px = x + pt[0] * radius, py = y + pt[1] * radius;
      if (i === 0) { ctx.moveTo(px, py); } else { ctx.lineTo(px, py); }
    });
    ctx.closePath();
  }

  function symbolCanvas(outline, colour, size) {
    var canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    canvas.className = "symbol";
    var ctx = canvas.getContext("2d");
    tracePath(ctx, outline, size / 2, size / 2, size / 2.6);
    ctx.fillStyle = colour;
    ctx.fill();
    ctx.strokeStyle = "#1b1b1b";
    ctx.lineWidth = 1;
    ctx.stroke();
    return canvas;
  }

  // A point symbol on the canvas renderer; options.outline is a list of [x, y] in a unit box.
  var ShapeMarker = L.CircleMarker.extend({
    options: { outline: null },
    _updatePath: function () {
      var renderer = this._renderer;
      if (!this.options.outline || !(renderer instanceof L.Canvas)) { return L.CircleMarker.prototype._updatePath.call(this); }
      if (!renderer._drawing || this._empty()) { return; }
      tracePath(renderer._ctx, this.options.outline, this._point.x, this._point.y, this._radius);
      renderer._fillStroke(renderer._ctx, this);
    }
  });

  window.WorksMapKit = {
    el: el, format: format, millions: millions, decimal: decimal, whole: whole, dayMonthYear: dayMonthYear, popup: popup,
    swatch: swatch,
    tracePath: tracePath, symbolCanvas: symbolCanvas, ShapeMarker: ShapeMarker
  };
})();
