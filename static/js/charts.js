// Draws every <canvas data-chart="{labels, datasets}"> with Chart.js (no inline scripts: CSP).
(function () {
  "use strict";
  var palette = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#dc3545"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    spec.datasets.forEach(function (ds, i) {
      ds.borderColor = palette[i % palette.length];
      ds.backgroundColor = palette[i % palette.length] + "33";
      ds.borderWidth = 1;
    });
    new window.Chart(canvas, {
      type: spec.type || "bar",
      data: spec,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
        locale: "pt-BR"
      }
    });
  });
})();
