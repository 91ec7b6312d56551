/* The home map. Every text from data goes into the page as DOM text, never as HTML. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var T = config.text;

  // Leaflet speaks [lat, lon]; GeoJSON and the database speak [lon, lat].
  var map = L.map("map", { preferCanvas: true }).setView([22.62, 103.35], 10);
  var overlays = {};
  var byName = {};
  var control = L.control.layers(null, overlays, { collapsed: false }).addTo(map);

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function popup(title, rows, link, isDemo) {
    var box = el("div", null, "popup");
    var h = el("strong", title);
    box.appendChild(h);
    if (isDemo) { box.appendChild(document.createTextNode(" ")); box.appendChild(el("span", T.demo, "badge-demo")); }
    var dl = el("dl");
    rows.forEach(function (row) {
      if (row[1] === null || row[1] === undefined || row[1] === "") { return; }
      dl.appendChild(el("dt", row[0]));
      dl.appendChild(el("dd", row[1]));
    });
    box.appendChild(dl);
    if (link) {
      var a = el("a", T.details);
      a.href = link;
      box.appendChild(a);
    }
    return box;
  }

  function millions(vnd) {
    // Vietnamese separators: dot for thousands, comma for decimals (82.075 triệu đồng).
    var m = Number(vnd) / 1e6;
    return m.toLocaleString("vi-VN", { maximumFractionDigits: 3 }) + " " + T.millionVnd;
  }

  function addLayer(name, label, options, show) {
    return fetch(config.layers[name], { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        var layer = L.geoJSON(data, options);
        layer.featureCount = data.features.length;
        overlays[label] = layer;
        byName[name] = layer;
        control.addOverlay(layer, label);
        if (show) { layer.addTo(map); }
        return layer;
      })
      .catch(function () {
        var note = el("div", T.loadError + ": " + label, "legend");
        var ctl = L.control({ position: "bottomleft" });
        ctl.onAdd = function () { return note; };
        ctl.addTo(map);
      });
  }

  var pending = [];
  var communes = addLayer("communes", T.communes, {
    style: { color: "#7a1f1f", weight: 1.5, fillColor: "#f6efe6", fillOpacity: 0.5 },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup(popup(p.unit_type + " " + p.name, [[T.population, p.population]]));
      layer.bindTooltip(p.name, { sticky: true });
    }
  }, true);

  pending.push(addLayer("districts", T.district, {
    style: { color: "#333", weight: 3, dashArray: "6 4", fill: false }
  }, true));

  pending.push(addLayer("roads", T.roads, {
    style: function (f) {
      // Hardened surfaces solid, gravel dashed, earth dotted: the connectivity question at a glance.
      var s = f.properties.surface;
      if (s === "asphalt" || s === "concrete" || s === "cement") { return { color: "#c0392b", weight: f.properties.road_class === "national" ? 4 : 2.5 }; }
      if (s === "gravel") { return { color: "#d68910", weight: 2, dashArray: "6 4" }; }
      return { color: "#8e6e53", weight: 2, dashArray: "2 4" };
    },
    onEachFeature: function (f, layer) {
      layer.bindPopup(popup(f.properties.name, [[T.surface, config.surfaces[f.properties.surface]]], null, f.properties.is_demo));
    }
  }, true));

  pending.push(addLayer("villages", T.villages, {
    pointToLayer: function (f, latlng) {
      var r = 3 + Math.sqrt((f.properties.population || 0) / 60);
      return L.circleMarker(latlng, { radius: Math.min(r, 12), color: "#555", weight: 1, fillColor: "#fff", fillOpacity: 0.9 });
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup(popup(p.name, [[T.commune, p.commune], [T.population, p.population], [T.poorHouseholds, p.poor_households]], null, p.is_demo));
    }
  }, true));

  pending.push(addLayer("centres", T.centres, {
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, { radius: 7, color: "#000", weight: 2, fillColor: "#ffd700", fillOpacity: 1 });
    },
    onEachFeature: function (f, layer) {
      layer.bindPopup(popup(T.centre + ": " + f.properties.name, [[null, f.properties.address]].filter(function (r) { return r[1]; })));
    }
  }, true));

  pending.push(addLayer("works", T.works, {
    pointToLayer: function (f, latlng) {
      var c = config.categories[f.properties.category];
      return L.circleMarker(latlng, { radius: 6, color: "#222", weight: 1, fillColor: c ? c.colour : "#000", fillOpacity: 0.9 });
    },
    style: function (f) {
      var c = config.categories[f.properties.category];
      return { color: c ? c.colour : "#000", weight: 4, fillOpacity: 0.5 };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      var cat = config.categories[p.category];
      layer.bindPopup(popup(p.code + " – " + p.name, [
        [T.category, cat ? cat.label : p.category],
        [T.stage, config.stages[p.stage]],
        [T.progress, p.progress + " %"],
        [T.commune, p.commune],
        [T.year, p.year],
        [T.investment, millions(p.total_investment)]
      ], config.detailUrl.replace("/0/", "/" + f.id + "/"), p.is_demo));
    }
  }, true));

  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var box = el("div", null, "legend");
    box.appendChild(el("h3", T.legend));
    box.appendChild(el("div", T.works, "legend-title"));
    Object.keys(config.categories).forEach(function (code) {
      var row = el("div");
      var sw = el("span", null, "swatch");
      sw.style.background = config.categories[code].colour;
      row.appendChild(sw);
      row.appendChild(document.createTextNode(config.categories[code].label));
      box.appendChild(row);
    });
    var centre = el("div");
    var sw = el("span", null, "swatch");
    sw.style.background = "#ffd700";
    centre.appendChild(sw);
    centre.appendChild(document.createTextNode(T.centre));
    box.appendChild(centre);
    var village = el("div");
    var vs = el("span", null, "swatch");
    vs.style.background = "#fff";
    village.appendChild(vs);
    village.appendChild(document.createTextNode(T.villages));
    box.appendChild(village);
    return box;
  };
  legend.addTo(map);
  pending.push(communes);
  // Tests and embedding pages wait on this rather than on timers.
  window.worksMap = map;
  window.worksMapLayers = byName;
  Promise.all(pending).then(function () {
    // Open on the former Phong Thổ district (the plan's area), else on all communes.
    var frame = byName.districts && byName.districts.getLayers().length ? byName.districts : byName.communes;
    if (frame && frame.getLayers().length) { map.fitBounds(frame.getBounds(), { animate: false }); }
    window.worksMapReady = true;
  });
})();
