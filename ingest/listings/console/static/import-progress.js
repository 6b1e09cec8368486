// Follows a running import: polls its JSON progress and updates the figures in place; the page
// itself shows the same figures, and reloading it is the way without scripts.
(function () {
  "use strict";
  var panel = document.querySelector("[data-import-progress]");
  if (!panel || panel.getAttribute("data-running") !== "true" || !window.fetch) return;
  var url = panel.getAttribute("data-import-progress");
  var delay = 1000;

  function show(data) {
    Object.keys(data).forEach(function (name) {
      panel.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
        el.textContent = String(data[name]);
      });
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.running) {
          delay = Math.min(delay * 1.5, 10000);
          window.setTimeout(poll, delay);
        } else {
          window.location.reload(); // the report is rendered by the server
        }
      })
      .catch(function () {
        window.setTimeout(poll, 10000);
      });
  }
  window.setTimeout(poll, delay);
})();
