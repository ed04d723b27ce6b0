/* The cockpit's charts: each [data-chart] element is drawn from the JSON the page carries
   (#cockpit-data); a click on a bar, slice or point opens the talent list behind it. In the
   report ([data-static]) charts are drawn as SVG without animation, for print. */
(function () {
  "use strict";
  var source = document.getElementById("cockpit-data");
  if (!source || !window.echarts) { return; }
  var charts = {};
  JSON.parse(source.textContent).forEach(function (section) {
    section.charts.forEach(function (chart) { charts[chart.key] = chart; });
  });
  var palette = ["#206bc4", "#2fb344", "#f59f00", "#d63939", "#ae3ec9", "#17a2b8", "#74b816", "#f76707",
    "#4263eb", "#0ca678", "#e64980", "#868e96"];

  function option(chart, still) {
    var labels = chart.items.map(function (i) { return i.label; });
    var values = chart.items.map(function (i) { return { value: i.value, link: i.link }; });
    var base = { color: palette, animation: !still, tooltip: { trigger: chart.kind === "pie" ? "item" : "axis" } };
    if (chart.kind === "pie") {
      base.legend = { type: "scroll", bottom: 0 };
      base.series = [{
        type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
        label: { formatter: "{b}\n{d}%" },
        data: chart.items.map(function (i) { return { name: i.label, value: i.value, link: i.link }; })
      }];
      return base;
    }
    base.grid = { left: 8, right: 24, top: 16, bottom: 8, containLabel: true };
    var category = { type: "category", data: labels, axisLabel: { interval: 0 } };
    var amount = { type: "value", minInterval: 1 };
    if (chart.kind === "hbar") {
      category.inverse = true;
      base.xAxis = amount; base.yAxis = category;
      base.series = [{ type: "bar", data: values, label: { show: true, position: "right" } }];
    } else if (chart.kind === "line") {
      category.axisLabel = { rotate: labels.length > 12 ? 45 : 0 };
      base.xAxis = category; base.yAxis = amount;
      base.series = [{ type: "line", data: values, smooth: true, symbolSize: 7, areaStyle: { opacity: 0.12 } }];
    } else {
      category.axisLabel = { interval: 0, rotate: labels.length > 8 ? 40 : 0 };
      base.xAxis = category; base.yAxis = amount;
      base.series = [{ type: "bar", data: values, label: { show: labels.length <= 16, position: "top" } }];
    }
    return base;
  }

  var drawn = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var chart = charts[el.dataset.chart];
    if (!chart) { return; }
    var still = el.hasAttribute("data-static");
    var instance = echarts.init(el, null, { renderer: still ? "svg" : "canvas" });
    instance.on("finished", function () { el.dataset.drawn = "true"; });
    instance.setOption(option(chart, still));
    if (!still) {
      instance.on("click", function (params) {
        var link = params.data && params.data.link;
        if (link) { window.location.href = link; }
      });
    }
    drawn.push(instance);
  });
  window.addEventListener("resize", function () { drawn.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { drawn.forEach(function (c) { c.resize(); }); });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
