// Post review page: the @mention buttons insert "@username " into the comment box.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-mention]");
    if (!button) return;
    var form = button.closest("form");
    var box = form && form.querySelector("textarea[data-mentions]");
    if (!box) return;
    var mention = "@" + button.getAttribute("data-mention") + " ";
    var start = box.selectionStart || box.value.length;
    var before = box.value.slice(0, start);
    if (before && !/\s$/.test(before)) mention = " " + mention;
    box.value = before + mention + box.value.slice(box.selectionEnd || start);
    box.focus();
    var caret = before.length + mention.length;
    box.setSelectionRange(caret, caret);
  });
})();
