// Menus are <details> elements so they work without JavaScript; this only
// closes them on Escape or a click elsewhere, as users expect of menus.
(function () {
  "use strict";
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (menu !== except) { menu.removeAttribute("open"); }
    });
  }
  document.addEventListener("click", function (event) {
    var menu = event.target.closest ? event.target.closest("details.menu") : null;
    closeMenus(menu);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var open = document.querySelector("details.menu[open]");
      if (open) {
        open.removeAttribute("open");
        var summary = open.querySelector("summary");
        if (summary) { summary.focus(); }
      }
    }
  });
})();

// Calendar: drag a post onto another day to move it (same time of day).
(function () {
  "use strict";
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest ? event.target.closest(".cal-post[data-move-url]") : null;
    if (!item) { return; }
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest && event.target.closest(".cal-day")) {
      event.preventDefault();
    }
  });
  document.addEventListener("drop", function (event) {
    var day = event.target.closest ? event.target.closest(".cal-day") : null;
    if (!dragged || !day) { return; }
    event.preventDefault();
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    var body = new URLSearchParams({ day: day.getAttribute("data-day") });
    fetch(dragged.getAttribute("data-move-url"), {
      method: "POST", headers: headers, body: body, credentials: "same-origin"
    }).then(function (response) {
      if (response.ok) { window.location.reload(); return; }
      return response.text().then(function (text) { window.alert(text); });
    });
    dragged = null;
  });
})();
