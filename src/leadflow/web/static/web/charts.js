// LeadFlow dashboards: draw the charts described in #lf-charts with Apache ECharts (SVG, so
// they print sharp), and open the lead list behind any point clicked (its `url`).
(function () {
  "use strict";
  const palette = ["#1f4e79", "#2e86c1", "#48a9a6", "#e67e22", "#c0392b", "#8e44ad", "#7f8c8d", "#27ae60"];

  function pct(v) { return v == null ? "—" : (v * 100).toFixed(1) + "%"; }

  function draw(id, option, charts) {
    const el = document.getElementById(id);
    if (!el) return;
    const chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption(Object.assign({ color: palette, animation: false }, option));
    chart.on("click", function (p) {
      const url = p.data && p.data.url;
      if (url) window.location.assign(url);
    });
    el.dataset.ready = "1";
    charts.push(chart);
  }

  function init() {
    const source = document.getElementById("lf-charts");
    if (!source || !window.echarts) return;
    const d = JSON.parse(source.textContent);
    const t = JSON.parse(document.getElementById("lf-chart-labels").textContent);
    const charts = [];
    const grid = { left: 48, right: 24, top: 36, bottom: 48, containLabel: true };

    if (d.funnel) draw("chart-funnel", {
      tooltip: { trigger: "item", formatter: function (p) {
        return p.name + "：" + p.value + (p.data.conversion != null ? "（" + pct(p.data.conversion) + "）" : "");
      } },
      series: [{
        type: "funnel", sort: "none", left: "8%", width: "84%", minSize: "22%", gap: 2,
        label: { position: "inside", formatter: function (p) {
          return p.name + "  " + p.value + (p.data.conversion != null ? "  (" + pct(p.data.conversion) + ")" : "");
        } },
        data: d.funnel,
      }],
    }, charts);

    if (d.dropouts) draw("chart-dropouts", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: d.dropouts.stages },
      yAxis: { type: "value", minInterval: 1 },
      series: Object.keys(d.dropouts.series).map(function (k) {
        const s = d.dropouts.series[k];
        return { name: s.label, type: "bar", stack: "out", data: s.data };
      }),
    }, charts);

    if (d.cohorts) draw("chart-cohorts", {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: d.cohorts.months.map(function (m) { return m.month; }) },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", axisLabel: { formatter: function (v) { return pct(v); } } }],
      series: [
        { name: t.leads, type: "bar", data: d.cohorts.months.map(function (m) { return { value: m.leads, url: m.url }; }) },
        { name: t.won, type: "bar", data: d.cohorts.months.map(function (m) { return { value: m.won, url: m.won_url }; }) },
        { name: t.conversion, type: "line", yAxisIndex: 1, data: d.cohorts.months.map(function (m) { return { value: m.conversion, url: m.won_url }; }) },
      ],
    }, charts);

    if (d.channels) draw("chart-channels", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: d.channels.map(function (c) { return c.name; }), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: t.leads, type: "bar", data: d.channels.map(function (c) { return { value: c.leads, url: c.url }; }) },
        { name: t.won, type: "bar", data: d.channels.map(function (c) { return { value: c.won, url: c.won_url }; }) },
      ],
    }, charts);

    if (d.reps && document.getElementById("chart-reps")) draw("chart-reps", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: d.reps.map(function (r) { return r.name; }), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: t.owned, type: "bar", data: d.reps.map(function (r) { return { value: r.owned, url: r.url }; }) },
        { name: t.won, type: "bar", data: d.reps.map(function (r) { return { value: r.won, url: r.won_url }; }) },
      ],
    }, charts);

    if (d.heat) draw("chart-heat", {
      tooltip: { position: "top", formatter: function (p) {
        return d.heat.reps[p.value[1]] + " · " + d.heat.days[p.value[0]] + "：" + t.misses + " " + p.value[2];
      } },
      grid: { left: 8, right: 16, top: 8, bottom: 64, containLabel: true },
      xAxis: { type: "category", data: d.heat.days, splitArea: { show: true } },
      yAxis: { type: "category", data: d.heat.reps, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(1, d.heat.max), calculable: true, orient: "horizontal", left: "center", bottom: 0,
                   inRange: { color: ["#fdf2e9", "#e67e22", "#c0392b"] } },
      series: [{ name: t.misses, type: "heatmap", data: d.heat.cells, label: { show: true } }],
    }, charts);

    if (d.curves && document.getElementById("chart-curves")) draw("chart-curves", {
      tooltip: { trigger: "axis" }, legend: { top: 0, type: "scroll" }, grid: grid,
      xAxis: { type: "value", name: t.days, min: 0 },
      yAxis: { type: "value", name: t.share_won, axisLabel: { formatter: function (v) { return pct(v); } } },
      series: Object.keys(d.curves).map(function (code) {
        return { name: code, type: "line", step: "end", showSymbol: false, data: d.curves[code] };
      }),
    }, charts);

    if (d.trend) draw("chart-trend", {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: grid,
      xAxis: { type: "category", data: d.trend.weeks },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: t.leads, type: "line", data: d.trend.leads },
        { name: t.won, type: "line", data: d.trend.won },
      ],
    }, charts);

    if (d.losses) draw("chart-losses", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, grid: grid,
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: d.losses.reasons.map(function (r) { return r.name; }) },
      series: [{ type: "bar", data: d.losses.reasons.map(function (r) { return { value: r.value, url: d.losses.url }; }) }],
    }, charts);

    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
    document.body.dataset.chartsReady = String(charts.length);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
