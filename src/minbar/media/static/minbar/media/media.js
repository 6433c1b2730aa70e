// Upload progress for the media library's upload form (htmx sends the files).
(function () {
  "use strict";
  function barFor(event) {
    var form = event.target && event.target.closest ? event.target.closest("[data-upload-form]") : null;
    return form ? form.querySelector(".media-progress") : null;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var bar = barFor(event);
    if (bar) { bar.value = 0; bar.hidden = false; }
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var bar = barFor(event);
    if (bar && event.detail.lengthComputable) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var bar = barFor(event);
    if (!bar) { return; }
    bar.hidden = true;
    var xhr = event.detail.xhr;
    if (event.detail.successful && xhr && /mediaUploaded/.test(xhr.getResponseHeader("HX-Trigger") || "")) {
      var form = bar.closest("form");
      var input = form ? form.querySelector("input[type=file]") : null;
      if (input) { input.value = ""; }
    }
  });
})();
