// The territory console's look form: a colour picker beside each hexadecimal field, and a
// preview of the site's header and page that follows both as the editor types, with the
// WCAG contrast of each text on its background (the server checks it again on saving).
(function () {
  "use strict";
  var script = document.currentScript;
  var preview = document.getElementById("look-preview");
  if (!preview) return;
  var HEX = /^#[0-9a-fA-F]{6}$/;
  function field(name) { return document.querySelector('input[name="' + name + '"]'); }
  function luminance(hex) {
    var rgb = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }
  function ratio(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  function say(where, fg, bg) {
    var out = preview.querySelector('[data-ratio="' + where + '"]');
    if (!HEX.test(fg) || !HEX.test(bg)) { out.textContent = ""; return; }
    var value = ratio(fg, bg);
    var text = script.dataset.ratioLabel
      .replace("{where}", script.dataset["where" + where.charAt(0).toUpperCase() + where.slice(1)])
      .replace("{ratio}", value.toFixed(1).replace(".", ","));
    out.textContent = text + (value < 4.5 ? " " + script.dataset.tooLow : "");
    out.classList.toggle("too-low", value < 4.5);
  }
  function update() {
    var v = {};
    ["primary", "on_primary", "background", "text"].forEach(function (name) {
      var input = field(name);
      v[name] = input ? input.value.trim() : "";
    });
    var header = preview.querySelector('[data-part="header"]');
    var body = preview.querySelector('[data-part="body"]');
    var button = preview.querySelector('[data-part="button"]');
    if (HEX.test(v.primary)) { header.style.background = v.primary; button.style.background = v.primary; }
    if (HEX.test(v.on_primary)) { header.style.color = v.on_primary; button.style.color = v.on_primary; }
    if (HEX.test(v.background)) body.style.background = v.background;
    if (HEX.test(v.text)) body.style.color = v.text;
    say("header", v.on_primary, v.primary);
    say("body", v.text, v.background);
  }
  document.querySelectorAll("input[data-colour-for]").forEach(function (picker) {
    var text = document.getElementById(picker.dataset.colourFor);
    picker.addEventListener("input", function () { text.value = picker.value; update(); });
    text.addEventListener("input", function () {
      if (HEX.test(text.value.trim())) picker.value = text.value.trim().toLowerCase();
      update();
    });
  });
  update();
})();
