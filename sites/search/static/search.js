// The search page without reloads: the cell layer is fetched once (cacheable), each search
// sends the criteria to the API and recolours the cells from its compact answer; the table,
// the counts and the cell panel are refreshed in place. Without this script the form and the
// table work by plain GET requests.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var dataNode = document.getElementById("search-data");
  if (!form || !dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var T = data.text;
  var figure = document.getElementById("search-map");
  var panel = document.getElementById("cell-panel");
  var tableBox = document.getElementById("cell-table");
  var summary = document.getElementById("search-summary");
  var saveQuery = document.getElementById("save-query");
  var map = figure && window[figure.getAttribute("data-map")];
  var cells = []; // [{id, layer}] in the layer's order
  var statuses = ""; // one character per cell, same order
  var lastQuery = null; // the body of the last search that succeeded
  var opener = null; // what to give the focus back to when the panel closes
  var openCell = null;
  var tableState = { sort: null, page: null };

  // --- styles: colour AND pattern/outline, so status never rests on colour alone ------------
  function pattern(draw) {
    var c = document.createElement("canvas");
    c.width = c.height = 8;
    var ctx = c.getContext("2d");
    draw(ctx);
    return ctx.createPattern(c, "repeat");
  }
  var hatch = pattern(function (ctx) {
    ctx.fillStyle = "#ffe0c2";
    ctx.fillRect(0, 0, 8, 8);
    ctx.strokeStyle = "#b34700";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(0, 8); ctx.lineTo(8, 0);
    ctx.moveTo(-2, 2); ctx.lineTo(2, -2);
    ctx.moveTo(6, 10); ctx.lineTo(10, 6);
    ctx.stroke();
  });
  var dots = pattern(function (ctx) {
    ctx.fillStyle = "#fff7cc";
    ctx.fillRect(0, 0, 8, 8);
    ctx.fillStyle = "#7a6200";
    ctx.beginPath();
    ctx.arc(4, 4, 1.3, 0, 2 * Math.PI);
    ctx.fill();
  });
  var STYLES = {
    g: { color: "#0b3d1a", weight: 1, dashArray: null, fillColor: "#1e7b34", fillOpacity: 0.65 },
    o: { color: "#6b2a00", weight: 3, dashArray: "6 3", fillColor: hatch, fillOpacity: 0.85 },
    y: { color: "#5c4a00", weight: 1, dashArray: "1 3", fillColor: dots, fillOpacity: 0.6 },
    n: { color: "#5a5a5a", weight: 0.5, dashArray: null, fillColor: "#ffffff", fillOpacity: 0.05 },
  };
  var SELECTED = { color: "#000091", weight: 5, dashArray: null };

  function styleOf(i) {
    var s = STYLES[statuses.charAt(i)] || STYLES.n;
    if (cells[i] && cells[i].id === openCell) {
      return L.extend({}, s, SELECTED);
    }
    return s;
  }

  function recolour() {
    for (var i = 0; i < cells.length; i++) cells[i].layer.setStyle(styleOf(i));
    if (figure) figure.setAttribute("data-statuses", statuses ? "1" : "0");
  }

  // --- the geometry layer ------------------------------------------------------------------
  // Asked for as soon as the script runs (the page's <link rel=preload> has usually asked
  // already); drawn once, each cell in its final style when the statuses are known by then.
  function fetchLayer() {
    return fetch(figure.getAttribute("data-cells"), { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }

  function drawCells(layer) {
    var renderer = L.canvas({ padding: 0.2 });
    var v = layer.cells, scale = layer.scale;
    var n = 0, e = 0, lon = 0, lat = 0, rings = [];
    var south = Infinity, west = Infinity, north = -Infinity, east = -Infinity;
    for (var i = 0, k = 0; i < layer.count; i++, k += 8) {
      n += v[k]; e += v[k + 1]; lon += v[k + 2]; lat += v[k + 3];
      var ex = [v[k + 4], v[k + 5]], ny = [v[k + 6], v[k + 7]];
      var ring = [
        [lat / scale, lon / scale],
        [(lat + ex[1]) / scale, (lon + ex[0]) / scale],
        [(lat + ex[1] + ny[1]) / scale, (lon + ex[0] + ny[0]) / scale],
        [(lat + ny[1]) / scale, (lon + ny[0]) / scale],
      ];
      for (var c = 0; c < 4; c++) {
        south = Math.min(south, ring[c][0]); north = Math.max(north, ring[c][0]);
        west = Math.min(west, ring[c][1]); east = Math.max(east, ring[c][1]);
      }
      var grid = layer.grid || layer.grids[i];
      cells.push({ id: "CRS" + grid + "RES1000mN" + n * 1000 + "E" + e * 1000, ring: ring });
    }
    // The view first, then the cells: each is projected once, at the zoom it is shown at.
    if (cells.length) map.fitBounds([[south, west], [north, east]], { animate: false });
    for (var j = 0; j < cells.length; j++) {
      var polygon = L.polygon(cells[j].ring, L.extend({ renderer: renderer }, styleOf(j)));
      polygon.cellId = cells[j].id;
      polygon.on("click", onCellClick);
      polygon.addTo(map);
      cells[j].layer = polygon;
      cells[j].ring = null;
    }
    figure.setAttribute("data-cell-count", String(cells.length));
    if (statuses) figure.setAttribute("data-statuses", "1");
  }

  function loadCells() {
    if (!map) return Promise.resolve();
    return fetchLayer().then(drawCells);
  }

  function onCellClick(event) {
    opener = figure.querySelector(".folium-map");
    openPanel(event.target.cellId);
  }

  // --- the query -----------------------------------------------------------------------------
  function number(raw) {
    var text = String(raw || "").replace(/[\s\u202f\u00a0]/g, "").replace(",", ".");
    if (!text) return null;
    var value = Number(text);
    return isFinite(value) ? value : NaN;
  }

  function readForm() {
    var body = { criteria: [] };
    var pairs = [];
    var bad = false;
    form.querySelectorAll("input[name=c]").forEach(function (box) {
      if (!box.checked) return;
      var id = box.value;
      var threshold = number(document.getElementById("t-" + id).value);
      var nice = document.getElementById("n-" + id).checked;
      if (threshold !== null && isNaN(threshold)) bad = true;
      var item = { id: id, importance: nice ? "nice" : "must" };
      pairs.push(["c", id]);
      if (threshold !== null) {
        item.threshold = threshold;
        pairs.push([id, String(threshold)]);
      }
      pairs.push([id + "_i", item.importance]);
      body.criteria.push(item);
    });
    var budget = number(form.elements.budget.value);
    if (budget !== null) { body.budget = budget; pairs.push(["budget", String(budget)]); }
    var household = {};
    ["adults", "children"].forEach(function (key) {
      var value = number(form.elements[key].value);
      if (value !== null) { household[key] = value; pairs.push([key, String(value)]); }
      if (value !== null && (isNaN(value) || value !== Math.round(value))) bad = true;
    });
    if (budget !== null && isNaN(budget)) bad = true;
    if (Object.keys(household).length) body.household = household;
    var qs = pairs.map(function (p) {
      return encodeURIComponent(p[0]) + "=" + encodeURIComponent(p[1]);
    }).join("&");
    return { body: body, qs: qs, bad: bad };
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  }

  // --- search --------------------------------------------------------------------------------
  // The API's answer to the form: {q, result}, result null when the server is to say what is
  // wrong (the form is then sent as a page, errors beside their fields).
  function ask() {
    var q = readForm();
    if (q.bad) { form.submit(); return Promise.resolve({ q: q, result: null }); }
    form.setAttribute("aria-busy", "true");
    return post(form.getAttribute("data-api") + "?format=compact", q.body)
      .then(function (r) {
        if (r.status === 400 || r.status === 403) { form.submit(); return null; } // said beside the fields
        if (!r.ok) throw new Error(r.status);
        return r.json();
      })
      .then(function (result) { return { q: q, result: result }; });
  }

  function show(answer, updateTable) {
    var q = answer.q, result = answer.result;
    if (!result) return;
    lastQuery = q.body;
    statuses = cells.length === result.statuses.length ? result.statuses : "";
    if (cells.length && !statuses) loadAgain();
    recolour();
    history.replaceState(null, "", location.pathname + (q.qs ? "?" + q.qs : ""));
    if (saveQuery) saveQuery.value = q.qs;
    if (figure) figure.setAttribute("data-version", result.version);
    if (updateTable) {
      tableState = { sort: null, page: null };
      return refreshTable(q.qs).then(reveal);
    }
  }

  function failed() { summary.textContent = T.failed; }
  function settled() { form.removeAttribute("aria-busy"); }

  function search(updateTable) {
    return ask()
      .then(function (answer) { return show(answer, updateTable); })
      .catch(failed)
      .then(settled);
  }

  function loadAgain() {
    // The territory's cells changed since the layer was loaded: draw the new layer.
    cells.forEach(function (c) { map.removeLayer(c.layer); });
    cells = [];
    loadCells().then(function () { search(false); });
  }

  function refreshTable(qs, focusSelector) {
    var extra = [];
    if (tableState.sort) extra.push("sort=" + encodeURIComponent(tableState.sort));
    if (tableState.page) extra.push("page=" + encodeURIComponent(tableState.page));
    var url = form.getAttribute("data-table") + "?" + [qs].concat(extra).filter(Boolean).join("&");
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var newSummary = doc.querySelector("[data-part=summary]");
        var newTable = doc.querySelector("[data-part=table]");
        if (newSummary) summary.replaceChildren.apply(summary, Array.from(newSummary.childNodes));
        if (newTable) tableBox.replaceChildren.apply(tableBox, Array.from(newTable.childNodes));
        if (focusSelector) {
          var target = tableBox.querySelector(focusSelector);
          if (target) target.focus();
        }
      });
  }

  // After "Search": the answer comes into view (on a phone it lies below the whole form). The
  // heading takes the focus, so that reading goes on from there; the summary, a live region,
  // announces the counts and the advice.
  function reveal() {
    var heading = document.getElementById("results-title");
    if (!heading) return;
    heading.focus({ preventScroll: true });
    var box = summary.getBoundingClientRect();
    if (box.top >= 0 && box.bottom <= window.innerHeight) return; // already in sight
    var calm = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    heading.scrollIntoView({ behavior: calm ? "auto" : "smooth", block: "start" });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    search(true);
  });

  // Presets fill the form, then search.
  var presetForm = document.getElementById("preset-form");
  if (presetForm) {
    presetForm.addEventListener("submit", function (event) {
      var key = presetForm.elements.preset.value;
      var preset = data.presets[key];
      if (!preset) return; // "choose": nothing to fill, let the page say so
      event.preventDefault();
      var wanted = {};
      preset.criteria.forEach(function (c) { wanted[c.id] = c; });
      form.querySelectorAll("input[name=c]").forEach(function (box) {
        var c = wanted[box.value];
        box.checked = !!c;
        if (c) {
          document.getElementById("t-" + box.value).value = c.threshold;
          document.getElementById((c.importance === "nice" ? "n-" : "m-") + box.value).checked = true;
        }
      });
      search(true);
    });
  }

  // --- the table: sort, pages and details, in place -------------------------------------------
  tableBox.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !tableBox.contains(button)) return;
    var qs = readForm().qs;
    if (button.hasAttribute("data-sort")) {
      event.preventDefault();
      var sort = button.getAttribute("data-sort");
      tableState = { sort: sort, page: null };
      refreshTable(qs, "button[data-sort$='" + sort.replace(/^-/, "") + "']");
    } else if (button.hasAttribute("data-page")) {
      event.preventDefault();
      tableState.page = button.getAttribute("data-page");
      refreshTable(qs, ".table-scroll");
    } else if (button.hasAttribute("data-open-cell")) {
      event.preventDefault();
      opener = button;
      openPanel(button.getAttribute("data-open-cell"));
    }
  });

  // --- the panel of one cell ------------------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function closePanel() {
    panel.hidden = true;
    panel.replaceChildren();
    openCell = null;
    document.querySelectorAll("tr.is-open").forEach(function (tr) { tr.classList.remove("is-open"); });
    recolour();
    if (opener && document.contains(opener)) opener.focus();
  }

  function openPanel(id) {
    openCell = id;
    recolour();
    document.querySelectorAll("tr.is-open").forEach(function (tr) { tr.classList.remove("is-open"); });
    var row = tableBox.querySelector("tr[data-cell='" + id + "']");
    if (row) row.classList.add("is-open");
    panel.hidden = false;
    panel.replaceChildren(el("p", { role: "status" }, T.loading));
    var body = Object.assign({}, lastQuery || readForm().body, { cell: id });
    post(form.getAttribute("data-api") + "/cell", body)
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (cell) { renderPanel(cell); })
      .catch(function () { panel.replaceChildren(el("p", {}, T.failed)); });
  }

  function renderPanel(cell) {
    var names = cell.communes.map(function (c) { return c.name; }).join(", ");
    var head = el("div", { class: "panel-head" });
    head.appendChild(el("h2", { id: "panel-title", tabindex: "-1" }, T.cell + " — " + names));
    var close = el("button", { type: "button", class: "button button-secondary panel-close" }, T.close);
    close.addEventListener("click", closePanel);
    head.appendChild(close);
    var status = el("p", { class: "panel-status" });
    status.appendChild(el("span", { class: "swatch swatch-" + cell.status.charAt(0), "aria-hidden": "true" }));
    status.appendChild(document.createTextNode(T["status_" + cell.status.charAt(0)]));
    var nodes = [head, status, el("h3", {}, T.communes)];
    var list = el("ul");
    cell.communes.forEach(function (c) { list.appendChild(el("li", {}, c.name + " (" + c.insee + ")")); });
    nodes.push(list);
    if (cell.criteria.length) {
      nodes.push(el("h3", {}, T.criteria));
      var table = el("table", { class: "panel-criteria" });
      var tr = el("tr");
      [T.criterion, T.value, T.threshold, ""].forEach(function (t) { tr.appendChild(el("th", { scope: "col" }, t)); });
      table.appendChild(el("thead")).appendChild(tr);
      var tbody = table.appendChild(el("tbody"));
      cell.criteria.forEach(function (c) {
        var row = el("tr");
        var th = el("th", { scope: "row" }, c.label + " ");
        th.appendChild(el("span", { class: "importance" }, "(" + (c.importance === "must" ? T.must : T.nice) + ")"));
        row.appendChild(th);
        // Worded by the server, as the table and the summary are (sites/search/values.py).
        row.appendChild(el("td", {}, c.value_text || T.unknown));
        row.appendChild(el("td", {}, c.threshold_text));
        var ok = el("td", { class: c.ok ? "ok" : "ko" });
        ok.appendChild(el("span", { "aria-hidden": "true" }, c.ok ? "✓ " : "✗ "));
        ok.appendChild(document.createTextNode(c.ok ? T.met : T.not_met));
        row.appendChild(ok);
        tbody.appendChild(row);
      });
      nodes.push(table);
    } else {
      nodes.push(el("p", {}, T.search_first));
    }
    nodes.push(el("h3", { id: "panel-listings-title" }, T.listings));
    var tabs = el("div", { class: "kind-tabs", role: "group", "aria-labelledby": "panel-listings-title" });
    var results = el("div", { class: "panel-listings-box", "aria-live": "polite" });
    data.kinds.forEach(function (kind, i) {
      var b = el("button", { type: "button", class: "button button-small button-secondary", "aria-pressed": i === 0 ? "true" : "false" }, kind[1]);
      b.addEventListener("click", function () {
        tabs.querySelectorAll("button").forEach(function (x) { x.setAttribute("aria-pressed", "false"); });
        b.setAttribute("aria-pressed", "true");
        loadListings(cell.cell, kind[0], 1, results);
      });
      tabs.appendChild(b);
    });
    nodes.push(tabs, results);
    panel.replaceChildren.apply(panel, nodes);
    panel.querySelector("#panel-title").focus();
    if (data.kinds.length) loadListings(cell.cell, data.kinds[0][0], 1, results);
  }

  function loadListings(cellId, kind, page, box) {
    var url = "/api/v1/cells/" + encodeURIComponent(cellId) + "/listings?kind=" +
      encodeURIComponent(kind) + "&page=" + page;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (answer) {
        var items = answer.items || [];
        if (page === 1) box.replaceChildren();
        var old = box.querySelector(".more");
        if (old) old.remove();
        if (!items.length && page === 1) {
          box.appendChild(el("p", {}, T.no_listings));
          return;
        }
        var list = box.querySelector("ul") || box.appendChild(el("ul", { class: "panel-listings" }));
        var first = null;
        items.forEach(function (item) {
          var li = el("li");
          var a = el("a", { href: item.url }, item.title);
          li.appendChild(a);
          first = first || a;
          var where = item.in_cell ? T.in_cell : T.km_away.replace("{km}", String(item.distance_km).replace(".", ","));
          var details = [item.commune, where].concat(item.summary || []).filter(Boolean).join(" · ");
          li.appendChild(el("div", { class: "hint" }, details));
          list.appendChild(li);
        });
        if (page > 1 && first) first.focus();
        if (answer.page < answer.pages) {
          var more = el("button", { type: "button", class: "button button-small more" }, T.more);
          more.addEventListener("click", function () { loadListings(cellId, kind, page + 1, box); });
          box.appendChild(more);
        }
      })
      .catch(function () { box.replaceChildren(el("p", {}, T.failed)); });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      closePanel();
    }
  });

  // A server-rendered panel (?cell=) closes in place too.
  var serverClose = panel.querySelector(".panel-close");
  if (serverClose) {
    serverClose.addEventListener("click", function (event) { event.preventDefault(); closePanel(); });
  }

  // --- small screens: the table can be folded away under the map ---------------------------
  var toggle = document.getElementById("table-toggle");
  if (toggle && window.matchMedia) {
    var small = window.matchMedia("(max-width: 40rem)");
    var sync = function () {
      toggle.hidden = !small.matches;
      if (!small.matches) tableBox.hidden = false;
    };
    toggle.addEventListener("click", function () {
      tableBox.hidden = !tableBox.hidden;
      toggle.setAttribute("aria-expanded", tableBox.hidden ? "false" : "true");
      toggle.textContent = tableBox.hidden ? T.show_table : T.hide_table;
    });
    small.addEventListener("change", sync);
    sync();
  }

  // --- start -----------------------------------------------------------------------------------
  // A searched page carries the server's answer (the table below is made from it): the cells are
  // drawn coloured from the start. Otherwise the search is asked for at the same time as the
  // layer, and the cells coloured once both are there.
  var searched = form.getAttribute("data-searched") === "1";
  var given = searched ? data.result : null;
  var asked = searched && !given ? ask() : null;
  var layerAsked = map ? fetchLayer() : Promise.resolve(null);
  layerAsked
    .then(function (layer) {
      if (!layer) return;
      if (given && given.version === layer.version && given.statuses.length === layer.count) {
        statuses = given.statuses;
        lastQuery = readForm().body;
        figure.setAttribute("data-version", given.version);
      } else if (given) {
        asked = ask(); // the cells changed since the page was made: ask again
      }
      drawCells(layer);
    })
    .then(function () { return asked && asked.then(function (answer) { return show(answer, false); }); })
    .catch(failed)
    .then(function () {
      settled();
      if (map) map.fire("cellsready"); // the base map's tiles waited for this (basemap.js)
    });
})();
