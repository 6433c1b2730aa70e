/*
 * Minbar conversion snippet (docs/links.md). Served by your Minbar; no CDN, no cookies
 * of other sites. On every page: keeps the click id (?mb_click=) of the landing
 * address in this site's localStorage (a first-party cookie where storage is blocked)
 * for the attribution window; minbar.convert(event, {value, currency, order_id})
 * sends a conversion with the last few click ids to Minbar, which credits the latest
 * one inside the window.
 *
 * <script src="https://minbar.example/static/minbar/js/minbar-conversions.js"
 *         data-minbar-key="mbpk_…" data-minbar-endpoint="https://minbar.example/api/v1/conversions/browser" defer></script>
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-minbar-key]");
  if (!script) return;
  var KEY = script.getAttribute("data-minbar-key");
  var ENDPOINT = script.getAttribute("data-minbar-endpoint");
  var DAYS = parseInt(script.getAttribute("data-minbar-days") || "90", 10);
  var STORE = "minbar_clicks";
  var MAX = 5;

  function now() {
    return Date.now();
  }

  function read() {
    var raw = null;
    try {
      raw = window.localStorage.getItem(STORE);
    } catch (e) {
      var match = document.cookie.match(/(?:^|; )minbar_clicks=([^;]*)/);
      raw = match ? decodeURIComponent(match[1]) : null;
    }
    var list = [];
    try {
      list = JSON.parse(raw || "[]");
    } catch (e) {
      list = [];
    }
    var oldest = now() - DAYS * 86400000;
    return list.filter(function (entry) {
      return entry && typeof entry.id === "string" && entry.at >= oldest;
    });
  }

  function write(list) {
    var raw = JSON.stringify(list.slice(-MAX));
    try {
      window.localStorage.setItem(STORE, raw);
    } catch (e) {
      document.cookie =
        "minbar_clicks=" + encodeURIComponent(raw) + "; path=/; max-age=" + DAYS * 86400 + "; samesite=lax";
    }
  }

  // Remember the click this visit came from.
  var params = new URLSearchParams(window.location.search);
  var click = params.get("mb_click");
  if (click && /^[A-Za-z0-9_-]{8,24}$/.test(click)) {
    var list = read().filter(function (entry) {
      return entry.id !== click;
    });
    list.push({ id: click, at: now() });
    write(list);
  }

  function convert(event, details) {
    details = details || {};
    var body = JSON.stringify({
      key: KEY,
      event: String(event),
      value: details.value === undefined ? null : String(details.value),
      currency: details.currency || "",
      order_id: details.order_id || "",
      click_ids: read().map(function (entry) {
        return entry.id;
      }),
    });
    // text/plain: a "simple" request, so no preflight; Minbar checks the Origin header.
    var blob = new Blob([body], { type: "text/plain" });
    if (navigator.sendBeacon && navigator.sendBeacon(ENDPOINT, blob)) return Promise.resolve(true);
    return fetch(ENDPOINT, { method: "POST", body: body, keepalive: true, mode: "cors",
      headers: { "Content-Type": "text/plain" } }).then(function (r) {
      return r.ok;
    });
  }

  window.minbar = window.minbar || {};
  window.minbar.convert = convert;
  window.minbar.clickIds = function () {
    return read().map(function (entry) {
      return entry.id;
    });
  };
})();
