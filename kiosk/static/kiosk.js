/* The kiosk's touch screen: pick a field (or a priority group, then a field), get a ticket.
 *
 * - The device token arrives once in ?token=, is kept in localStorage and leaves the address bar.
 * - Each tap gets a fresh idempotency key; retries of that tap (and a repeat tap of the same
 *   field right after a failed one) reuse it, so no tap ever yields two tickets.
 * - Waiting counts follow the live queue (Socket.IO), with a plain refetch every 30 s.
 * - Server down: a calm banner, buttons disabled, and it recovers by itself.
 * Every word shown comes from the page's JSON blob, translated on the server.
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("kiosk-config").textContent);
  const S = cfg.strings;
  const SE = cfg.strings_en; // English beneath Vietnamese; null on an English screen
  const TOKEN_KEY = "motcua.kiosk.token";
  const REFRESH_MS = 30000;
  const OFFLINE_RETRY_MS = 3000;
  const SOCKET_DOWN_POLL_MS = 5000;
  const REPEAT_TAP_MS = 120000;
  const RETRY_DELAYS = [0, 800, 1600, 3200];
  const TERMINAL_PRINT = ["printed", "failed", "dropped"];
  // A second tap of a double tap lands ~350 ms after the first: the ticket screen ignores taps
  // for this long after it appears, so that tap cannot dismiss the ticket it just made.
  const RESULT_GUARD_MS = 1500;

  const $ = (id) => document.getElementById(id);
  const app = $("app");
  const fmt = (text, vars) => String(text).replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  let token = null;
  let settings = cfg.settings;
  let services = [];
  let groups = [];
  let online = true;
  let socketUp = true;
  let inFlight = false;
  let screen = "loading";
  let priority = null; // the chosen group in the priority path
  let lastFailedTap = null; // {service, priority, key, at}: a repeat tap reuses its key
  let live = null;
  let retryTimer = null;
  let idleTimer = null;
  let countdownTimer = null;
  let printTimer = null;
  let resultSeq = 0;
  let meLoaded = false;
  // Set by scan.js (the card and receipt scanner): what a tap adds to the request, what going home clears;
  // by kiosk-code.js: how an appointment ticket shows its booked time.
  const hooks = { issueBody: null, onHome: null, onResult: null, appointment: null };
  let guardTimer = null;

  /* The kiosk's helpers (large text, spoken guidance, help, fitting) follow these events. */
  const emit = (name, detail) => document.dispatchEvent(new CustomEvent("kiosk:" + name, { detail: detail || {} }));
  window.MotcuaKiosk = {
    cfg,
    token: () => token,
    settings: () => settings,
    screen: () => screen,
    online: () => online,
  };

  // ---- the device token ------------------------------------------------------------------

  function takeToken() {
    const url = new URL(location.href);
    const fromUrl = url.searchParams.get("token");
    let stored = null;
    try {
      if (fromUrl) localStorage.setItem(TOKEN_KEY, fromUrl.trim());
      stored = localStorage.getItem(TOKEN_KEY);
    } catch (e) {
      stored = null; // storage disabled: keep it for this page's life at least
    }
    // The token must not stay on screen or in history; the language lives in a cookie.
    url.searchParams.delete("token");
    url.searchParams.delete("lang");
    if (url.href !== location.href) history.replaceState(null, "", url.pathname + url.search + url.hash);
    return stored || (fromUrl && fromUrl.trim()) || null;
  }

  function forgetToken() {
    token = null;
    try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing stored */ }
  }

  // ---- talking to the server -----------------------------------------------------------------

  /* Resolves with {status, body}; rejects with {kind: network|server|auth|refused, status, body}. */
  async function api(url, opts) {
    opts = opts || {};
    const headers = { Accept: "application/json" };
    if (opts.body) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), opts.timeout || 8000);
    let resp;
    try {
      resp = await fetch(url, { method: opts.method || "GET", headers, body: opts.body, signal: ctl.signal, cache: "no-store", credentials: "omit" });
    } catch (e) {
      throw { kind: "network" };
    } finally {
      clearTimeout(timer);
    }
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    // A proxy in front may answer with an HTML error page: treat anything unreadable as down.
    if (resp.status >= 500 || (!resp.ok && !(body && body.error))) throw { kind: "server", status: resp.status };
    if (resp.status === 401) throw { kind: "auth", status: 401, body };
    if (!resp.ok) throw { kind: "refused", status: resp.status, body };
    return { status: resp.status, body };
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // randomUUID needs a secure context; a kiosk on plain http in the office LAN has none.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function failure(err) {
    if (err.kind === "auth") return needSetup("bad_token");
    if (err.kind === "refused" && err.status === 403 && err.body && err.body.error && err.body.error.code === "forbidden") {
      return needSetup("not_kiosk");
    }
    if (err.kind === "network" || err.kind === "server") setOnline(false);
  }

  async function loadMe() {
    try {
      const r = await api(cfg.urls.me);
      settings = Object.assign({}, settings, r.body);
      if (r.body.office) $("office-name").textContent = r.body.office.name;
      meLoaded = true;
      return true;
    } catch (err) {
      failure(err);
      return false;
    }
  }

  async function loadServices() {
    try {
      const r = await api(cfg.urls.services);
      services = r.body.services;
      groups = r.body.priority_groups || [];
      setOnline(true);
      render();
      return true;
    } catch (err) {
      failure(err);
      return false;
    }
  }

  async function refresh() {
    if (!token) return;
    if (!meLoaded && !(await loadMe())) return;
    await loadServices();
  }

  function setOnline(up) {
    if (up === online) return;
    online = up;
    $("offline").hidden = up;
    clearInterval(retryTimer);
    retryTimer = up ? null : setInterval(refresh, OFFLINE_RETRY_MS);
    render();
  }

  function connectLive() {
    if (!window.io || !window.MotcuaQueue) return;
    live = window.MotcuaQueue.connect({ token: token }, {
      onState(state) {
        if (!state || !state.services) return;
        services = state.services;
        render();
      },
      onConnection(up) {
        socketUp = up;
        // The socket only hints; the banner follows what plain HTTP says.
        refresh();
      },
    });
    // A token revoked while the kiosk runs: the set-up screen at once (motcua/static/js/device.js).
    if (window.MotcuaDevice) {
      window.MotcuaDevice.watch(live, { url: cfg.urls.me, token: token, onRefused: (status) => needSetup(status === 403 ? "not_kiosk" : "bad_token") });
    }
  }

  // ---- screens --------------------------------------------------------------------------------

  function show(name) {
    screen = name;
    app.dataset.screen = name;
    for (const id of ["start", "groups", "priority", "code", "result", "setup"]) $("screen-" + id).hidden = id !== name;
    armIdle();
    emit("screen", { screen: name });
  }

  function needSetup(reason) {
    if (live) { live.close(); live = null; }
    clearInterval(retryTimer);
    forgetToken();
    online = true;
    $("offline").hidden = true;
    $("busy").hidden = true;
    $("message").hidden = true;
    for (const p of document.querySelectorAll("[data-reason]")) p.hidden = p.dataset.reason !== reason;
    show("setup");
  }

  /* Back to the start screen within the same visit: the language and large text stay. */
  function goStart() {
    clearTimeout(printTimer);
    clearInterval(countdownTimer);
    priority = null;
    if (hooks.onHome) hooks.onHome();
    $("message").hidden = true;
    show("start");
    render();
  }

  /* The visit is over (ticket taken, or nobody touched the screen): the next citizen finds
     the kiosk as it was set up, in Vietnamese. */
  function endVisit() {
    emit("visit-end");
    if (cfg.lang !== "vi") {
      clearTimeout(printTimer);
      clearInterval(countdownTimer);
      priority = null;
      $("message").hidden = true;
      switchLanguage("vi");
      return;
    }
    goStart();
  }

  /* Reloads the page in the other language, but only once the server has answered: a kiosk
     must never end up on the browser's own "cannot connect" page. */
  async function switchLanguage(lang) {
    const url = cfg.urls.page + "?lang=" + lang;
    try {
      const resp = await fetch(url, { cache: "no-store", credentials: "same-origin" });
      if (resp.ok) { location.replace(url); return; }
    } catch (e) { /* offline: stay as we are */ }
    setOnline(false);
    if (screen !== "start") { show("start"); render(); } else armIdle(); // try again later
  }

  /* Any screen but an idle Vietnamese start screen returns home after the office's reset time. */
  function armIdle() {
    clearTimeout(idleTimer);
    if (screen === "setup" || screen === "result" || screen === "loading") return;
    if (screen === "start" && cfg.lang === "vi" && $("message").hidden && $("help").hidden && app.dataset.large !== "1") return;
    idleTimer = setTimeout(endVisit, resetSeconds() * 1000);
  }

  function resetSeconds() {
    return Math.max(5, Number(settings.kiosk_reset_seconds) || 20);
  }

  // ---- rendering the start and priority screens ----------------------------------------------

  /* The CSS picks the columns from this size class and the screen's orientation. */
  function sizeClass(n) {
    return n <= 2 ? String(n) : n <= 4 ? "m" : n <= 6 ? "l" : "xl";
  }

  function waitingText(n) {
    return n === 0 ? S.waiting_0 : n === 1 ? S.waiting_1 : fmt(S.waiting_n, { n });
  }

  /* No estimate only ever means no counter serves the field now; a range from 0 (nobody
     ahead) reads "under N minutes", not "0–N". */
  function etaText(minutes) {
    if (!minutes) return S.eta_unknown;
    if (minutes[0] <= 0) return fmt(S.eta_under, { high: minutes[1] });
    return fmt(S.eta_range, { low: minutes[0], high: minutes[1] });
  }

  function reasonText(reason) {
    if (!reason) return S.closed;
    return cfg.lang === "vi" ? reason.message : reason.message_en || reason.message;
  }

  function fieldButton(container, s) {
    let btn = container.querySelector(`[data-code="${CSS.escape(s.code)}"]`);
    if (!btn) {
      btn = document.createElement("button");
      btn.type = "button";
      btn.className = "k-field";
      btn.dataset.code = s.code;
      btn.innerHTML = '<span class="f-icon" aria-hidden="true"></span><span class="f-prefix"></span><span class="f-name" lang="vi"></span><span class="f-en" lang="en"></span>' +
        '<span class="f-meta"><span class="f-wait"></span><span class="f-eta"></span></span><span class="f-closed"></span>';
      btn.addEventListener("click", () => issue(btn.dataset.code, container.id === "priority-fields" ? priority : null));
      const icon = (cfg.icons || {})[s.code] || cfg.icon_default;
      if (icon) btn.querySelector(".f-icon").style.setProperty("--icon", `url("${icon}")`);
      container.appendChild(btn);
    }
    btn.querySelector(".f-prefix").textContent = s.prefix || "";
    btn.querySelector(".f-name").textContent = s.name;
    btn.querySelector(".f-en").textContent = s.name_en || "";
    btn.querySelector(".f-wait").textContent = waitingText(s.waiting);
    btn.querySelector(".f-eta").textContent = etaText(s.eta_minutes);
    btn.querySelector(".f-closed").textContent = s.open ? "" : reasonText(s.closed_reason);
    btn.disabled = !s.open || !online;
    btn.dataset.open = s.open ? "1" : "0";
    btn.dataset.waiting = String(s.waiting);
    return btn;
  }

  function renderFields(container) {
    const codes = new Set(services.map((s) => s.code));
    for (const old of container.querySelectorAll(".k-field")) if (!codes.has(old.dataset.code)) old.remove();
    services.forEach((s, i) => {
      const btn = fieldButton(container, s);
      if (container.children[i] !== btn) container.insertBefore(btn, container.children[i] || null);
    });
    container.dataset.size = sizeClass(services.length);
    container.classList.toggle("is-offline", !online);
  }

  function renderGroups() {
    const box = $("groups");
    if (box.dataset.rendered !== JSON.stringify(groups)) {
      box.replaceChildren();
      for (const g of groups) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "k-group";
        b.dataset.group = g.code;
        b.innerHTML = '<span class="g-name" lang="vi"></span><span class="g-en" lang="en"></span>';
        b.querySelector(".g-name").textContent = g.name;
        b.querySelector(".g-en").textContent = g.name_en || "";
        b.addEventListener("click", () => chooseGroup(g.code));
        box.appendChild(b);
      }
      box.dataset.rendered = JSON.stringify(groups);
    }
    box.dataset.size = sizeClass(groups.length);
    const prio = $("priority-button");
    prio.hidden = groups.length === 0;
    prio.disabled = !online || !services.some((s) => s.open);
    $("priority-who").textContent = groups.map((g) => (cfg.lang === "vi" ? g.name : g.name_en || g.name)).join(" · ");
  }

  function render() {
    renderFields($("fields"));
    renderFields($("priority-fields"));
    renderGroups();
    const g = groups.find((x) => x.code === priority);
    $("priority-chosen").textContent = g ? fmt(S.priority_for, { group: cfg.lang === "vi" ? g.name : g.name_en || g.name }) : "";
    emit("rendered");
  }

  function chooseGroup(code) {
    priority = code;
    render();
    show("priority");
  }

  // ---- issuing ----------------------------------------------------------------------------------

  async function issue(code, group) {
    if (inFlight || !online) return; // a second tap while the first is on its way does nothing
    const svc = services.find((s) => s.code === code);
    if (!svc || !svc.open) return;
    inFlight = true;
    $("busy").hidden = false;
    const repeat = lastFailedTap && lastFailedTap.service === code && lastFailedTap.priority === group &&
      Date.now() - lastFailedTap.at < REPEAT_TAP_MS;
    const key = repeat ? lastFailedTap.key : newKey();
    lastFailedTap = { service: code, priority: group, key, at: Date.now() };
    const body = { service: code, idempotency_key: key };
    if (group) body.priority = group;
    if (hooks.issueBody) hooks.issueBody(body, group);
    try {
      const r = await withRetry(() => api(cfg.urls.tickets, { method: "POST", body: JSON.stringify(body), timeout: 10000 }));
      lastFailedTap = null;
      showResult(r.body, svc, group);
    } catch (err) {
      if (err.kind === "refused") lastFailedTap = null; // the server said no: a new tap is a new request
      if (err.kind === "auth" || (err.kind === "refused" && err.status === 403 && err.body.error.code === "forbidden")) {
        failure(err);
      } else if (err.kind === "refused") {
        showMessage(err.body.error.message, err.body.error.message_en);
        loadServices();
      } else {
        setOnline(false);
        showMessage(S.issue_failed, SE && SE.issue_failed);
      }
    } finally {
      inFlight = false;
      $("busy").hidden = true;
    }
  }

  /* Retries lost requests and server errors with the same key; a refusal is final. */
  async function withRetry(send) {
    let last = null;
    for (const delay of RETRY_DELAYS) {
      if (delay) await sleep(delay);
      try {
        return await send();
      } catch (err) {
        last = err;
        const racing = err.kind === "refused" && err.status === 409 && err.body.error.code === "conflict";
        if (err.kind !== "network" && err.kind !== "server" && !racing) throw err;
      }
    }
    throw last;
  }

  function showMessage(main, sub) {
    if (cfg.lang === "vi") {
      $("message-main").textContent = main;
      $("message-sub").textContent = sub && sub !== main ? sub : "";
    } else {
      $("message-main").textContent = sub || main;
      $("message-sub").textContent = "";
    }
    $("message").hidden = false;
    armIdle();
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => { $("message").hidden = true; endVisit(); }, resetSeconds() * 1000);
  }

  // ---- the ticket on screen ---------------------------------------------------------------------

  function showResult(t, svc, group) {
    const seq = ++resultSeq;
    const result = $("screen-result");
    result.dataset.publicId = t.public_id;
    result.dataset.code = t.code;
    result.dataset.statusUrl = t.status_url;
    result.dataset.printJob = t.print_job || "";
    $("r-number").textContent = t.code;
    $("r-field").textContent = svc.name;
    $("r-field-en").textContent = svc.name_en || "";
    const g = groups.find((x) => x.code === (t.priority || group));
    $("r-priority").hidden = !g;
    $("r-priority").textContent = g ? fmt(S.priority_for, { group: cfg.lang === "vi" ? g.name : g.name_en || g.name }) : "";
    const n = t.waiting_ahead;
    $("r-ahead").textContent = n === 0 ? S.ahead_0 : n === 1 ? S.ahead_1 : fmt(S.ahead_n, { n });
    $("r-eta").textContent = etaText(t.eta_minutes);
    if (hooks.appointment) hooks.appointment(t.appointment || null);
    $("r-qr").src = cfg.urls.qr.replace("__ID__", encodeURIComponent(t.public_id));
    printState(t.print_job ? "printing" : "none");
    guardResult();
    show("result");
    emit("ticket", { code: t.code, service: svc.code, name: svc.name, priority: group || null });
    startCountdown(resetSeconds());
    if (t.print_job) pollPrint(t.print_job, seq);
    if (hooks.onResult) hooks.onResult(t);
  }

  /* The ticket screen's buttons sleep for a moment, and the CSS keeps them out of the band
     where field buttons were (see .r-actions). */
  function guardResult() {
    clearTimeout(guardTimer);
    const buttons = $("screen-result").querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    $("screen-result").dataset.guard = "1";
    guardTimer = setTimeout(() => {
      for (const b of buttons) b.disabled = false;
      delete $("screen-result").dataset.guard;
    }, RESULT_GUARD_MS);
  }

  function printState(state) {
    const key = { printing: "printing", printed: "printed", failed: "print_failed", none: "no_printer" }[state];
    const box = $("r-print");
    box.dataset.state = state;
    $("r-print-main").textContent = S[key];
    $("r-print-sub").textContent = SE ? SE[key] : "";
  }

  async function pollPrint(jobId, seq) {
    while (seq === resultSeq && screen === "result") {
      try {
        const r = await api(cfg.urls.print_job + jobId, { timeout: 4000 });
        if (seq !== resultSeq) return;
        const status = r.body.status;
        if (status === "printed") return printState("printed");
        if (status === "failed" || status === "dropped") {
          printState("failed");
          startCountdown(resetSeconds()); // time to write the number down
          return;
        }
      } catch (err) {
        if (err.kind === "refused") return; // no such job for this kiosk: keep "printing" wording out of it
      }
      await new Promise((resolve) => { printTimer = setTimeout(resolve, 1000); });
    }
  }

  function startCountdown(seconds) {
    clearInterval(countdownTimer);
    let left = seconds;
    const tick = () => {
      $("r-countdown").textContent = fmt(S.reset_in, { s: left });
      if (left <= 0) { clearInterval(countdownTimer); endVisit(); }
      left -= 1;
    };
    tick();
    countdownTimer = setInterval(tick, 1000);
  }

  // ---- wiring --------------------------------------------------------------------------------------

  function fillStatic() {
    for (const el of document.querySelectorAll("[data-text]")) el.textContent = S[el.dataset.text] || "";
    for (const el of document.querySelectorAll("[data-text-en]")) el.textContent = SE ? SE[el.dataset.textEn] || "" : "";
  }

  function guardTouchScreen() {
    document.addEventListener("contextmenu", (e) => e.preventDefault());
    document.addEventListener("dragstart", (e) => e.preventDefault());
    document.addEventListener("selectstart", (e) => e.preventDefault());
    // Touchpad pinch arrives as ctrl+wheel; Safari-style gestures and two-finger moves likewise.
    document.addEventListener("wheel", (e) => { if (e.ctrlKey) e.preventDefault(); }, { passive: false });
    document.addEventListener("gesturestart", (e) => e.preventDefault());
    document.addEventListener("touchmove", (e) => { if (e.touches.length > 1) e.preventDefault(); }, { passive: false });
    document.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && ["+", "-", "=", "0"].includes(e.key)) e.preventDefault();
    });
    document.addEventListener("pointerdown", armIdle, true);
  }

  function wire() {
    $("lang-toggle").addEventListener("click", (e) => {
      if (!inFlight) switchLanguage(e.currentTarget.dataset.target);
    });
    $("priority-button").addEventListener("click", () => {
      if (!online) return;
      renderGroups();
      show("groups");
    });
    for (const b of document.querySelectorAll('[data-action="home"]')) b.addEventListener("click", goStart);
    for (const b of document.querySelectorAll('[data-action="groups"]')) b.addEventListener("click", () => { priority = null; show("groups"); });
    $("done").addEventListener("click", endVisit);
    document.querySelector('[data-action="dismiss"]').addEventListener("click", () => { $("message").hidden = true; goStart(); });
  }

  function boot() {
    fillStatic();
    guardTouchScreen();
    wire();
    token = takeToken();
    if (!token) return needSetup(null);
    show("start");
    connectLive();
    refresh();
    setInterval(refresh, REFRESH_MS);
    // The socket normally keeps counts live; while it is down, poll a little more often.
    setInterval(() => { if (!socketUp && online) loadServices(); }, SOCKET_DOWN_POLL_MS);
  }

  boot();
  // For scan.js: the kiosk's own requests, screens and words (beside what the helpers read above).
  Object.assign(window.MotcuaKiosk, {
    S, SE, hooks, api, newKey, withRetry, showResult, showMessage, goHome: goStart, render, printState, pollPrint, show,
    services: () => services,
    settings: () => settings,
    isOnline: () => online,
    isHome: () => screen === "start" || screen === "groups" || screen === "priority",
    busy(on) { inFlight = on; $("busy").hidden = !on; },
    inFlight: () => inFlight,
    nextResult: () => resultSeq,
  });
})();
