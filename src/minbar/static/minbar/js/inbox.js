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
