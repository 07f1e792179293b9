/* Report charts with the vendored Chart.js: arrivals by hour × weekday (a heatmap drawn as
 * square points), the waiting-time histogram and waiting time per counter. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("report-config").textContent);
  const S = cfg.s;
  const C = cfg.charts;
  const BRAND = "179, 18, 26";
  const font = { family: getComputedStyle(document.body).fontFamily, size: 14 };
  Chart.defaults.font = font;
  Chart.defaults.color = "#111827";
  Chart.defaults.animation = false;
  const decimal = (n) => (cfg.lang === "vi" ? String(n).replace(".", ",") : String(n));
  const minutes = (s) => (s === null || s === undefined ? null : Math.round(s / 6) / 10);

  // Arrivals heatmap: x = hour, y = weekday (Monday at the top). Chart.js has no matrix chart:
  // a small plugin fills each hour × weekday cell from the axes, the points stay for tooltips.
  const points = [];
  let peak = 0;
  C.heatmap.forEach((row, d) => row.forEach((n, h) => { points.push({ x: h, y: d, v: n }); peak = Math.max(peak, n); }));
  const busy = [];
  for (let h = 0; h < 24; h++) if (C.heatmap.some((row) => row[h] > 0)) busy.push(h);
  const hMin = Math.min(7, busy.length ? busy[0] : 7);
  const hMax = Math.max(17, busy.length ? busy[busy.length - 1] : 17);
  const shade = (v) => (v ? `rgba(${BRAND}, ${0.15 + 0.85 * (v / (peak || 1))})` : "rgba(213, 219, 225, 0.5)");
  const heatCells = {
    id: "heatCells",
    beforeDatasetsDraw(chart) {
      const { ctx, scales: { x, y } } = chart;
      ctx.save();
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = `600 12px ${font.family}`;
      for (const p of chart.data.datasets[0].data) {
        const x0 = x.getPixelForValue(p.x - 0.5), x1 = x.getPixelForValue(p.x + 0.5);
        const y0 = y.getPixelForValue(p.y - 0.5), y1 = y.getPixelForValue(p.y + 0.5);
        ctx.fillStyle = shade(p.v);
        ctx.fillRect(Math.min(x0, x1) + 1, Math.min(y0, y1) + 1, Math.abs(x1 - x0) - 2, Math.abs(y1 - y0) - 2);
        if (p.v && Math.abs(x1 - x0) > 22) {
          ctx.fillStyle = p.v / (peak || 1) > 0.55 ? "#fff" : "#111827";
          ctx.fillText(String(p.v), (x0 + x1) / 2, (y0 + y1) / 2);
        }
      }
      ctx.restore();
    },
  };
  const integerTicks = (lo, hi) => (axis) => { axis.ticks = []; for (let v = lo; v <= hi; v++) axis.ticks.push({ value: v }); };
  new Chart(document.getElementById("chart-heatmap"), {
    type: "scatter",
    plugins: [heatCells],
    data: { datasets: [{ label: S.arrivals, data: points.filter((p) => p.x >= hMin && p.x <= hMax), pointRadius: 0, pointHoverRadius: 0, pointHitRadius: 14 }] },
    options: {
      maintainAspectRatio: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (ctx) => `${C.weekdays[ctx.raw.y]} ${String(ctx.raw.x).padStart(2, "0")}h: ${ctx.raw.v}` } },
      },
      scales: {
        x: { type: "linear", min: hMin - 0.5, max: hMax + 0.5, afterBuildTicks: integerTicks(hMin, hMax), ticks: { callback: (v) => v + "h" }, grid: { display: false }, title: { display: true, text: S.hour } },
        y: { type: "linear", min: -0.5, max: 6.5, reverse: true, afterBuildTicks: integerTicks(0, 6), ticks: { callback: (v) => C.weekdays[v] }, grid: { display: false } },
      },
    },
  });

  // Waiting-time histogram, 5-minute bins.
  const bins = C.histogram;
  new Chart(document.getElementById("chart-histogram"), {
    type: "bar",
    data: {
      labels: bins.map((b) => (b.to_min === null ? "≥ " + b.from_min : b.from_min + "–" + b.to_min)),
      datasets: [{ label: S.waits, data: bins.map((b) => b.count), backgroundColor: `rgba(${BRAND}, 0.85)` }],
    },
    options: {
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { x: { title: { display: true, text: S.waitMin } }, y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: S.waits } } },
    },
  });

  // Waiting time per counter: mean, median, p90 in minutes.
  const rows = C.counters;
  new Chart(document.getElementById("chart-counters"), {
    type: "bar",
    data: {
      labels: rows.map((r) => r.label),
      datasets: [
        { label: S.mean, data: rows.map((r) => minutes(r.mean)), backgroundColor: "rgba(11, 79, 168, 0.85)" },
        { label: S.median, data: rows.map((r) => minutes(r.median)), backgroundColor: "rgba(15, 123, 63, 0.85)" },
        { label: S.p90, data: rows.map((r) => minutes(r.p90)), backgroundColor: `rgba(${BRAND}, 0.85)` },
      ],
    },
    options: {
      maintainAspectRatio: false,
      plugins: { tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${decimal(ctx.raw)} ${S.minutes}` } } },
      scales: { y: { beginAtZero: true, title: { display: true, text: S.waitMin } } },
    },
  });
})();
