// Inbox item page: choosing a saved reply puts its (already personalised) text in the box.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-fill]");
    if (!select || !select.value) return;
    var box = document.getElementById(select.getAttribute("data-fill"));
    if (!box) return;
    box.value = select.value;
    box.focus();
  });
})();

// Inbox list: triage from the keyboard (j/k move, x tick, o open, e close, s spam, / search).
(function () {
  "use strict";
  var list = document.querySelector("[data-shortcuts]");
  if (!list) return;
  var rows = Array.prototype.slice.call(list.querySelectorAll(".inbox-row"));
  var current = -1;
  function focusRow(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("is-current", i === current); });
    var link = rows[current].querySelector("a.inbox-text");
    if (link) link.focus();
  }
  function submitWith(action) {
    var form = list.closest("form");
    if (!form || !form.querySelector("input[name=items]:checked")) {
      if (current >= 0) {
        var box = rows[current].querySelector("input[name=items]");
        if (box) box.checked = true;
      }
    }
    var button = form && form.querySelector("button[name=action][value=" + action + "]");
    if (button) button.click();
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.matches("input:not([type=checkbox]), textarea, select")) return;
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current - 1); break;
      case "x":
        if (current >= 0) {
          var box = rows[current].querySelector("input[name=items]");
          if (box) box.checked = !box.checked;
        }
        break;
      case "o":
        if (current >= 0) {
          var link = rows[current].querySelector("a.inbox-text");
          if (link) link.click();
        }
        break;
      case "e": submitWith("closed"); break;
      case "s": submitWith("spam"); break;
      case "/":
        var search = document.getElementById("f-q");
        if (search) search.focus();
        break;
      default: return;
    }
    event.preventDefault();
  });
})();
