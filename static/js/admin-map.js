/* The admin's map widgets (django-leaflet), usable with no internet: the commune boundaries and the villages,
 * from this server, are the base on which a work (or a village, a road) is drawn, as on the home map; and on a
 * Vietnamese page the drawing tools speak Vietnamese (django-leaflet has no Vietnamese of its own).
 * Loaded with the widget's own scripts (settings.LEAFLET_CONFIG["PLUGINS"]["forms"]); acts on "map:init",
 * which django-leaflet sends before it adds its drawing tools. */
(function () {
  "use strict";

  var VI = {
    draw: {
      toolbar: {
        actions: {title: "Hủy vẽ", text: "Hủy"},
        finish: {title: "Kết thúc vẽ", text: "Xong"},
        undo: {title: "Xóa điểm vừa vẽ", text: "Xóa điểm cuối"},
        buttons: {polyline: "Vẽ đường", polygon: "Vẽ vùng", rectangle: "Vẽ hình chữ nhật", circle: "Vẽ hình tròn",
                  marker: "Đặt điểm", circlemarker: "Đặt điểm tròn"}
      },
      handlers: {
        marker: {tooltip: {start: "Bấm vào bản đồ để đặt điểm."}},
        polygon: {tooltip: {start: "Bấm để bắt đầu vẽ vùng.", cont: "Bấm để vẽ tiếp.",
                            end: "Bấm vào điểm đầu để khép vùng."}},
        polyline: {error: "<strong>Lỗi:</strong> các cạnh không được cắt nhau!",
                   tooltip: {start: "Bấm để bắt đầu vẽ đường.", cont: "Bấm để vẽ tiếp.",
                             end: "Bấm vào điểm cuối để kết thúc đường."}},
        rectangle: {tooltip: {start: "Bấm và kéo để vẽ hình chữ nhật."}},
        circle: {tooltip: {start: "Bấm và kéo để vẽ hình tròn."}},
        simpleshape: {tooltip: {end: "Thả chuột để kết thúc."}}
      }
    },
    edit: {
      toolbar: {
        actions: {save: {title: "Lưu thay đổi", text: "Lưu"}, cancel: {title: "Hủy, bỏ mọi thay đổi", text: "Hủy"},
                  clearAll: {title: "Xóa hết", text: "Xóa hết"}},
        buttons: {edit: "Sửa hình", editDisabled: "Không có hình để sửa", remove: "Xóa hình",
                  removeDisabled: "Không có hình để xóa"}
      },
      handlers: {
        edit: {tooltip: {text: "Kéo các điểm để sửa hình.", subtext: "Bấm Hủy để bỏ thay đổi."}},
        remove: {tooltip: {text: "Bấm vào hình để xóa."}}
      }
    }
  };
  var ZOOM = {".leaflet-control-zoom-in": "Phóng to", ".leaflet-control-zoom-out": "Thu nhỏ"};

  function merge(target, source) {
    Object.keys(source).forEach(function (key) {
      if (source[key] && typeof source[key] === "object" && target[key] && typeof target[key] === "object") {
        merge(target[key], source[key]);
      } else {
        target[key] = source[key];
      }
    });
  }

  function vietnamese() {
    return (document.documentElement.getAttribute("lang") || "").toLowerCase().indexOf("vi") === 0;
  }

  var loaded = {};
  function load(url) {
    if (!loaded[url]) {
      loaded[url] = fetch(url, {credentials: "same-origin"}).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
    }
    return loaded[url];
  }

  function note(map, text) {
    var box = document.createElement("div");
    box.className = "admin-map-note";
    box.setAttribute("role", "status");
    box.textContent = text;
    box.style.cssText = "position:absolute;bottom:4px;left:4px;z-index:1000;background:#fff;padding:2px 6px;" +
      "border:1px solid #b71c1c;color:#b71c1c;font-size:12px";
    map.getContainer().appendChild(box);
  }

  window.addEventListener("map:init", function (event) {
    var map = event.detail.map;
    window.adminMaps = (window.adminMaps || []).concat([map]);  // for tests, and for anyone debugging a page
    if (vietnamese()) {
      if (window.L && L.drawLocal) { merge(L.drawLocal, VI); }
      Object.keys(ZOOM).forEach(function (selector) {
        var button = map.getContainer().querySelector(selector);
        if (button) { button.title = ZOOM[selector]; button.setAttribute("aria-label", ZOOM[selector]); }
      });
    }
    // The field the map edits: its map is "<field id>-map" (django-leaflet's widget). A geometry already there is
    // what the map shows first; only an empty one lets the map frame the communes.
    var fieldId = String(event.detail.id || "").replace(/[-_]map$/, "");
    var field = document.getElementById(fieldId) || document.getElementById(fieldId.replace(/_/g, "-"));
    var drawn = field && field.value ? field.value.trim() : "";
    map.getContainer().setAttribute("data-base", "loading");
    var communes = load("/layers/communes.geojson").then(function (data) {
      var layer = L.geoJSON(data, {
        style: {color: "#5d4037", weight: 1.5, fillColor: "#d7ccc8", fillOpacity: 0.08},
        onEachFeature: function (feature, shape) {
          var name = (feature.properties || {}).name;
          if (name) { shape.bindTooltip(String(name), {sticky: true}); }
        }
      }).addTo(map);
      layer.bringToBack();
      if (!drawn && layer.getBounds().isValid()) { map.fitBounds(layer.getBounds()); }
      return layer;
    });
    var villages = load("/layers/villages.geojson").then(function (data) {
      return L.geoJSON(data, {
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, {radius: 3, color: "#1b5e20", weight: 1, fillOpacity: 0.8});
        },
        onEachFeature: function (feature, shape) {
          var name = (feature.properties || {}).name;
          if (name) { shape.bindTooltip(String(name)); }
        }
      }).addTo(map);
    });
    Promise.all([communes, villages]).then(function () {
      map.getContainer().setAttribute("data-base", "ready");
    }, function () {
      map.getContainer().setAttribute("data-base", "failed");
      note(map, vietnamese() ? "Không tải được ranh giới xã và thôn bản: tải lại trang để thử lại."
                             : "The commune boundaries and villages could not be loaded: reload the page to try again.");
    });
  });
}());
