/* How the home map draws and describes each layer, whether it comes as GeoJSON or as vector tiles:
 * styles are Leaflet path options computed from a feature's properties, popups and tooltips are DOM
 * nodes holding data as text (never HTML). window.HomeMapStyles(config) returns them by layer.
 */
(function () {
  "use strict";
  var kit = window.WorksMapKit;
  var el = kit.el, millions = kit.millions, dayMonthYear = kit.dayMonthYear, swatch = kit.swatch;

  window.HomeMapStyles = function (config) {
    var T = config.text;

    function popup(title, rows, options) {
      options = options || {};
      options.demoLabel = T.demo;
      options.linkLabel = T.details;
      return kit.popup(title, rows, options);
    }

    function outline(shape) { return config.shapes[shape] || config.shapes.circle; }
    function tooltipText(text) { return el("span", text); }

    function surfaceDash(surface) { return config.surfaceDash[config.surfaceGroups[surface] || "earth"] || null; }

    var communes = {
      tooltip: function (p) { return tooltipText(p.unit_type + " " + p.name); },
      popup: function (p) {
        return popup(p.unit_type + " " + p.name, [[T.population, p.population], [T.poorHouseholds, p.poor_households]]);
      }
    };

    var roads = {
      style: function (p) {
        var weight = p.road_class === "national" ? 4 : (p.road_class === "provincial" ? 3 : 2);
        return { color: "#6d4c41", weight: weight, dashArray: surfaceDash(p.surface), opacity: 0.9 };
      },
      popup: function (p) {
        return popup(p.name, [[T.surface, config.surfaces[p.surface]], [T.allSeason, p.all_season ? T.yes : T.no]],
                     { isDemo: p.is_demo });
      }
    };

    var links = {
      style: function (p) {
        var s = config.linkStyles[p.status] || config.linkStyles.unknown;
        return { color: s.colour, weight: 1.5, dashArray: s.dash || null, opacity: 0.85 };
      },
      popup: function (p) {
        var s = config.linkStyles[p.status] || config.linkStyles.unknown;
        var km = kit.decimal(p.distance_m / 1000, 1) + " " + T.km;
        return popup(p.village + " → " + p.commune, [[T.distance, km], [T.connection, s.label]],
                     { subtitle: T.link, isDemo: p.is_demo });
      }
    };

    var villages = {
      // A circle sized by population.
      style: function (p) {
        return { radius: Math.min(3 + Math.sqrt(p.population || 0) / 6, 14), color: "#455a64", weight: 1.2,
                 fillColor: "#ffffff", fillOpacity: 0.95 };
      },
      tooltip: function (p) { return tooltipText(p.name); },
      popup: function (p) {
        return popup(p.name, [[T.commune, p.commune], [T.population, p.population], [T.households, p.households],
                              [T.poorHouseholds, p.poor_households], [T.nearPoorHouseholds, p.near_poor_households]],
                     { isDemo: p.is_demo });
      }
    };

    var maintenance = {
      // A ring around each work that needs upkeep (a wide pale line along line works), under the work's symbol.
      ring: function (p) {
        var s = config.maintenanceStyles[p.status] || {};
        return { radius: 13, color: s.colour || "#e65100", weight: 3, fill: false };
      },
      style: function (p) {
        var s = config.maintenanceStyles[p.status] || {};
        return { color: s.colour || "#e65100", weight: 7, opacity: 0.45 };
      },
      popup: function (p) {
        var s = config.maintenanceStyles[p.status] || {};
        return popup(p.code + " – " + p.name, [[T.maintenance, s.label], [T.nextDue, p.next_due ? dayMonthYear(p.next_due) : null],
                                               [T.commune, p.commune]], { isDemo: p.is_demo });
      }
    };

    var centres = {
      style: { radius: 6, color: "#000", weight: 2, fillColor: "#ffd600", fillOpacity: 1 },
      tooltip: function (p) { return tooltipText(T.centre + ": " + p.name); },
      popup: function (p) { return popup(T.centre + ": " + p.unit_type + " " + p.name, [[null, p.centre_address]]); }
    };

    function workColour(p) { return (config.stages[p.stage] || {}).colour || "#777"; }
    function workShape(p) { return (config.categories[p.category] || {}).shape || "circle"; }

    var works = {
      // A work's symbol: its category's outline in its stage's colour (radius 7 where it marks a line or an area).
      symbol: function (p, radius) {
        return { outline: outline(workShape(p)), radius: radius || 8, color: "#1b1b1b", weight: 1.2,
                 fillColor: workColour(p), fillOpacity: 1 };
      },
      // Lines and areas in the stage's colour; a road work dashed by its surface like the other roads.
      style: function (p) {
        var style = { color: workColour(p), weight: p.category === "road" ? 5 : 3.5, opacity: 0.95, fillOpacity: 0.35 };
        if (p.category === "road") { style.dashArray = surfaceDash(p.road_surface); }
        return style;
      },
      tooltip: function (p) { return tooltipText(p.name + (p.is_demo ? " (" + T.demo + ")" : "")); },
      // f is a GeoJSON Feature: the API's works list and one work (/api/works/<id>/) both give these properties.
      popup: function (f) {
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
      },
      // Where a line or area work carries its category symbol: its middle vertex (of its longest part), or
      // its bounding box's centre. Vector tiles place it the same way (infra/ogc/tiles.py, _ANCHOR).
      anchorOf: function (geometry) {
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
    };

    return { communes: communes, roads: roads, links: links, villages: villages, maintenance: maintenance,
             centres: centres, works: works };
  };
})();
