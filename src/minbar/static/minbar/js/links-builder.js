// The UTM builder: shows the final address (destination + UTM tags) while typing.
// Mirrors minbar.links.urls_util.tagged_url: a filled-in tag replaces the same name in the
// destination; an empty one leaves the destination's own tag as it is.
(function () {
  "use strict";
  var form = document.querySelector("[data-utm-builder]");
  var out = document.getElementById("utm-preview");
  if (!form || !out) return;
  var empty = out.textContent;
  var names = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"];

  function field(name) {
    return form.querySelector('[data-utm="' + name + '"]');
  }

  function render() {
    var raw = (field("destination").value || "").trim();
    var url;
    try {
      url = new URL(raw);
    } catch (e) {
      out.textContent = empty;
      return;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      out.textContent = empty;
      return;
    }
    names.forEach(function (name) {
      var input = field(name);
      var value = input ? input.value.trim() : "";
      if (value) url.searchParams.set(name, value);
    });
    out.textContent = url.toString();
  }

  form.addEventListener("input", render);
  render();
})();
