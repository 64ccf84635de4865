/* The ECharts helper: every element with data-chart (an ECharts option as JSON,
   built on the server) is drawn once it is visible (a chart in a closed <details>
   waits until it opens) and follows the window's size. Charts that htmx brings in
   are found the same way. A data item with a drill URL (a dashboard's bar or
   funnel stage) opens that list page when clicked. The numbers are also in a
   table next to the chart. */
(function () {
  "use strict";
  var charts = [];

  function draw(el) {
    if (el.dataset.chartDrawn || !window.echarts) { return; }
    el.dataset.chartDrawn = "1";
    var chart = window.echarts.init(el);
    chart.setOption(JSON.parse(el.dataset.chart));
    // a bar or a funnel stage carrying its list page's URL opens it (drill-down)
    chart.on("click", function (params) {
      if (params.data && params.data.drill) { window.location.assign(params.data.drill); }
    });
    charts.push(chart);
  }

  var observer = "IntersectionObserver" in window
    ? new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) {
            observer.unobserve(entry.target);
            draw(entry.target);
          }
        });
      })
    : null;

  function scan(root) {
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (observer) { observer.observe(el); } else { draw(el); }
    });
  }

  window.addEventListener("resize", function () {
    charts = charts.filter(function (chart) {
      if (!document.body.contains(chart.getDom())) { chart.dispose(); return false; }
      chart.resize();
      return true;
    });
  });
  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:afterSettle", function (event) { scan(event.target); });
})();
