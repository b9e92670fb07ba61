/* Shows every <time data-ts="unix seconds"> in the browser's own time zone, again after each
   htmx swap. data-format: "time" (14:05), "day-time" (Mon 14:05), "datetime" (default). */
(function () {
  "use strict";
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  function show(el) {
    var ts = parseFloat(el.getAttribute("data-ts"));
    if (!isFinite(ts)) { el.textContent = "—"; return; }
    var d = new Date(ts * 1000);
    var hm = pad(d.getHours()) + ":" + pad(d.getMinutes());
    var format = el.getAttribute("data-format") || "datetime";
    if (format === "time") el.textContent = hm;
    else if (format === "day-time") el.textContent = days[d.getDay()] + " " + hm;
    else el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + hm;
    el.title = d.toString();
  }
  function run(root) {
    (root || document).querySelectorAll("time[data-ts]").forEach(show);
  }
  document.addEventListener("DOMContentLoaded", function () { run(document); });
  document.addEventListener("htmx:afterSettle", function (event) { run(event.target); });
})();
