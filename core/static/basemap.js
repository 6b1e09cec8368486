/* The platform's base map: its own vector tiles (Mapbox Vector Tile) drawn on canvas by a
   Leaflet grid layer. No library beyond Leaflet: the tile format's reader is below. */
(function () {
  "use strict";

  // --- Protocol Buffers: the few wire types a vector tile uses ------------------------------
  function Reader(bytes) { this.buf = bytes; this.pos = 0; }
  Reader.prototype.varint = function () {
    var result = 0, shift = 0, b;
    do {
      b = this.buf[this.pos++];
      result += (b & 0x7f) * Math.pow(2, shift);
      shift += 7;
    } while (b & 0x80);
    return result;
  };
  Reader.prototype.skip = function (wire) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.pos += this.varint();
    else if (wire === 5) this.pos += 4;
    else throw new Error("unknown wire type " + wire);
  };
  Reader.prototype.bytes = function () {
    var n = this.varint(), start = this.pos;
    this.pos += n;
    return this.buf.subarray(start, this.pos);
  };
  Reader.prototype.packed = function () {
    var end = this.varint() + this.pos, out = [];
    while (this.pos < end) out.push(this.varint());
    return out;
  };
  var utf8 = new TextDecoder("utf-8");

  function each(bytes, visit) {
    var r = new Reader(bytes);
    while (r.pos < r.buf.length) {
      var key = r.varint();
      if (!visit(key >> 3, key & 7, r)) r.skip(key & 7);
    }
  }

  function readValue(bytes) {
    var value = null;
    each(bytes, function (field, wire, r) {
      if (field === 1) { value = utf8.decode(r.bytes()); return true; }
      if (field === 2) { value = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 4).getFloat32(0, true); r.pos += 4; return true; }
      if (field === 3) { value = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8).getFloat64(0, true); r.pos += 8; return true; }
      if (field === 4 || field === 5) { value = r.varint(); return true; }
      if (field === 6) { var n = r.varint(); value = n % 2 ? -(n + 1) / 2 : n / 2; return true; }
      if (field === 7) { value = !!r.varint(); return true; }
      return false;
    });
    return value;
  }

  // A layer: {name, extent, features: [{type, props, rings}]}; rings are lists of [x, y].
  function readLayer(bytes) {
    var layer = { name: "", extent: 4096, features: [] }, keys = [], values = [], raw = [];
    each(bytes, function (field, wire, r) {
      if (field === 1) { layer.name = utf8.decode(r.bytes()); return true; }
      if (field === 2) { raw.push(r.bytes()); return true; }
      if (field === 3) { keys.push(utf8.decode(r.bytes())); return true; }
      if (field === 4) { values.push(readValue(r.bytes())); return true; }
      if (field === 5) { layer.extent = r.varint(); return true; }
      return false;
    });
    raw.forEach(function (bytes) {
      var feature = { type: 0, props: {}, rings: [] }, tags = [], geometry = [];
      each(bytes, function (field, wire, r) {
        if (field === 2) { tags = r.packed(); return true; }
        if (field === 3) { feature.type = r.varint(); return true; }
        if (field === 4) { geometry = r.packed(); return true; }
        return false;
      });
      for (var i = 0; i + 1 < tags.length; i += 2) feature.props[keys[tags[i]]] = values[tags[i + 1]];
      feature.rings = decodeGeometry(geometry);
      layer.features.push(feature);
    });
    return layer;
  }

  function decodeGeometry(commands) {
    var rings = [], ring = null, x = 0, y = 0, i = 0;
    while (i < commands.length) {
      var c = commands[i++], id = c & 7, count = c >> 3;
      if (id === 7) { if (ring && ring.length) ring.push(ring[0]); continue; }
      for (var k = 0; k < count; k++) {
        var dx = commands[i++], dy = commands[i++];
        x += (dx >> 1) ^ -(dx & 1);
        y += (dy >> 1) ^ -(dy & 1);
        if (id === 1) { ring = []; rings.push(ring); }
        ring.push([x, y]);
      }
    }
    return rings;
  }

  function readTile(buffer) {
    var layers = {};
    each(new Uint8Array(buffer), function (field, wire, r) {
      if (field === 3) { var layer = readLayer(r.bytes()); layers[layer.name] = layer; return true; }
      return false;
    });
    return layers;
  }

  // --- Style: each layer's look by zoom (layers are drawn in this order) -----------------------
  var ROAD_WIDTHS = { motorway: 3, trunk: 3, primary: 2.5, secondary: 2, tertiary: 1.6 };
  var ROAD_COLOURS = { motorway: "#e8a24a", trunk: "#f0b862", primary: "#f6d68c", secondary: "#fbeaa8" };
  var STYLE = {
    built: { fill: "#e4ded5" },
    water: { fill: "#a9cde0" },
    waterway: { stroke: "#a9cde0", width: function (f, z) { return f.props.kind === "river" ? (z > 11 ? 2.5 : 1.5) : 1; } },
    road: {
      casing: "#b9b2a6",
      stroke: function (f) { return ROAD_COLOURS[f.props.kind] || "#ffffff"; },
      width: function (f, z) {
        var base = ROAD_WIDTHS[f.props.kind] || 1.2;
        return z >= 14 ? base * 2 : z >= 12 ? base * 1.4 : base;
      }
    },
    commune: { stroke: "#a08fae", width: function () { return 1; }, dash: [4, 3] },
    departement: { stroke: "#6f5a82", width: function (f, z) { return z >= 10 ? 2.5 : 1.6; } }
  };
  var BACKGROUND = "#f4f1ea";

  function trace(ctx, rings, scale, closed) {
    ctx.beginPath();
    rings.forEach(function (ring) {
      ring.forEach(function (p, i) {
        if (i === 0) ctx.moveTo(p[0] * scale, p[1] * scale);
        else ctx.lineTo(p[0] * scale, p[1] * scale);
      });
      if (closed) ctx.closePath();
    });
  }

  function drawLayer(ctx, layer, name, z, size) {
    var style = STYLE[name];
    if (!layer || !style) return;
    var scale = size / layer.extent;
    layer.features.forEach(function (f) {
      if (style.fill && f.type === 3) {
        trace(ctx, f.rings, scale, true);
        ctx.fillStyle = style.fill;
        ctx.fill("evenodd");
        return;
      }
      if (f.type !== 2 && f.type !== 3) return;
      var width = style.width(f, z);
      trace(ctx, f.rings, scale, false);
      ctx.lineJoin = ctx.lineCap = "round";
      ctx.setLineDash(style.dash || []);
      if (style.casing) {
        ctx.strokeStyle = style.casing;
        ctx.lineWidth = width + 1.5;
        ctx.stroke();
      }
      ctx.strokeStyle = typeof style.stroke === "function" ? style.stroke(f) : style.stroke;
      ctx.lineWidth = width;
      ctx.stroke();
    });
    ctx.setLineDash([]);
  }

  // Names: bigger places first and larger; a name that would overlap one already placed is
  // left out. Tiles carry names with a wide margin and decide alike (same names, same order),
  // so a name across an edge is drawn whole by both tiles.
  // Département names ("area") are placed first, in capitals and the départements' colour.
  function drawLabels(ctx, layers, z, size, avoid) {
    var placed = [];
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    drawNames(ctx, layers.area, size, placed, avoid, function () {
      return { px: 14, font: "bold 14px system-ui, sans-serif", colour: "#6f5a82", upper: true };
    });
    drawNames(ctx, layers.place, size, placed, avoid, function (f) {
      var people = f.props.rank || 0;
      var px = people >= 5000 ? 15 : people >= 1000 ? 13 : 12;
      return { px: px, font: (people >= 5000 ? "bold " : "") + px + "px system-ui, sans-serif", colour: "#3a3340" };
    });
  }

  function drawNames(ctx, layer, size, placed, avoid, look) {
    if (!layer) return;
    var scale = size / layer.extent;
    var names = layer.features.filter(function (f) { return f.type === 1 && f.props.name; });
    names.sort(function (a, b) {
      return (b.props.rank || 0) - (a.props.rank || 0) || (a.props.name < b.props.name ? -1 : 1);
    });
    names.forEach(function (f) {
      var style = look(f), px = style.px;
      var name = style.upper ? f.props.name.toLocaleUpperCase("fr") : f.props.name;
      ctx.font = style.font;
      var p = f.rings[0] && f.rings[0][0];
      if (!p) return;
      var x = p[0] * scale, half = ctx.measureText(name).width / 2 + 3, y = null, box;
      function at(shift) {
        var middle = p[1] * scale + shift;
        return [x - half, middle - px / 2 - 2, x + half, middle + px / 2 + 2];
      }
      function hits(boxes, c) {
        return boxes.some(function (b) { return c[0] < b[2] && b[0] < c[2] && c[1] < b[3] && b[1] < c[3]; });
      }
      // On its point; a name only kept off a dot (not by another name) goes just above or
      // below it.
      var shifts = hits(placed, at(0)) ? [] : [0, -(px + 10), px + 10];
      shifts.some(function (shift) {
        box = at(shift);
        if (hits(placed, box) || hits(avoid, box)) return false;
        y = p[1] * scale + shift;
        return true;
      });
      if (y === null) return;
      placed.push(box);
      ctx.strokeStyle = "rgba(255,255,255,0.9)";
      ctx.lineWidth = 3;
      ctx.strokeText(name, x, y);
      ctx.fillStyle = style.colour;
      ctx.fillText(name, x, y);
    });
  }

  // One request per tile even when two layers (shapes, names) draw it.
  var pending = {}, pendingCount = 0;
  function load(url) {
    if (!pending[url]) {
      if (pendingCount > 256) { pending = {}; pendingCount = 0; }
      pendingCount += 1;
      pending[url] = fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("tile " + url + ": HTTP " + response.status);
        return response.arrayBuffer();
      }).then(readTile);
      pending[url].catch(function () { delete pending[url]; });
    }
    return pending[url];
  }

  var ORDER = ["built", "water", "waterway", "road", "commune", "departement"];

  // `names`: "with" (one layer draws all), "without" (shapes only) or "only" (names only, in
  // a pane above the cells and markers' shadows, so that what is drawn over the map never
  // hides a place's name).
  L.GridLayer.Basemap = L.GridLayer.extend({
    options: { maxNativeZoom: 16, className: "basemap", names: "with" },

    initialize: function (url, options) {
      this._url = url;
      L.GridLayer.prototype.initialize.call(this, options);
    },

    createTile: function (coords, done) {
      var tile = document.createElement("canvas");
      var size = this.getTileSize(), names = this.options.names;
      var ratio = window.devicePixelRatio || 1;
      tile.width = size.x * ratio;
      tile.height = size.y * ratio;
      tile.setAttribute("aria-hidden", "true");
      var url = L.Util.template(this._url, { z: coords.z, x: coords.x, y: coords.y });
      // The points no name may cover (a listing's dot), as boxes in this tile's pixels.
      var map = this._map, avoid = (this.options.avoid || []).map(function (ll) {
        var p = map.project(L.latLng(ll[0], ll[1]), coords.z);
        var x = p.x - coords.x * size.x, y = p.y - coords.y * size.y;
        return [x - 12, y - 12, x + 12, y + 12];
      });
      load(url)
        .then(function (layers) {
          var ctx = tile.getContext("2d");
          ctx.scale(ratio, ratio);
          if (names !== "only") {
            ctx.fillStyle = BACKGROUND;
            ctx.fillRect(0, 0, size.x, size.y);
            ORDER.forEach(function (name) { drawLayer(ctx, layers[name], name, coords.z, size.x); });
          }
          if (names !== "without") drawLabels(ctx, layers, coords.z, size.x, avoid);
          tile.setAttribute("data-features", String(Object.keys(layers).reduce(function (n, k) {
            return n + layers[k].features.length;
          }, 0)));
          done(null, tile);
        })
        .catch(function (error) { done(error, tile); });
      return tile;
    }
  });

  // A map with something to draw first (the search map's cells) names on an ancestor, in
  // data-basemap-after, the map event after which its tiles are asked for: decoding and drawing
  // them meanwhile would take a slow phone's only thread from that first drawing. HOLD_MS: the
  // tiles come anyway should the event never fire (a script that failed).
  var HOLD_MS = 5000;
  function addWhenReady(layer, map, addTo) {
    var holder = map.getContainer().closest("[data-basemap-after]");
    if (!holder) return addTo.call(layer, map);
    var added = false, event = holder.getAttribute("data-basemap-after");
    var add = function () {
      if (added) return;
      added = true;
      map.off(event, add);
      addTo.call(layer, map);
    };
    map.on(event, add);
    setTimeout(add, HOLD_MS);
    return layer;
  }
  L.GridLayer.Basemap.prototype.addTo = function (map) {
    return addWhenReady(this, map, L.GridLayer.prototype.addTo);
  };

  L.gridLayer.basemap = function (url, options) { return new L.GridLayer.Basemap(url, options); };

  // The base map as pages use it: shapes under everything, names above the overlays.
  var NAMES_PANE = "basemapNames";
  L.Basemap = L.LayerGroup.extend({
    initialize: function (url, options) {
      L.LayerGroup.prototype.initialize.call(this);
      this._url = url;
      this._options = options || {};
    },
    onAdd: function (map) {
      if (!map.getPane(NAMES_PANE)) {
        var pane = map.createPane(NAMES_PANE);
        pane.style.zIndex = 450; // over the overlay pane (400), under markers (600)
        pane.style.pointerEvents = "none";
      }
      if (!this.getLayers().length) {
        var shapes = L.extend({}, this._options, { names: "without" });
        delete shapes.avoid;
        this.addLayer(L.gridLayer.basemap(this._url, shapes));
        this.addLayer(L.gridLayer.basemap(this._url, {
          names: "only", pane: NAMES_PANE, className: "basemap-names", avoid: this._options.avoid
        }));
      }
      L.LayerGroup.prototype.onAdd.call(this, map);
    }
  });
  // The group's layers join the map through it, not through their own addTo: it waits too.
  L.Basemap.prototype.addTo = function (map) {
    return addWhenReady(this, map, L.LayerGroup.prototype.addTo);
  };
  L.basemap = function (url, options) { return new L.Basemap(url, options); };
})();
