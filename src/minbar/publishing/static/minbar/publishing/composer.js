// Composer media: pick files from the library or upload them, order them, remove them.
// The lists are plain form fields (hidden asset ids in order, one alt text per file),
// so the live check and saving read them like any other input.
(function () {
  "use strict";
  var activeList = null;

  function composerChanged(list) {
    // The composer form re-checks on "change"; tell it the media changed.
    list.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function attach(list, item) {
    var ol = list.querySelector(".attached-list");
    var id = String(item.id);
    if (ol.querySelector('li[data-asset="' + id + '"]')) { return false; }
    var template = document.getElementById("attached-media-template");
    var li = template.content.firstElementChild.cloneNode(true);
    var listName = list.getAttribute("data-list-name");
    var altPrefix = list.getAttribute("data-alt-prefix");
    li.setAttribute("data-asset", id);
    var hidden = li.querySelector('input[type="hidden"]');
    hidden.name = listName;
    hidden.value = id;
    var alt = li.querySelector("textarea");
    alt.name = altPrefix + id;
    alt.value = item.alt_text || "";
    li.querySelector(".attached-name bdi").textContent = item.name;
    li.querySelectorAll("[aria-label]").forEach(function (el) {
      el.setAttribute("aria-label", el.getAttribute("aria-label").replace("__NAME__", item.name));
    });
    var img = li.querySelector(".attached-thumb img");
    if (item.thumb) {
      img.src = item.thumb;
    } else {
      var span = document.createElement("span");
      span.className = "media-placeholder";
      span.textContent = item.kind || "";
      img.replaceWith(span);
    }
    ol.appendChild(li);
    return true;
  }

  function openPicker(list) {
    var dialog = document.getElementById("media-picker");
    if (!dialog) { return; }
    activeList = list;
    if (typeof dialog.showModal === "function") { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    var filters = dialog.querySelector(".picker-filters");
    if (filters && window.htmx) { window.htmx.trigger(filters, "pickerOpen"); }
    var search = dialog.querySelector('input[type="search"]');
    if (search) { search.focus(); }
  }

  function markPicked() {
    if (!activeList) { return; }
    document.querySelectorAll("#media-picker [data-pick]").forEach(function (button) {
      var picked = !!activeList.querySelector('li[data-asset="' + button.getAttribute("data-id") + '"]');
      button.setAttribute("aria-pressed", picked ? "true" : "false");
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "media-picker-results") { markPicked(); }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) { return; }
    var opener = target.closest("[data-open-picker]");
    if (opener) {
      openPicker(document.getElementById(opener.getAttribute("data-open-picker")));
      return;
    }
    var pick = target.closest("[data-pick]");
    if (pick && activeList) {
      var li = activeList.querySelector('li[data-asset="' + pick.getAttribute("data-id") + '"]');
      if (li) {
        li.remove();
      } else {
        attach(activeList, {
          id: pick.getAttribute("data-id"),
          name: pick.getAttribute("data-name"),
          kind: pick.getAttribute("data-kind"),
          thumb: pick.getAttribute("data-thumb"),
          alt_text: pick.getAttribute("data-alt")
        });
      }
      markPicked();
      composerChanged(activeList);
      return;
    }
    if (target.closest("[data-close-picker]")) {
      var dialog = document.getElementById("media-picker");
      if (dialog.close) { dialog.close(); } else { dialog.removeAttribute("open"); }
      return;
    }
    var item = target.closest(".attached-media");
    if (!item) { return; }
    var list = item.closest("[data-media-list]");
    if (target.closest("[data-remove]")) {
      var next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      var focus = next ? next.querySelector("[data-remove]") : list.querySelector("[data-open-picker]");
      if (focus) { focus.focus(); }
      composerChanged(list);
      return;
    }
    var mover = target.closest("[data-move]");
    if (mover) {
      if (mover.getAttribute("data-move") === "-1" && item.previousElementSibling) {
        item.parentNode.insertBefore(item, item.previousElementSibling);
      } else if (mover.getAttribute("data-move") === "1" && item.nextElementSibling) {
        item.parentNode.insertBefore(item.nextElementSibling, item);
      }
      mover.focus();
      composerChanged(list);
    }
  });

  // Ticking "Use different media on this channel" starts from the shared files,
  // which is what people usually want to adjust (drop one, reorder, other alt text).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches('input[type="checkbox"][name^="override_media_"]') || !box.checked) { return; }
    var list = document.getElementById("media-channel-" + box.name.slice("override_media_".length));
    var shared = document.getElementById("media-shared");
    if (!list || !shared || list.querySelector(".attached-media")) { return; }
    shared.querySelectorAll(".attached-media").forEach(function (li) {
      var img = li.querySelector(".attached-thumb img");
      var placeholder = li.querySelector(".attached-thumb .media-placeholder");
      attach(list, {
        id: li.getAttribute("data-asset"),
        name: li.querySelector(".attached-name bdi").textContent,
        kind: placeholder ? placeholder.textContent : "",
        thumb: img ? img.getAttribute("src") : "",
        alt_text: li.querySelector("textarea").value
      });
    });
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-upload-to]") || !input.files.length) { return; }
    event.stopPropagation();  // the file input itself is not part of the post
    var list = document.getElementById(input.getAttribute("data-upload-to"));
    var status = list.querySelector(".upload-status");
    var dialog = document.getElementById("media-picker");
    var body = new FormData();
    Array.prototype.forEach.call(input.files, function (file) { body.append("files", file); });
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    status.textContent = status.getAttribute("data-uploading") || "…";
    fetch(dialog.getAttribute("data-upload-url"), {
      method: "POST", headers: headers, body: body, credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      input.value = "";
      if (!result.ok) { status.textContent = result.data.error || ""; return; }
      status.textContent = "";
      result.data.items.forEach(function (item) { attach(list, item); });
      composerChanged(list);
    }).catch(function () {
      input.value = "";
      status.textContent = status.getAttribute("data-failed") || "";
    });
  }, true);
})();

// Network settings that apply only for some values of another (a Google offer's coupon
// only for offers): hidden and disabled otherwise, so they are neither seen nor sent.
(function () {
  "use strict";
  function refresh(form) {
    form.querySelectorAll(".post-option[data-shown-when]").forEach(function (row) {
      var field = form.elements.namedItem(row.getAttribute("data-shown-when"));
      var value = field && "value" in field ? field.value : "";
      var wanted = row.getAttribute("data-shown-values").split(" ");
      var on = wanted.indexOf(value) !== -1;
      row.hidden = !on;
      row.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !on; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.composer");
    if (!form) { return; }
    refresh(form);
    form.addEventListener("change", function () { refresh(form); });
  });
})();
