/* The portal's national map: the search's answer by département at the national zoom, by
   commune within a département, then square by square once zoomed in (the API answers each
   level; the tables of the page say the same in words). */
(function () {
  "use strict";
  var figure = document.getElementById("portal-map");
  var dataNode = document.getElementById("portal-data");
  if (!figure || !dataNode || typeof L === "undefined") return;
  var data = JSON.parse(dataNode.textContent);
  var map = window[figure.getAttribute("data-map")];
  if (!map || !data.query) return;
  var api = figure.getAttribute("data-api");
  var T = data.text;
  var status = document.getElementById("portal-map-status");
  var layer = L.layerGroup().addTo(map);
  var departements = [];
  var asked = 0;
  var COMMUNES_FROM = 8;   // zoom at which a département's communes replace the départements
  var CELLS_FROM = 11;     // zoom at which the squares themselves are drawn
  var CELL_STYLES = {
    green: { color: "#0b3d1a", weight: 1, dashArray: null, fillColor: "#1e7b34", fillOpacity: 0.65 },
    orange: { color: "#6b2a00", weight: 3, dashArray: "6 3", fillColor: "#f08c3a", fillOpacity: 0.5 },
    yellow: { color: "#5c4a00", weight: 1, dashArray: "1 3", fillColor: "#f5d547", fillOpacity: 0.45 },
  };
  // A partner's squares stand out: a blue outline and full colour; the others are paler.
  var PARTNER = { color: "#000091", weight: 1.5 };
  var OTHER = { color: "#8a8a8a", fillOpacity: 0.25 };

  function percent(share) {
    return Math.round(share * 100) + " %";
  }

  // Light to dark green as the share of green squares grows (never colour alone: the tooltip
  // and the tables say the share).
  function shade(share) {
    var steps = ["#f1f8f2", "#c8e6cc", "#8fcb98", "#4fa65e", "#1e7b34", "#0b3d1a"];
    return steps[Math.min(steps.length - 1, Math.floor(share * steps.length))];
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  function ask(params) {
    var mine = ++asked;
    say(T.loading);
    return fetch(api + "?" + params, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(data.query),
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    }).then(function (answer) {
      if (mine !== asked) return null; // a newer view was asked for meanwhile
      return answer;
    });
  }

  function areaMarker(area, level) {
    var share = area.cells ? area.green / area.cells : 0;
    // A département's circle stays within its land at the national zoom, a commune's too at 8.
    var radius = Math.max(4, Math.min(level === "departements" ? 16 : 12, Math.sqrt(area.cells) / (level === "departements" ? 6 : 1.5)));
    var marker = L.circleMarker([area.point[1], area.point[0]], {
      radius: radius, color: "#1b1b1b", weight: 1, fillColor: shade(share), fillOpacity: 0.85,
    });
    marker.bindTooltip(area.name + " — " + percent(share) + " " + T.green_share + " (" + area.green + " / " + area.cells + ")");
    marker.on("click", function () {
      map.setView([area.point[1], area.point[0]], level === "departements" ? COMMUNES_FROM + 1 : CELLS_FROM);
    });
    return marker;
  }

  function drawAreas(answer) {
    layer.clearLayers();
    answer.areas.forEach(function (area) { layer.addLayer(areaMarker(area, answer.level)); });
    if (answer.level === "departements") departements = answer.areas;
  }

  function drawCells(answer) {
    layer.clearLayers();
    answer.cells.forEach(function (cell) {
      var style = L.extend({}, CELL_STYLES[cell.status]);
      L.extend(style, cell.partner ? PARTNER : OTHER);
      var square = L.polygon(cell.corners, style);
      square.bindTooltip(T["status_" + cell.status] + (cell.partner ? " — " + T.partner : ""));
      square.on("click", function () { open(cell.id); });
      layer.addLayer(square);
    });
  }

  // --- one square explained, in the panel beside the map ---------------------------------
  var panel = document.getElementById("portal-cell");

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function open(cellId) {
    var body = L.extend({}, data.query, { cell: cellId });
    fetch(figure.getAttribute("data-cell-api"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    }).then(show).catch(function () { say(T.failed); });
  }

  function show(cell) {
    if (!panel) return;
    panel.replaceChildren();
    var heading = element("h3", T["status_" + cell.status], "cell-status");
    heading.id = "portal-cell-title";
    heading.tabIndex = -1;
    panel.appendChild(heading);
    if (cell.communes.length) {
      panel.appendChild(element("p", T.communes + " : " + cell.communes.map(function (c) { return c.name; }).join(", ")));
    }
    var list = element("ul", undefined, "cell-criteria");
    cell.criteria.forEach(function (c) {
      var value = c.value_text || T.unknown;
      list.appendChild(element("li", c.label + " : " + value + " (" + T.asked + " " + c.threshold_text + ") — " + (c.ok ? T.met : T.not_met)));
    });
    panel.appendChild(list);
    if (!cell.listings_open) {
      var locked = element("p", T.listings_locked + " ");
      var more = element("a", T.complete);
      more.href = data.project_url;
      locked.appendChild(more);
      panel.appendChild(locked);
    } else if (cell.listings.length) {
      panel.appendChild(element("h4", T.listings));
      var found = element("ul", undefined, "cell-listings");
      cell.listings.forEach(function (x) {
        var item = element("li");
        var title = x.url ? element("a", x.title) : element("span", x.title);
        if (x.url) title.href = x.url;
        item.appendChild(title);
        var where = x.in_cell ? T.in_cell : T.km_away.replace("{km}", String(x.distance_km).replace(".", T.decimal));
        item.appendChild(element("span", " — " + x.kind_title + ", " + x.commune + " (" + where + ")" + (x.summary.length ? " · " + x.summary.join(" · ") : "")));
        found.appendChild(item);
      });
      panel.appendChild(found);
    }
    cell.partners.forEach(function (p) {
      var line = element("p");
      if (p.site) {
        var link = element("a", T.visit.replace("{name}", p.name));
        link.href = p.site;
        line.appendChild(link);
      } else {
        line.textContent = T.partner_named.replace("{name}", p.name);
      }
      panel.appendChild(line);
    });
    var close = element("button", T.close, "button button-secondary");
    close.type = "button";
    close.addEventListener("click", hide);
    panel.appendChild(close);
    panel.hidden = false;
    heading.focus();
  }

  function hide() {
    if (!panel || panel.hidden) return;
    panel.hidden = true;
    figure.querySelector(".folium-map").focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") hide();
  });

  function nearestDepartement() {
    var centre = map.getCenter(), best = null, bestDistance = Infinity;
    departements.forEach(function (d) {
      var distance = centre.distanceTo([d.point[1], d.point[0]]);
      if (distance < bestDistance) { best = d; bestDistance = distance; }
    });
    return best;
  }

  function refresh() {
    var zoom = map.getZoom(), request;
    if (zoom >= CELLS_FROM) {
      var b = map.getBounds();
      var box = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(4); });
      request = ask("level=cells&bbox=" + box.join(",")).then(function (answer) {
        if (!answer) return;
        drawCells(answer);
        say(T.cells_shown.replace("{n}", answer.cells.length));
      });
    } else if (zoom >= COMMUNES_FROM && departements.length) {
      var d = nearestDepartement();
      request = ask("level=communes&departement=" + encodeURIComponent(d.code)).then(function (answer) {
        if (!answer) return;
        drawAreas(answer);
        say(T.communes_shown.replace("{name}", d.name));
      });
    } else {
      request = ask("level=departements").then(function (answer) {
        if (!answer) return;
        drawAreas(answer);
        say(T.departements_shown);
      });
    }
    request.catch(function () { say(T.failed); });
  }

  var timer = null;
  map.on("moveend", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });
  refresh();
})();
