/* A ticket's evidence as interactive charts (uPlot): one panel per metric that moved, with the
   device's normal band before onset shaded, the detector's baseline dashed, and onset and
   detection marked. Panels share the cursor and the zoom (drag to zoom, double-click resets).
   Reads its data from the element's data-src (the evidence endpoint). */
(function () {
  "use strict";
  var COLOURS = ["#1f6fb2", "#d84315", "#6a3d9a"];
  var BAND = "rgba(31, 138, 76, 0.13)";
  var BAND_EDGE = "rgba(31, 138, 76, 0.55)";

  function marks(ev) {
    return [
      { ts: ev.onset_at, colour: "#c77700", label: "onset", align: "right" },
      { ts: ev.detected_at, colour: "#c62828", label: "detected", align: "left" },
    ];
  }

  function drawMarks(list) {
    return function (u) {
      var ctx = u.ctx;
      ctx.save();
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.font = (11 * devicePixelRatio) + "px system-ui, sans-serif";
      list.forEach(function (m) {
        var x = Math.round(u.valToPos(m.ts, "x", true));
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        ctx.strokeStyle = m.colour;
        ctx.fillStyle = m.colour;
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        // Onset's label to the left of its line, detection's to the right: they never overlap.
        ctx.textAlign = m.align;
        var gap = (m.align === "right" ? -4 : 4) * devicePixelRatio;
        ctx.fillText(m.label, x + gap, u.bbox.top + 12 * devicePixelRatio);
      });
      ctx.restore();
    };
  }

  function panel(el, ev, metric, index, group) {
    var n = ev.ts.length;
    var series = [{}, {
      label: metric.name,
      stroke: COLOURS[index % COLOURS.length],
      width: 1.5,
      spanGaps: false,
      paths: metric.binary && uPlot.paths.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
    }];
    var data = [ev.ts, metric.values];
    var bands = [];
    if (metric.band) {
      var hi = new Array(n).fill(metric.band[1]);
      var lo = new Array(n).fill(metric.band[0]);
      series.push({ label: "normal high", stroke: BAND_EDGE, width: 1 });
      series.push({ label: "normal low", stroke: BAND_EDGE, width: 1 });
      data.push(hi, lo);
      bands.push({ series: [2, 3], fill: BAND });
    }
    if (metric.baseline !== null && metric.baseline !== undefined) {
      series.push({ label: "baseline", stroke: "#5d6b7a", width: 1, dash: [3, 3] });
      data.push(new Array(n).fill(metric.baseline));
    }
    var box = document.createElement("div");
    box.className = "panel";
    box.setAttribute("data-metric", metric.name);
    el.appendChild(box);
    var opts = {
      width: Math.max(280, el.clientWidth - 4),
      height: metric.binary ? 110 : 190,
      // A 0/1 metric (compressor, door) on a fixed off/on scale; uPlot would stretch a flat 0 to 0–100.
      scales: metric.binary ? { x: { time: true }, y: { range: [-0.1, 1.1] } } : { x: { time: true } },
      series: series,
      bands: bands,
      cursor: { sync: { key: group.key, setSeries: false }, drag: { x: true, y: false } },
      axes: [{}, metric.binary
        ? { size: 52, splits: function () { return [0, 1]; }, values: function (u, vals) { return vals.map(function (v) { return v ? "on" : "off"; }); } }
        : { size: 52 }],
      legend: { live: true },
      hooks: {
        draw: [drawMarks(marks(ev))],
        setScale: [function (u, key) {
          if (key !== "x" || group.syncing) return;
          group.syncing = true;
          group.charts.forEach(function (other) {
            if (other !== u) other.setScale("x", { min: u.scales.x.min, max: u.scales.x.max });
          });
          group.syncing = false;
        }],
      },
    };
    var chart = new uPlot(opts, data, box);
    group.charts.push(chart);
    return chart;
  }

  function render(el, ev) {
    el.innerHTML = "";
    if (!ev.ts.length || !ev.metrics.length) {
      el.innerHTML = '<p class="muted">No readings stored around this fault.</p>';
      el.setAttribute("data-ready", "true");
      el.setAttribute("data-points", "0");
      return;
    }
    var group = { key: "evidence-" + ev.ticket_id, charts: [], syncing: false };
    ev.metrics.forEach(function (metric, i) { panel(el, ev, metric, i, group); });
    var legend = document.createElement("div");
    legend.className = "legend-marks";
    legend.innerHTML = '<i style="color:#c77700"></i>onset (estimated) <i style="color:#c62828"></i>detected' +
      ' <span style="display:inline-block;width:14px;height:10px;background:' + BAND + ';margin:0 .25rem 0 .6rem"></span>normal band before onset (5th–95th percentile)';
    el.appendChild(legend);
    window.addEventListener("resize", function () {
      group.charts.forEach(function (c) { c.setSize({ width: Math.max(280, el.clientWidth - 4), height: c.height }); });
    });
    el.setAttribute("data-points", String(ev.ts.length));
    el.setAttribute("data-metrics", ev.metrics.map(function (m) { return m.name; }).join(","));
    el.setAttribute("data-ready", "true");
  }

  function load(el) {
    fetch(el.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (ev) { render(el, ev); })
      .catch(function (err) {
        el.innerHTML = '<p class="chart-error">Could not load the readings (' + err.message + ").</p>";
        el.setAttribute("data-ready", "error");
      });
  }

  function start(root) {
    (root || document).querySelectorAll("figure.chart[data-src]:not([data-ready])").forEach(load);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { start(document); });
  else start(document);
  // Panels htmx swapped in (the technician's job sheet after a tap) get their chart too.
  document.addEventListener("htmx:afterSettle", function (event) { start(event.target); });
})();
