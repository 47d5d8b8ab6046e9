/* The analytics page (docs/analytics.md, "The analytics page"): fetches /analytics/data?range= and
 * draws the charts with the vendored Chart.js. A range link fetches its range in place (and stays a
 * plain link without JavaScript). Every word comes from #analytics-config (translated server-side). */
(function () {
  "use strict";
  var root = document.getElementById("analytics");
  if (!root || typeof window.Chart === "undefined") { return; }
  var text = JSON.parse(document.getElementById("analytics-config").textContent);
  var lang = document.documentElement.lang || "en";
  var number = new Intl.NumberFormat(lang);
  var money = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  var seconds = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  var charts = {};
  var pending = null;
  var COLORS = { calls: "#0847c2", missed: "#c62828", recovered: "#1b7f3b", booked: "#6a3fb5", revenue: "#1b7f3b", response: "#b26a00" };

  function dataset(label, data, color, extra) {
    var set = { label: label, data: data, backgroundColor: color, borderColor: color };
    Object.keys(extra || {}).forEach(function (key) { set[key] = extra[key]; });
    return set;
  }

  function toSeconds(values) {
    return values.map(function (ms) { return ms === null ? null : Math.round(ms / 100) / 10; });
  }

  function draw(id, type, labels, datasets, options) {
    var chart = charts[id];
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets = datasets;
      chart.update();
      return;
    }
    charts[id] = new window.Chart(document.getElementById(id), {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true } } }, options || {})
    });
  }

  function show(body) {
    var s = body.series;
    draw("chart-calls", "bar", body.labels, [
      dataset(text.calls, s.calls, COLORS.calls),
      dataset(text.missed, s.missed, COLORS.missed),
      dataset(text.recovered, s.recovered, COLORS.recovered)
    ]);
    draw("chart-booked", "bar", body.labels, [
      dataset(text.booked, s.booked, COLORS.booked, { yAxisID: "y" }),
      dataset(text.revenue, s.revenue, COLORS.revenue, { type: "line", yAxisID: "value", tension: 0.2 })
    ], { scales: { y: { beginAtZero: true, position: "left" },
      value: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } });
    draw("chart-response", "line", body.labels, [
      dataset(text.response_time, toSeconds(s.response_time_ms), COLORS.response, { spanGaps: true, tension: 0.2 })
    ]);
    var t = body.totals;
    var figures = {
      calls: number.format(t.calls), missed: number.format(t.missed), recovered: number.format(t.recovered),
      booked: number.format(t.booked), revenue: "$" + money.format(t.revenue),
      response_time_ms: t.response_time_ms === null ? text.no_replies : seconds.format(t.response_time_ms / 1000) + " s"
    };
    root.querySelectorAll("[data-total]").forEach(function (el) { el.textContent = figures[el.dataset.total]; });
    document.getElementById("money-value").textContent = "$" + money.format(Number(body.money.estimated_value));
    document.getElementById("money-recovered").textContent = number.format(body.money.missed_calls_recovered);
    document.getElementById("money-jobs").textContent = number.format(body.money.jobs_booked);
  }

  function load(range) {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    root.setAttribute("aria-busy", "true");
    root.dataset.range = range;
    root.querySelectorAll(".periods a").forEach(function (link) {
      if (link.dataset.range === range) { link.setAttribute("aria-current", "page"); } else { link.removeAttribute("aria-current"); }
    });
    var error = document.getElementById("analytics-error");
    fetch(root.dataset.url + "?range=" + encodeURIComponent(range), {
      credentials: "same-origin", headers: { Accept: "application/json" }, signal: pending.signal
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (body) {
      error.hidden = true;
      show(body);
      root.dataset.loaded = body.range;
      root.setAttribute("aria-busy", "false");
    }).catch(function (failure) {
      if (failure.name === "AbortError") { return; }
      error.hidden = false;
      root.setAttribute("aria-busy", "false");
    });
  }

  root.querySelectorAll(".periods a").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      history.replaceState(null, "", "?range=" + link.dataset.range);
      load(link.dataset.range);
    });
  });
  load(root.dataset.range);
})();
