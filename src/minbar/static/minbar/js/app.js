// Menus (and the calendar's filter pop-overs) are <details> elements so they work
// without JavaScript; this only closes them on Escape or a click elsewhere, as users
// expect of menus.
(function () {
  "use strict";
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open], details.filter-group[open]").forEach(function (menu) {
      if (menu !== except) { menu.removeAttribute("open"); }
    });
  }
  document.addEventListener("click", function (event) {
    var menu = event.target.closest ? event.target.closest("details.menu, details.filter-group") : null;
    closeMenus(menu);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var open = document.querySelector("details.menu[open], details.filter-group[open]");
      if (open) {
        open.removeAttribute("open");
        var summary = open.querySelector("summary");
        if (summary) { summary.focus(); }
      }
    }
  });
})();

// Calendar: drag a post onto another day (month view: same time of day) or onto another
// day and hour (week view: same minutes). Skipped hours (clocks going forward) take no drop.
(function () {
  "use strict";
  var dragged = null;
  var DROP = ".cal-day, .cal-slot[data-hour]";
  function dropTarget(event) {
    return event.target.closest ? event.target.closest(DROP) : null;
  }
  function say(text) {
    var status = document.querySelector("[data-cal-status]");
    if (status) {
      status.textContent = text;
      status.classList.remove("visually-hidden");
      status.classList.add("message", "message-error");
    } else {
      window.alert(text);
    }
  }
  document.addEventListener("dragstart", function (event) {
    var item = event.target.closest ? event.target.closest("[data-move-url]") : null;
    if (!item) { return; }
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.getAttribute("data-move-url"));
  });
  document.addEventListener("dragend", function () {
    document.querySelectorAll(".drop-over").forEach(function (el) { el.classList.remove("drop-over"); });
  });
  document.addEventListener("dragover", function (event) {
    var target = dropTarget(event);
    if (dragged && target) {
      event.preventDefault();
      document.querySelectorAll(".drop-over").forEach(function (el) {
        if (el !== target) { el.classList.remove("drop-over"); }
      });
      target.classList.add("drop-over");
    }
  });
  document.addEventListener("drop", function (event) {
    var target = dropTarget(event);
    if (!dragged || !target) { return; }
    event.preventDefault();
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    var fields = { day: target.getAttribute("data-day") };
    if (target.hasAttribute("data-hour")) { fields.hour = target.getAttribute("data-hour"); }
    fetch(dragged.getAttribute("data-move-url"), {
      method: "POST", headers: headers, body: new URLSearchParams(fields), credentials: "same-origin"
    }).then(function (response) {
      if (response.ok) { window.location.reload(); return; }
      return response.text().then(say);
    });
    dragged = null;
  });
})();
