/* The home map: boundaries, villages, links, roads and works, filtered through the API.
 *
 * Every text from data goes into the page as DOM text (textContent), never as HTML.
 * The filters live in the page's address (?category=road&commune=03549) and the view in its
 * hash (#map=zoom/lat/lon), so a link can be shared and a reload shows the same map.
 * Where the server offers vector tiles (config.tiles: PostGIS), the large layers it names (works,
 * villages, roads) are drawn from them (map-tiles.js) and the rest from GeoJSON; elsewhere all is GeoJSON.
 * Test hooks: window.worksMap, window.worksMapLayers (by name), window.worksMapFeatures(name) (the ids
 * drawn in the view, from either source), window.worksMapReady (true when the layers and the current
 * works are drawn; false while works or tiles are loading).
 */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var T = config.text;
  var form = document.getElementById("map-filters");
  var statusLine = document.getElementById("map-status");
  var printLink = document.getElementById("print-link");

  var kit = window.WorksMapKit;
  var format = kit.format, ShapeMarker = kit.ShapeMarker;
  var S = window.HomeMapStyles(config);
  // The tiled layers, by name; none when the server offers no tiles or the tile code could not load.
  var tiled = config.tiles && window.WorksMapTiles ? config.tiles : {};

  // ---- the map and its layers --------------------------------------------------------------

  // Leaflet speaks [lat, lon]; GeoJSON and the database speak [lon, lat].
  var map = L.map("map", { preferCanvas: true, zoomControl: false }).setView([22.62, 103.35], 10);
  L.control.zoom({ zoomInTitle: T.zoomIn, zoomOutTitle: T.zoomOut }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  var layers = {};
  // Drawing order, bottom to top: on one canvas the last drawn is the one clicked. Tiles are drawn above
  // that canvas (their own pane), so tiled layers go last here too, and what is seen on top is what is clicked.
  var ORDER = ["communes", "districts", "roads", "links", "villages", "centres", "maintenance", "works", "workSymbols"];
  var STACK = ORDER.filter(function (n) { return !tiled[n]; }).concat(ORDER.filter(function (n) { return tiled[n]; }));
  var toggles = { works: ["works", "workSymbols"] };
  if (Object.keys(tiled).length) {
    var pane = map.createPane("vectorTiles");
    pane.style.zIndex = 450;             // above the GeoJSON canvas (400), below markers, tooltips and popups
    pane.style.pointerEvents = "none";   // clicks reach the canvas below, which asks the tiles (map-tiles.js)
  }

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

  // Layers that could not be loaded, by the name people read (the layer's own box in the list), with the server's
  // reason when it gave one. The status line keeps saying so whatever it says next (the works' count), until
  // the layer loads.
  var failed = {};
  function layerLabel(name) {
    var box = document.querySelector('#map-layers input[data-layer="' + name + '"]');
    var label = box && box.closest("label");
    return label ? label.textContent.trim() : "";
  }
  var lastStatus = "";
  function setStatus(text) {
    lastStatus = text;
    var names = Object.keys(failed).map(function (name) { return failed[name]; })
      .filter(function (label, i, all) { return all.indexOf(label) === i; });
    statusLine.textContent = text + (names.length ? (text ? " — " : "") + T.loadError + ": " + names.join("; ") : "");
  }
  // A failure is kept under its own key until that key's next success: the works' list (or, over tiles, their
  // count) is WORKS_LIST, apart from the works' tiles, so a round of tiles that loads does not unsay it.
  var WORKS_LIST = "works list";
  function loadError(name, error, layer) {
    var reason = error && error.reason ? " (" + error.reason + ")" : "";
    failed[name] = (layerLabel(layer || name) || name) + reason;
    setStatus(lastStatus);  // what the line said (the works' count) stays, the failure is added to it
  }
  function loaded(name) {
    if (failed[name]) { delete failed[name]; setStatus(lastStatus); }
  }

  function fetchJson(url, signal) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" }, signal: signal })
      .then(function (response) {
        if (!response.ok) {
          // The API says why in its own words ({"detail": …} or a field's list of reasons); keep them.
          return response.json().catch(function () { return {}; }).then(function (body) {
            var error = new Error(String(response.status));
            var detail = body && (body.detail || Object.keys(body).map(function (key) {
              return [].concat(body[key]).join(" ");
            }).join(" "));
            error.reason = typeof detail === "string" ? detail.slice(0, 200) : "";
            throw error;
          });
        }
        return response.json();
      });
  }

  function addBase(name, options) {
    return fetchJson(config.urls[name]).then(function (data) {
      var layer = L.geoJSON(data, options);
      layers[name] = layer;
      if (shown(name)) { layer.addTo(map); }
      loaded(name);
      return layer;
    }).catch(function (error) { loadError(name, error); });
  }

  function openPopup(latlng, content, options) {
    L.popup(options).setLatLng(latlng).setContent(content).openOn(map);
  }

  // True when no works request is pending and no tiled layer on the map is still loading its tiles.
  var pending = null;
  function settle() {
    window.worksMapReady = !pending && Object.keys(tiled).every(function (name) {
      var layer = layers[name];
      return !layer || !map.hasLayer(layer) || !layer.isLoading();
    });
  }

  // A tiled layer: `style(properties, kind, mvtLayer)` gives path options; a click opens `popup(properties)`;
  // `query` is asked of every tile (the works filters).
  function addTiles(name, options) {
    var layer = window.WorksMapTiles.layer(tiled[name], L.extend({ pane: "vectorTiles", noWrap: true }, options));
    layer.setQuery(options.query);
    if (options.popup) {
      layer.on("featureclick", function (e) { openPopup(e.latlng, options.popup(e.feature.properties)); });
    }
    // Leaflet says "load" when every tile of a round has ended, those that failed too: the layer counts as loaded
    // again only after a round with no failed tile.
    var tileFailed = false;
    layer.on("loading", function () { tileFailed = false; });
    layer.on("tileerror", function () { tileFailed = true; loadError(name); });
    layer.on("load", function () { if (!tileFailed) { loaded(name); } });
    layer.on("loading load add remove", function () { if (window.worksMapReady !== undefined) { settle(); } });
    layers[name] = layer;   // added to the map at the start, once the view is set
    return layer;
  }

  var selectedArea = [];

  function communeStyle(feature) {
    var picked = selectedArea.indexOf(feature.properties.code) >= 0;
    return { color: "#7a1f1f", weight: picked ? 3.5 : 1.2, fillColor: picked ? "#fbe9d7" : "#f6efe6", fillOpacity: 0.55 };
  }

  var base = [
    addBase("communes", {
      style: communeStyle,
      onEachFeature: function (f, layer) {
        layer.bindTooltip(S.communes.tooltip(f.properties), { sticky: true });
        layer.bindPopup(function () { return S.communes.popup(f.properties); });
      }
    }),
    addBase("districts", { style: { color: "#333", weight: 3, dashArray: "6 4", fill: false }, interactive: false }),
    tiled.roads ? addTiles("roads", {
      layers: ["roads"], style: S.roads.style, popup: S.roads.popup
    }) : addBase("roads", {
      style: function (f) { return S.roads.style(f.properties); },
      onEachFeature: function (f, layer) { layer.bindPopup(function () { return S.roads.popup(f.properties); }); }
    }),
    addBase("links", {
      style: function (f) { return S.links.style(f.properties); },
      onEachFeature: function (f, layer) { layer.bindPopup(function () { return S.links.popup(f.properties); }); }
    }),
    tiled.villages ? addTiles("villages", {
      layers: ["villages"], style: S.villages.style, tooltip: S.villages.tooltip, popup: S.villages.popup
    }) : addBase("villages", {
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, S.villages.style(f.properties)); },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(S.villages.tooltip(f.properties));
        layer.bindPopup(function () { return S.villages.popup(f.properties); });
      }
    }),
    addBase("maintenance", {
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, S.maintenance.ring(f.properties)); },
      style: function (f) { return S.maintenance.style(f.properties); },
      onEachFeature: function (f, layer) { layer.bindPopup(function () { return S.maintenance.popup(f.properties); }); }
    }),
    addBase("centres", {
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, S.centres.style); },
      onEachFeature: function (f, layer) {
        layer.bindTooltip(S.centres.tooltip(f.properties));
        layer.bindPopup(function () { return S.centres.popup(f.properties); });
      }
    })
  ];

  // The background is optional and off: the machine may have no internet; boundaries are the base.
  layers.osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "© OpenStreetMap contributors", className: "osm-tiles"
  });

  // ---- works ----------------------------------------------------------------------------

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
      pointToLayer: function (f, latlng) { return new ShapeMarker(latlng, S.works.symbol(f.properties)); },
      style: function (f) {
        // GeoJSON layers style their point markers too: keep what pointToLayer gave them.
        var point = f.geometry && (f.geometry.type === "Point" || f.geometry.type === "MultiPoint");
        return point ? S.works.symbol(f.properties) : S.works.style(f.properties);
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return S.works.popup(f); }, { maxWidth: 340 });
        layer.bindTooltip(S.works.tooltip(f.properties));
        if (f.geometry && f.geometry.type !== "Point" && f.geometry.type !== "MultiPoint") {
          var at = S.works.anchorOf(f.geometry);
          if (at) {
            var latlng = Array.isArray(at) ? [at[1], at[0]] : at;
            var marker = new ShapeMarker(latlng, S.works.symbol(f.properties, 7));
            marker.bindPopup(function () { return S.works.popup(f); }, { maxWidth: 340 });
            marker.bindTooltip(S.works.tooltip(f.properties));
            symbols.addLayer(marker);
          }
        }
      }
    });
    return { works: works, symbols: symbols };
  }

  // Tiled works: the tile holds what is drawn; a click reads the work from the API (the same access
  // policy, the same popup as GeoJSON works). The symbols of lines and areas come in "works-symbols".
  if (tiled.works) {
    addTiles("works", {
      layers: ["works", "works-symbols"],
      query: filterParams().toString(),
      style: function (p, kind, mvtLayer) {
        if (kind === "point") { return S.works.symbol(p, mvtLayer === "works-symbols" ? 7 : 8); }
        return S.works.style(p);
      },
      tooltip: S.works.tooltip
    }).on("featureclick", function (e) {
      fetchJson(config.urls.work.replace("/0/", "/" + encodeURIComponent(e.feature.id) + "/")).then(function (work) {
        openPopup(e.latlng, S.works.popup(work), { maxWidth: 340 });
      }).catch(function (error) {
        // One work's details could not be read: said in its popup, as text; the layer itself is loaded.
        var box = document.createElement("div");
        box.textContent = T.loadError + (error && error.reason ? " (" + error.reason + ")" : "");
        openPopup(e.latlng, box);
      });
    });
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

  var bboxMode = false;

  function matchText(data) {
    if (data.numberMatched === undefined) { return format(T.moreThan, { count: kit.whole(config.countCap) }); }
    return format(data.numberMatched === 1 ? T.matchOne : T.matchMany, { count: data.numberMatched });
  }

  function drawWorks(data) {
    ["works", "workSymbols"].forEach(function (name) { if (layers[name]) { map.removeLayer(layers[name]); } });
    var built = buildWorks(data);
    layers.works = built.works;        // layers is window.worksMapLayers
    layers.workSymbols = built.symbols;
    if (shown("works")) { built.works.addTo(map); built.symbols.addTo(map); }
    restack();
    var capped = data.numberMatched === undefined || data.numberMatched > data.numberReturned;
    bboxMode = bboxMode || capped;
    setStatus(capped ? format(T.capped, { count: data.numberReturned }) : matchText(data));
  }

  // GeoJSON works come from the API with the filters. Tiled works are asked again of the tiles with the
  // filters, and the API only counts them (one feature read, not drawn).
  function loadWorks() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    window.worksMapReady = false;
    setStatus(T.loading);
    var params = filterParams();
    if (tiled.works) {
      layers.works.setQuery(params.toString());
      params.set("limit", "1");
    } else {
      params.set("limit", String(config.limit));
      if (bboxMode) {
        var b = map.getBounds();
        params.set("bbox", [Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()), Math.min(180, b.getEast()),
                            Math.min(90, b.getNorth())].map(function (v) { return v.toFixed(5); }).join(","));
      }
    }
    return fetchJson(config.urls.works + "?" + params.toString(), pending.signal).then(function (data) {
      pending = null;
      loaded(WORKS_LIST);
      if (tiled.works) { setStatus(matchText(data)); } else { drawWorks(data); }
      settle();
    }).catch(function (error) {
      if (error && error.name === "AbortError") { return; }
      pending = null;
      lastStatus = "";  // not "loading…" any more: the failure alone is said
      loadError(WORKS_LIST, error, "works");
      settle();
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
  window.worksMapFeatures = function (name) {
    var layer = layers[name];
    if (!layer || !map.hasLayer(layer)) { return []; }
    return layer.featureIds ? layer.featureIds() : layer.getLayers().map(function (l) { return l.feature.id; });
  };
  var view = readView();
  if (view) { map.setView(view.centre, view.zoom, { animate: false }); }
  Promise.all(base).then(function () {
    if (!view) {
      // Open on the former Phong Thổ district (the plan's area), else on all communes.
      var frame = layers.districts && layers.districts.getLayers().length ? layers.districts : layers.communes;
      if (frame && frame.getLayers().length) { map.fitBounds(frame.getBounds(), { animate: false }); }
    }
    highlightCommune(!view);
    // Tiles are asked for once the view is settled, not for the provisional one first.
    Object.keys(tiled).forEach(function (name) { if (shown(name)) { layers[name].addTo(map); } });
    restack();
    updatePrintLink();
    writeAddress();
    return loadWorks();
  });
})();
