/* The home map: boundaries, villages, links, roads and works, filtered through the API.
 *
 * Every text from data goes into the page as DOM text (textContent), never as HTML.
 * The filters live in the page's address (?category=road&commune=03549) and the view in its
 * hash (#map=zoom/lat/lon), so a link can be shared and a reload shows the same map.
 * Test hooks: window.worksMap, window.worksMapLayers (by name), window.worksMapReady (true when
 * the layers and the current works are drawn; false while works are reloading).
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var T = config.text;
  var form = document.getElementById("map-filters");
  var statusLine = document.getElementById("map-status");
  var printLink = document.getElementById("print-link");

  var kit = window.WorksMapKit;
  var el = kit.el, format = kit.format, millions = kit.millions, dayMonthYear = kit.dayMonthYear, swatch = kit.swatch;
  var ShapeMarker = kit.ShapeMarker;

  function popup(title, rows, options) {
    options = options || {};
    options.demoLabel = T.demo;
    options.linkLabel = T.details;
    return kit.popup(title, rows, options);
  }

  function outline(shape) { return config.shapes[shape] || config.shapes.circle; }

  // ---- the map and its layers --------------------------------------------------------------

  // Leaflet speaks [lat, lon]; GeoJSON and the database speak [lon, lat].
  var map = L.map("map", { preferCanvas: true, zoomControl: true }).setView([22.62, 103.35], 10);
  L.control.scale({ imperial: false }).addTo(map);
  var layers = {};
  // Drawing order, bottom to top: on one canvas the last drawn is the one clicked.
  var STACK = ["communes", "districts", "roads", "links", "villages", "centres", "maintenance", "works", "workSymbols"];
  var toggles = { works: ["works", "workSymbols"] };

  function restack() {
    STACK.forEach(function (name) {
      var layer = layers[name];
      if (layer && map.hasLayer(layer) && layer.bringToFront) { layer.bringToFront(); }
    });
  }

  function shown(name) {
    var box = document.querySelector('#map-layers input[data-layer="' + name + '"]');
    return !box || box.checked;
  }

  function loadError(label) {
    statusLine.textContent = T.loadError + (label ? ": " + label : "");
  }

  function fetchJson(url, signal) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" }, signal: signal })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
  }

  function addBase(name, options) {
    return fetchJson(config.urls[name]).then(function (data) {
      var layer = L.geoJSON(data, options);
      layers[name] = layer;
      if (shown(name)) { layer.addTo(map); }
      return layer;
    }).catch(function () { loadError(name); });
  }

  function tooltipText(text) { return el("span", text); }

  var selectedArea = [];

  function communeStyle(feature) {
    var picked = selectedArea.indexOf(feature.properties.code) >= 0;
    return { color: "#7a1f1f", weight: picked ? 3.5 : 1.2, fillColor: picked ? "#fbe9d7" : "#f6efe6", fillOpacity: 0.55 };
  }

  var base = [
    addBase("communes", {
      style: communeStyle,
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(tooltipText(p.unit_type + " " + p.name), { sticky: true });
        layer.bindPopup(function () {
          return popup(p.unit_type + " " + p.name, [[T.population, p.population], [T.poorHouseholds, p.poor_households]]);
        });
      }
    }),
    addBase("districts", { style: { color: "#333", weight: 3, dashArray: "6 4", fill: false }, interactive: false }),
    addBase("roads", {
      style: function (f) {
        var group = config.surfaceGroups[f.properties.surface] || "earth";
        var cls = f.properties.road_class;
        var weight = cls === "national" ? 4 : (cls === "provincial" ? 3 : 2);
        return { color: "#6d4c41", weight: weight, dashArray: config.surfaceDash[group] || null, opacity: 0.9 };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup(function () {
          return popup(p.name, [[T.surface, config.surfaces[p.surface]], [T.allSeason, p.all_season ? T.yes : T.no]],
                       { isDemo: p.is_demo });
        });
      }
    }),
    addBase("links", {
      style: function (f) {
        var s = config.linkStyles[f.properties.status] || config.linkStyles.unknown;
        return { color: s.colour, weight: 1.5, dashArray: s.dash || null, opacity: 0.85 };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup(function () {
          var s = config.linkStyles[p.status] || config.linkStyles.unknown;
          var km = (p.distance_m / 1000).toFixed(1).replace(".", ",") + " " + T.km;
          return popup(p.village + " → " + p.commune, [[T.distance, km], [T.connection, s.label]],
                       { subtitle: T.link, isDemo: p.is_demo });
        });
      }
    }),
    addBase("villages", {
      pointToLayer: function (f, latlng) {
        var r = 3 + Math.sqrt(f.properties.population || 0) / 6;
        return L.circleMarker(latlng, { radius: Math.min(r, 14), color: "#455a64", weight: 1.2, fillColor: "#ffffff", fillOpacity: 0.95 });
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(tooltipText(p.name));
        layer.bindPopup(function () {
          return popup(p.name, [[T.commune, p.commune], [T.population, p.population], [T.households, p.households],
                                [T.poorHouseholds, p.poor_households], [T.nearPoorHouseholds, p.near_poor_households]],
                       { isDemo: p.is_demo });
        });
      }
    }),
    addBase("maintenance", {
      // A ring around each work that needs upkeep, under the work's own symbol.
      pointToLayer: function (f, latlng) {
        var s = config.maintenanceStyles[f.properties.status] || {};
        return L.circleMarker(latlng, { radius: 13, color: s.colour || "#e65100", weight: 3, fill: false });
      },
      style: function (f) {
        var s = config.maintenanceStyles[f.properties.status] || {};
        return { color: s.colour || "#e65100", weight: 7, opacity: 0.45 };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup(function () {
          var s = config.maintenanceStyles[p.status] || {};
          return popup(p.code + " – " + p.name, [[T.maintenance, s.label], [T.nextDue, p.next_due ? dayMonthYear(p.next_due) : null],
                                                 [T.commune, p.commune]], { isDemo: p.is_demo });
        });
      }
    }),
    addBase("centres", {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#000", weight: 2, fillColor: "#ffd600", fillOpacity: 1 });
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(tooltipText(T.centre + ": " + p.name));
        layer.bindPopup(function () { return popup(T.centre + ": " + p.unit_type + " " + p.name, [[null, p.centre_address]]); });
      }
    })
  ];

  // The background is optional and off: the machine may have no internet; boundaries are the base.
  layers.osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "© OpenStreetMap contributors", className: "osm-tiles"
  });

  // ---- works -----------------------------------------------------------------------------

  function workColour(p) { return (config.stages[p.stage] || {}).colour || "#777"; }
  function workShape(p) { return (config.categories[p.category] || {}).shape || "circle"; }

  function workPopup(f) {
    var p = f.properties;
    var cat = config.categories[p.category] || { label: p.category };
    var stage = config.stages[p.stage] || { label: p.stage, colour: "#777" };
    var stageNode = el("span");
    stageNode.appendChild(swatch(stage.colour));
    stageNode.appendChild(document.createTextNode(stage.label));
    var money = millions(p.allocated) + " / " + millions(p.disbursed) + " " + T.millionVnd;
    var rows = [
      [T.category, cat.label],
      [T.stage, stageNode],
      [T.progress, p.progress + " %"],
      [T.commune, p.commune],
      [T.approvedCommune, p.approved_commune && p.approved_commune !== p.commune ? p.approved_commune : null],
      [T.year, p.year],
      [T.investment, millions(p.total_investment) + " " + T.millionVnd],
      [T.planDisbursed, money],
      [T.lastMaintenance, dayMonthYear(p.last_maintenance) || T.noneRecorded]
    ];
    if (p.category === "road" && p.road_surface) { rows.push([T.surface, config.surfaces[p.road_surface]]); }
    return popup(p.name, rows, {
      symbol: kit.symbolCanvas(outline(workShape(p)), workColour(p), 18), subtitle: p.code, isDemo: p.is_demo,
      link: config.urls.detail.replace("/0/", "/" + encodeURIComponent(f.id) + "/")
    });
  }

  function workTooltip(p) {
    return tooltipText(p.name + (p.is_demo ? " (" + T.demo + ")" : ""));
  }

  // Where a line or area work carries its category symbol: its middle vertex, or its ring's centre.
  function anchorOf(geometry) {
    var c = geometry.coordinates;
    switch (geometry.type) {
      case "LineString": return c[Math.floor(c.length / 2)];
      case "MultiLineString": c = c.reduce(function (a, b) { return b.length > a.length ? b : a; }); return c[Math.floor(c.length / 2)];
      case "Polygon": return L.latLngBounds(c[0].map(function (pt) { return [pt[1], pt[0]]; })).getCenter();
      case "MultiPolygon": return L.latLngBounds([].concat.apply([], c.map(function (poly) { return poly[0]; }))
        .map(function (pt) { return [pt[1], pt[0]]; })).getCenter();
      default: return null;
    }
  }

  // Areas first, then lines, then points: on one canvas what is drawn last is on top and clicked.
  var DRAW_RANK = { Polygon: 0, MultiPolygon: 0, LineString: 1, MultiLineString: 1 };

  function buildWorks(data) {
    var symbols = L.featureGroup();
    var features = data.features.slice().sort(function (a, b) {
      var ra = a.geometry ? (DRAW_RANK[a.geometry.type] === undefined ? 2 : DRAW_RANK[a.geometry.type]) : 2;
      var rb = b.geometry ? (DRAW_RANK[b.geometry.type] === undefined ? 2 : DRAW_RANK[b.geometry.type]) : 2;
      return ra - rb || a.id - b.id;
    });
    var works = L.geoJSON(features, {
      pointToLayer: function (f, latlng) {
        return new ShapeMarker(latlng, { outline: outline(workShape(f.properties)), radius: 8, color: "#1b1b1b", weight: 1.2,
                                         fillColor: workColour(f.properties), fillOpacity: 1 });
      },
      style: function (f) {
        var p = f.properties;
        // GeoJSON layers style their point markers too: keep what pointToLayer gave them.
        if (f.geometry && (f.geometry.type === "Point" || f.geometry.type === "MultiPoint")) {
          return { color: "#1b1b1b", weight: 1.2, fillColor: workColour(p), fillOpacity: 1 };
        }
        var style = { color: workColour(p), weight: p.category === "road" ? 5 : 3.5, opacity: 0.95, fillOpacity: 0.35 };
        if (p.category === "road") { style.dashArray = config.surfaceDash[config.surfaceGroups[p.road_surface] || "earth"] || null; }
        return style;
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return workPopup(f); }, { maxWidth: 340 });
        layer.bindTooltip(workTooltip(f.properties));
        if (f.geometry && f.geometry.type !== "Point" && f.geometry.type !== "MultiPoint") {
          var at = anchorOf(f.geometry);
          if (at) {
            var latlng = Array.isArray(at) ? [at[1], at[0]] : at;
            var marker = new ShapeMarker(latlng, { outline: outline(workShape(f.properties)), radius: 7, color: "#1b1b1b", weight: 1.2,
                                                   fillColor: workColour(f.properties), fillOpacity: 1 });
            marker.bindPopup(function () { return workPopup(f); }, { maxWidth: 340 });
            marker.bindTooltip(workTooltip(f.properties));
            symbols.addLayer(marker);
          }
        }
      }
    });
    return { works: works, symbols: symbols };
  }

  // ---- filters and the address -----------------------------------------------------------

  function filterParams() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (String(value).trim() !== "") { params.append(key, String(value).trim()); }
    });
    return params;
  }

  function viewHash() {
    var c = map.getCenter();
    return "#map=" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5);
  }

  function writeAddress() {
    var query = filterParams().toString();
    history.replaceState(null, "", location.pathname + (query ? "?" + query : "") + viewHash());
  }

  function readView() {
    var m = /^#map=(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(location.hash);
    if (!m) { return null; }
    var zoom = Number(m[1]), lat = Number(m[2]), lon = Number(m[3]);
    if (zoom > 19 || Math.abs(lat) > 90 || Math.abs(lon) > 180) { return null; }
    return { zoom: zoom, centre: [lat, lon] };
  }

  function selectedCommuneArea() {
    var option = form.elements.commune.selectedOptions[0];
    return option && option.value ? (option.getAttribute("data-area") || "").split(" ").filter(Boolean) : [];
  }

  function highlightCommune(fit) {
    selectedArea = selectedCommuneArea();
    var communes = layers.communes;
    if (!communes) { return; }
    communes.setStyle(communeStyle);
    if (fit && selectedArea.length) {
      var bounds = L.latLngBounds([]);
      communes.eachLayer(function (l) { if (selectedArea.indexOf(l.feature.properties.code) >= 0) { bounds.extend(l.getBounds()); } });
      if (bounds.isValid()) { map.fitBounds(bounds, { animate: false, padding: [20, 20] }); }
    }
  }

  function updatePrintLink() {
    var params = filterParams();
    if (params.get("commune")) {
      printLink.hidden = false;
      printLink.href = config.urls.print + "?" + params.toString();
    } else {
      printLink.hidden = true;
    }
  }

  var pending = null;
  var bboxMode = false;

  function loadWorks() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    window.worksMapReady = false;
    statusLine.textContent = T.loading;
    var params = filterParams();
    params.set("limit", String(config.limit));
    if (bboxMode) {
      var b = map.getBounds();
      params.set("bbox", [Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()), Math.min(180, b.getEast()),
                          Math.min(90, b.getNorth())].map(function (v) { return v.toFixed(5); }).join(","));
    }
    return fetchJson(config.urls.works + "?" + params.toString(), pending.signal).then(function (data) {
      pending = null;
      ["works", "workSymbols"].forEach(function (name) { if (layers[name]) { map.removeLayer(layers[name]); } });
      var built = buildWorks(data);
      layers.works = built.works;        // layers is window.worksMapLayers
      layers.workSymbols = built.symbols;
      if (shown("works")) { built.works.addTo(map); built.symbols.addTo(map); }
      restack();
      var capped = data.numberMatched === undefined || data.numberMatched > data.numberReturned;
      bboxMode = bboxMode || capped;
      statusLine.textContent = capped ? format(T.capped, { count: data.numberReturned })
        : format(data.numberMatched === 1 ? T.matchOne : T.matchMany, { count: data.numberMatched });
      window.worksMapReady = true;
    }).catch(function (error) {
      if (error && error.name === "AbortError") { return; }
      pending = null;
      loadError(T.loadError);
      window.worksMapReady = true;
    });
  }

  function applyFilters(fitCommune) {
    highlightCommune(fitCommune);
    updatePrintLink();
    writeAddress();
    return loadWorks();
  }

  var typing = null;
  form.addEventListener("submit", function (event) { event.preventDefault(); applyFilters(false); });
  form.addEventListener("change", function (event) {
    if (event.target.name === "q") { return; }
    applyFilters(event.target.name === "commune");
  });
  form.elements.q.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () { applyFilters(false); }, 350);
  });

  document.getElementById("map-layers").addEventListener("change", function (event) {
    var name = event.target.getAttribute("data-layer");
    (toggles[name] || [name]).forEach(function (n) {
      var layer = layers[n];
      if (!layer) { return; }
      if (event.target.checked) { layer.addTo(map); } else { map.removeLayer(layer); }
    });
    restack();
  });

  map.on("moveend", function () {
    if (window.worksMapReady !== undefined) { writeAddress(); }
    if (bboxMode && window.worksMapReady) { loadWorks(); }
  });

  // ---- start -----------------------------------------------------------------------------

  window.worksMap = map;
  window.worksMapLayers = layers;
  var view = readView();
  if (view) { map.setView(view.centre, view.zoom, { animate: false }); }
  Promise.all(base).then(function () {
    restack();
    if (!view) {
      // Open on the former Phong Thổ district (the plan's area), else on all communes.
      var frame = layers.districts && layers.districts.getLayers().length ? layers.districts : layers.communes;
      if (frame && frame.getLayers().length) { map.fitBounds(frame.getBounds(), { animate: false }); }
    }
    highlightCommune(!view);
    updatePrintLink();
    writeAddress();
    return loadWorks();
  });
})();
