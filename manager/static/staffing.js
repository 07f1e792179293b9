/* Staffing advice. While it is being computed: ask the server every few seconds and show the
 * page again once it is done. Then: the chart (vendored Chart.js), counters recommended per hour
 * as bars and the counter-equivalents really open as a line, for the weekday shown. */
(function () {
  "use strict";
  const wait = document.getElementById("staffing-wait");
  if (wait) {
    const poll = () => {
      fetch(wait.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : { status: "running" }))
        .then((body) => { if (body.status === "running") setTimeout(poll, 3000); else window.location.reload(); })
        .catch(() => setTimeout(poll, 10000));
    };
    setTimeout(poll, 3000);
    return;
  }
  const cfg = JSON.parse(document.getElementById("staffing-config").textContent);
  const S = cfg.s;
  const C = cfg.chart;
  Chart.defaults.font = { family: getComputedStyle(document.body).fontFamily, size: 14 };
  Chart.defaults.color = "#111827";
  Chart.defaults.animation = false;
  const decimal = (n) => (cfg.lang === "vi" ? String(n).replace(".", ",") : String(n));
  new Chart(document.getElementById("chart-staffing"), {
    data: {
      labels: C.hours.map((h) => h + "h"),
      datasets: [
        { type: "bar", label: S.recommended, data: C.recommended, backgroundColor: "rgba(179, 18, 26, 0.75)", order: 2 },
        { type: "line", label: S.real, data: C.real, borderColor: "#1f4e79", backgroundColor: "#1f4e79", borderWidth: 3, pointRadius: 4, order: 1 },
      ],
    },
    options: {
      maintainAspectRatio: false,
      plugins: { tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${decimal(ctx.raw)}` } } },
      scales: {
        x: { title: { display: true, text: S.hour } },
        y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: S.counters } },
      },
    },
  });
})();
