/* The small map on a work's page: the work's own geometry, no basemap needed. */
(function () {
  "use strict";
  var geometry = JSON.parse(JSON.parse(document.getElementById("work-geometry").textContent));
  var colour = JSON.parse(document.getElementById("work-colour").textContent);
  var areaText = JSON.parse(document.getElementById("work-area").textContent);
  var map = L.map("work-map");
  if (areaText) {
    // The commune around the work, so the map has a frame even with no background tiles.
    L.geoJSON(JSON.parse(areaText), { style: { color: "#7a1f1f", weight: 1.5, fillColor: "#f6efe6", fillOpacity: 0.6 },
                                      interactive: false }).addTo(map);
  }
  L.control.scale({ imperial: false }).addTo(map);
  // Leaflet speaks [lat, lon]; the geometry is GeoJSON [lon, lat].
  var layer = L.geoJSON(geometry, {
    pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 9, color: "#1b1b1b", weight: 2, fillColor: colour, fillOpacity: 0.95 }); },
    // A GeoJSON layer styles its point markers too; leave those as pointToLayer drew them.
    style: function (f) { return /Point$/.test(f.geometry.type) ? {} : { color: colour, weight: 5, fillOpacity: 0.4 }; }
  }).addTo(map);
  // Photos that carry a GPS position: where they were taken, with their title as text.
  var photos = JSON.parse(document.getElementById("work-photos").textContent) || [];
  photos.forEach(function (photo) {
    var marker = L.circleMarker([photo.lat, photo.lon], { radius: 5, color: "#0d47a1", weight: 2, fillColor: "#ffffff", fillOpacity: 1 });
    var label = document.createElement("span");
    label.textContent = "📷 " + photo.title;
    marker.bindTooltip(label).addTo(map);
    layer.addLayer(marker);
  });
  var bounds = layer.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds.pad(0.5), { maxZoom: 15 }); }
})();
