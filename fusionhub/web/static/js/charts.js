// Chart island: bar charts from data-chart JSON; the same numbers are in a table beside each.
(function () {
  "use strict";
  if (!window.Chart) return;
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    const data = JSON.parse(canvas.dataset.chart);
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: data.label, data: data.values, backgroundColor: "#0b5cad" }] },
      options: { animation: false, responsive: true, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  });
})();
