/* The manager dashboard: live counters and queues over Socket.IO (MotcuaQueue), plus the
 * figures that need the database (/manager/api/today), fetched again shortly after each change
 * (debounced) and every 30 s; the longest waits tick every second in between. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("dash-config").textContent);
  const S = cfg.s;
  let today = cfg.data;
  let live = null;
  let skewMs = Date.now() - Date.parse(today.at);
  let refreshTimer = null;
  let inFlight = false;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function mmss(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    let s = Math.round(Math.abs(seconds));
    const sign = seconds < 0 ? "−" : "";
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); const sec = s - m * 60;
    const pad = (n) => String(n).padStart(2, "0");
    return sign + (h ? h + ":" + pad(m) + ":" + pad(sec) : m + ":" + pad(sec));
  }

  function pct(share) {
    if (share === null || share === undefined) return "—";
    const t = (share * 100).toFixed(1);
    return (cfg.lang === "vi" ? t.replace(".", ",") : t) + " %";
  }

  // Times are read in the office's zone, never the browser's (a manager's laptop or a server
  // console may be set to UTC or to another office's zone).
  const officeTime = new Intl.DateTimeFormat("en-GB", {
    timeZone: cfg.timezone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });

  function clock(iso) {
    // HH:MM today; dd/mm HH:MM on another day (a device last seen last week).
    if (!iso) return "—";
    const p = {};
    for (const part of officeTime.formatToParts(new Date(iso))) p[part.type] = part.value;
    const hm = p.hour + ":" + p.minute;
    const day = p.year + "-" + p.month + "-" + p.day;
    return day === today.business_day ? hm : p.day + "/" + p.month + " " + hm;
  }

  function serverNow() { return Date.now() - skewMs; }

  function liveService(code) {
    return live ? live.services.find((s) => s.code === code) : null;
  }

  function openCounters(code, fallback) {
    if (!live) return fallback;
    return live.counters.filter((c) => c.status === "open" && c.services.includes(code)).map((c) => c.number);
  }

  function renderKpis() {
    const t = today.today;
    const waiting = live ? live.services.reduce((n, s) => n + s.waiting, 0) : t.waiting;
    document.getElementById("k-issued").textContent = t.issued;
    document.getElementById("k-waiting").textContent = waiting;
    document.getElementById("k-served").textContent = t.served;
    document.getElementById("k-noshow").textContent = t.no_show;
    document.getElementById("k-wait").textContent = mmss(t.wait_mean_s);
    document.getElementById("k-sat").textContent = pct(t.satisfaction_rate);
    document.getElementById("k-ratings").textContent = t.ratings;
  }

  function renderAlerts() {
    const ul = document.getElementById("alerts");
    ul.replaceChildren();
    if (!today.alerts.length) { ul.append(el("li", { class: "none" }, S.none)); return; }
    for (const a of today.alerts) {
      if (cfg.lang === "en") ul.append(el("li", { class: a.level, "data-code": a.code }, a.message_en));
      else ul.append(el("li", { class: a.level, "data-code": a.code }, a.message, el("small", { lang: "en" }, a.message_en)));
    }
  }

  function renderFields() {
    const body = document.querySelector("#fields tbody");
    body.replaceChildren();
    for (const s of today.services) {
      const ls = liveService(s.code);
      const waiting = ls ? ls.waiting : s.waiting;
      let longest = null;
      if (waiting > 0 && s.oldest_queued_at) longest = (serverNow() - Date.parse(s.oldest_queued_at)) / 1000;
      const over = longest !== null && longest > s.wait_alert_minutes * 60;
      const counters = openCounters(s.code, s.open_counters);
      body.append(el("tr", { "data-code": s.code },
        el("td", {}, s.name),
        el("td", { class: "n" }, waiting),
        el("td", { class: "n" }, over ? el("span", { class: "badge bad" }, mmss(longest)) : mmss(longest)),
        // "Quầy 1, Quầy 3": numbers of counters, never read as counts.
        el("td", {}, counters.length ? counters.map((n) => S.counterShort + " " + n).join(", ")
          : (waiting ? el("span", { class: "badge bad" }, S.noOpenCounter) : "—")),
        el("td", { class: "n" }, s.issued),
        el("td", { class: "n" }, s.served),
        el("td", { class: "n" }, s.no_show),
        el("td", { class: "n" }, mmss(s.wait_mean_s))));
    }
  }

  function renderCounters() {
    const box = document.getElementById("counters");
    if (!live) return;
    box.replaceChildren();
    for (const c of live.counters) {
      const t = c.ticket;
      const state = t ? (t.status === "serving" ? S.serving : S.called) : S.idle;
      const since = t ? (t.status === "serving" ? t.started_at : t.called_at) : null;
      box.append(el("article", { class: "counter-card " + c.status, "data-number": c.number },
        el("div", { class: "name" }, c.name),
        el("div", {}, el("span", { class: "badge " + (c.status === "open" ? "ok" : c.status === "paused" ? "warn" : "off") }, S[c.status] || c.status),
          c.pause_reason ? " " + c.pause_reason : null),
        el("div", { class: "ticket" }, t ? t.code : "—"),
        el("div", { class: "meta" }, state + (since ? " " + S.since + " " + clock(since) : "")),
        el("div", { class: "meta" }, c.clerk ? S.clerk + ": " + c.clerk : S.noClerk)));
    }
  }

  function healthBadge(h) { return el("span", { class: "badge " + h }, S[h] || h); }

  function renderPrinters() {
    const body = document.querySelector("#printers tbody");
    body.replaceChildren();
    if (!today.printers.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, S.noPrinters)));
    for (const p of today.printers) {
      body.append(el("tr", {},
        el("td", {}, p.name, el("div", { class: "muted" }, p.connection)),
        el("td", {}, healthBadge(p.health), p.error ? el("div", { class: "muted" }, p.error) : null),
        el("td", {}, p.paper ? (S.paper[p.paper] || p.paper) : S.unknown),
        el("td", {}, clock(p.last_seen_at)),
        el("td", { class: "n" }, p.failed_recently || 0, p.last_error ? el("div", { class: "muted" }, p.last_error) : null)));
    }
  }

  function renderDevices() {
    const body = document.querySelector("#devices tbody");
    body.replaceChildren();
    if (!today.devices.length) body.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, S.noneYet)));
    for (const d of today.devices) {
      body.append(el("tr", {},
        el("td", {}, d.name),
        el("td", {}, (S.kinds[d.kind] || d.kind) + (d.counter ? " · " + S.counterShort + " " + d.counter : "")),
        el("td", {}, el("span", { class: "badge " + d.health }, S.deviceHealth[d.health] || d.health)),
        el("td", {}, clock(d.last_seen_at))));
    }
  }

  function render() {
    renderKpis(); renderAlerts(); renderFields(); renderCounters(); renderPrinters(); renderDevices();
  }

  async function refresh() {
    if (inFlight) { schedule(); return; }
    inFlight = true;
    try {
      const r = await fetch(cfg.todayUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (r.status === 401 || r.status === 403) { location.reload(); return; }
      if (r.ok) {
        today = await r.json();
        skewMs = Date.now() - Date.parse(today.at);
        document.getElementById("dash-day").textContent = today.business_day.split("-").reverse().join("/");
        render();
      }
    } catch (e) { /* the socket's connection badge already says we are offline */ }
    finally { inFlight = false; }
  }

  function schedule() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 800);
  }

  const conn = document.getElementById("conn");
  MotcuaQueue.connect(cfg.auth, {
    onState: function (state, change) {
      live = state;
      renderKpis(); renderFields(); renderCounters();
      if (change) schedule();
    },
    onConnection: function (up) {
      conn.textContent = up ? S.live : S.down;
      conn.className = "conn badge " + (up ? "ok" : "bad down");
      if (up) schedule();
    },
  });
  render();
  setInterval(renderFields, 1000);
  setInterval(refresh, 30000);
})();
