// The listing form's map: a click or a dragged marker fills the latitude/longitude inputs, and
// typing in them moves the marker. The inputs stay the way to give a point without the map.
(function () {
  "use strict";
  var box = document.querySelector("[data-picker-map]");
  var lat = document.getElementById("f-latitude");
  var lon = document.getElementById("f-longitude");
  if (!box || !window.L || !lat || !lon) return;
  var map = window[box.getAttribute("data-picker-map")];
  if (!map) return;
  box.hidden = false;
  map.invalidateSize();

  var marker = null;
  var outline = null;
  map.eachLayer(function (layer) {
    if (layer instanceof L.Marker) marker = layer;
    else if (layer instanceof L.GeoJSON) outline = layer;
  });

  function fill(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    lat.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function follow(m) {
    m.on("dragend", function () { fill(m.getLatLng()); });
  }

  function place(latlng) {
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.marker(latlng, {
        draggable: true,
        title: box.getAttribute("data-marker-title") || "",
      }).addTo(map);
      follow(marker);
    }
  }

  if (marker) {
    follow(marker);
    map.setView(marker.getLatLng(), Math.max(map.getZoom(), 14));
  } else if (outline) {
    map.fitBounds(outline.getBounds());
  }

  map.on("click", function (event) {
    place(event.latlng);
    fill(event.latlng);
  });

  function number(input) {
    return parseFloat(input.value.replace(",", ".").replace(/\s/g, ""));
  }

  function fromInputs() {
    var a = number(lat);
    var b = number(lon);
    if (isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) {
      place(L.latLng(a, b));
      map.panTo(marker.getLatLng());
    }
  }
  lat.addEventListener("change", fromInputs);
  lon.addEventListener("change", fromInputs);
})();
