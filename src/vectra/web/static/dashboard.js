// Dashboard charts from /dashboard/funnel.json (a file, not inline: the CSP forbids inline).
(function () {
  "use strict";
  var funnelCanvas = document.getElementById("funnel-chart");
  var trendCanvas = document.getElementById("trend-chart");
  var picker = document.getElementById("funnel-campaign");
  if (!funnelCanvas || !trendCanvas || typeof Chart === "undefined") return;
  // Colour-blind-safe palette (Okabe-Ito), dark enough to read on white.
  var colours = ["#0072B2", "#009E73", "#D55E00", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
  var funnelChart = null;
  var trendChart = null;

  function label(stage) { return stage.charAt(0).toUpperCase() + stage.slice(1); }

  function draw(data) {
    var stages = data.stages;
    if (funnelChart) funnelChart.destroy();
    if (trendChart) trendChart.destroy();
    funnelChart = new Chart(funnelCanvas, {
      type: "bar",
      data: {
        labels: stages.map(label),
        datasets: [{ label: "Leads", data: stages.map(function (s) { return data.totals[s]; }),
                     backgroundColor: colours[0] }]
      },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    trendChart = new Chart(trendCanvas, {
      type: "line",
      data: {
        labels: data.daily.days,
        datasets: stages.map(function (s, i) {
          return { label: label(s), data: data.daily.series[s], borderColor: colours[i],
                   backgroundColor: colours[i], tension: 0.2 };
        })
      },
      options: { maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    funnelCanvas.dataset.loaded = "true";
  }

  function load() {
    var url = "/dashboard/funnel.json";
    if (picker && picker.value) url += "?campaign_id=" + encodeURIComponent(picker.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(draw)
      .catch(function () { funnelCanvas.dataset.loaded = "error"; });
  }

  if (picker) picker.addEventListener("change", load);
  load();
})();
