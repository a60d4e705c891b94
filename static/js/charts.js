// Draws every <canvas data-chart="{labels, datasets, stacked?, horizontal?, money?}"> with
// Chart.js (no inline scripts: CSP). Data come from the server (app/services/charts.py).
(function () {
  "use strict";
  var palette = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#dc3545", "#20c997", "#6c757d"];
  var money = new Intl.NumberFormat("pt-BR", { style: "currency", currency: "BRL" });
  var whole = new Intl.NumberFormat("pt-BR");
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    var format = function (value) { return spec.money ? money.format(value) : whole.format(value); };
    var single = spec.datasets.length === 1;
    spec.datasets.forEach(function (ds, i) {
      var color = palette[i % palette.length];
      ds.borderColor = color;
      ds.backgroundColor = single && spec.horizontal ? palette.slice(0, spec.labels.length) : color + "cc";
      ds.borderWidth = 1;
    });
    var value = spec.horizontal ? "x" : "y";
    var category = spec.horizontal ? "y" : "x";
    var scales = {};
    scales[value] = {
      beginAtZero: true,
      stacked: !!spec.stacked,
      ticks: { precision: 0, callback: function (v) { return format(v); } }
    };
    scales[category] = {
      stacked: !!spec.stacked,
      ticks: { autoSkip: true, maxRotation: 0, autoSkipPadding: 12 }
    };
    new window.Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          legend: { display: !single, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + format(ctx.parsed[value]);
              }
            }
          }
        },
        locale: "pt-BR"
      }
    });
  });
})();
