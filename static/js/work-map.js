/* The small map on a work's page: the work's own geometry, no basemap needed. */
(function () {
  "use strict";
  var geometry = JSON.parse(JSON.parse(document.getElementById("work-geometry").textContent));
  var map = L.map("work-map");
  var layer = L.geoJSON(geometry, {
    pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 8, color: "#7a1f1f", fillOpacity: 0.8 }); },
    style: { color: "#7a1f1f", weight: 4 }
  }).addTo(map);
  var bounds = layer.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds.pad(0.5), { maxZoom: 15 }); }
})();
