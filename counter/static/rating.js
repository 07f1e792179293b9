/* The citizen's rating pad at a counter.
 *
 * Idle, it shows the counter and the number being served (the /display snapshot and changes).
 * After "finish" the server sends `rating_request` to this counter's room; the pad then shows
 * the office's scale (best first: score 1 is the best level) for `rating_seconds`, asks why when
 * the level is one of the low ones, posts /api/v1/ratings with the device token, thanks, and
 * goes back to idle. A pad that reloads or reconnects during the window asks
 * /counter/api/device for the rating still open, so the citizen is not skipped.
 */
(function () {
  "use strict";

  const T = JSON.parse(document.getElementById("pad-text").textContent);
  const EN = document.documentElement.lang === "en";
  const THANKS_MS = 5000;
  const FAILED_MS = 6000;

  let token = null;
  let info = null;          // /counter/api/device
  let counter = null;       // counter_view of this pad's counter
  let ticket = null;        // the ticket being rated
  let deadline = 0;
  let score = null;
  let sending = false;
  let timer = null;
  let back = null;
  const done = new Set();   // public ids rated or given up on: a repeated request never asks twice

  const $ = (id) => document.getElementById(id);

  function show(id) {
    document.querySelectorAll(".screen").forEach((s) => { s.hidden = s.id !== id; });
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // ---- idle ----------------------------------------------------------------------------------

  function renderIdle() {
    if (!info) return;
    $("idle-number").textContent = info.counter.number;
    $("idle-name").textContent = MotcuaPad.place(info.counter.name);
    const t = counter && counter.ticket;
    let label = T.free;
    if (counter && counter.status === "paused") label = T.paused;
    else if (counter && counter.status === "closed") label = T.closed;
    else if (t) label = t.status === "called" ? T.called : T.serving;
    $("idle-label").textContent = label;
    $("idle-code").textContent = t ? t.code : "—";
    $("idle-clerk").textContent = counter && counter.clerk ? T.clerk + " " + counter.clerk : "";
    document.querySelectorAll(".js-number").forEach((e) => { e.textContent = info.counter.number; });
    document.querySelectorAll(".js-clerk").forEach((e) => { e.textContent = counter && counter.clerk ? T.clerk + " " + counter.clerk : ""; });
  }

  function idle() {
    clearInterval(timer);
    clearTimeout(back);
    timer = null;
    if (ticket) done.add(ticket.public_id);
    ticket = null;
    score = null;
    show("screen-idle");
    renderIdle();
  }

  // ---- asking ------------------------------------------------------------------------------

  function levels() { return info.rating.scale.length; }
  function isLow(s) { return s > levels() - info.rating.low_count; }

  function colour(i, n) {
    // Green for the best level to red for the worst, dark enough for white text.
    const hue = n > 1 ? 140 - (136 * i) / (n - 1) : 140;
    return "hsl(" + hue.toFixed(0) + ", 72%, 29%)";
  }

  function face(i, n) {
    const k = n > 1 ? 1 - (2 * i) / (n - 1) : 1;  // 1 = smile, -1 = frown
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 100 100");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "face");
    const parts = [
      ["circle", { cx: 50, cy: 50, r: 44, fill: "none", stroke: "currentColor", "stroke-width": 6 }],
      ["circle", { cx: 35, cy: 40, r: 6, fill: "currentColor" }],
      ["circle", { cx: 65, cy: 40, r: 6, fill: "currentColor" }],
      ["path", { d: "M 30 " + (66 - 6 * k) + " Q 50 " + (66 + 20 * k) + " 70 " + (66 - 6 * k), fill: "none", stroke: "currentColor", "stroke-width": 6, "stroke-linecap": "round" }],
    ];
    for (const [tag, attrs] of parts) {
      const e = document.createElementNS(ns, tag);
      for (const a in attrs) e.setAttribute(a, attrs[a]);
      svg.appendChild(e);
    }
    return svg;
  }

  function buildScale() {
    const box = $("scale-buttons");
    box.textContent = "";
    const n = levels();
    box.style.setProperty("--levels", n);
    info.rating.scale.forEach((label, i) => {
      const b = el("button", "level");
      b.type = "button";
      b.dataset.score = String(i + 1);
      b.style.background = colour(i, n);
      b.appendChild(face(i, n));
      b.appendChild(el("span", "level-vi", EN ? info.rating.scale_en[i] || label : label));
      if (!EN && info.rating.scale_en[i] && info.rating.scale_en[i] !== label) b.appendChild(el("span", "level-en", info.rating.scale_en[i]));
      b.addEventListener("click", () => choose(i + 1));
      box.appendChild(b);
    });
  }

  function buildReasons() {
    const box = $("reason-buttons");
    box.textContent = "";
    for (const r of info.rating.reasons) {
      const b = el("button", "reason-choice");
      b.type = "button";
      b.dataset.reason = r.vi;
      b.setAttribute("aria-pressed", "false");
      b.appendChild(el("span", "reason-vi", EN && r.en ? r.en : r.vi));
      if (!EN && r.en) b.appendChild(el("span", "reason-en", r.en));
      b.addEventListener("click", () => {
        b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true");
        $("reason-error").hidden = true;
      });
      box.appendChild(b);
    }
    $("reason-text").value = "";
    $("reason-error").hidden = true;
  }

  function ask(t, seconds) {
    if (!info || done.has(t.public_id)) return;
    if (ticket && ticket.public_id === t.public_id) return;
    if (sending) return;
    clearTimeout(back);
    ticket = t;
    score = null;
    deadline = Date.now() + Math.max(1, seconds) * 1000;
    $("scale-code").textContent = t.code;
    renderIdle();
    buildScale();
    show("screen-scale");
    clearInterval(timer);
    timer = setInterval(tick, 250);
    tick();
  }

  function tick() {
    const msLeft = deadline - Date.now();
    const total = info.rating.seconds * 1000;
    const left = Math.max(0, Math.ceil(msLeft / 1000));
    document.querySelectorAll(".js-left").forEach((e) => { e.textContent = T.seconds_left.replace("{n}", left); });
    document.querySelectorAll(".js-bar").forEach((e) => { e.style.width = Math.max(0, Math.min(100, (100 * msLeft) / total)) + "%"; });
    if (msLeft <= 0 && !sending) idle();
  }

  function choose(s) {
    if (!ticket || sending) return;
    score = s;
    if (isLow(s)) {
      buildReasons();
      show("screen-reason");
      return;
    }
    send(null);
  }

  function reasonText() {
    const picked = Array.from(document.querySelectorAll(".reason-choice[aria-pressed=true]")).map((b) => b.dataset.reason);
    const typed = $("reason-text").value.trim();
    if (typed) picked.push(typed);
    return picked.join("; ");
  }

  function reasonError(vi, en) {
    const p = $("reason-error");
    p.textContent = vi;
    p.appendChild(el("small", "", en));
    p.hidden = false;
  }

  async function send(reason) {
    if (!ticket || sending) return;
    sending = true;
    document.querySelectorAll(".level, #reason-send").forEach((b) => { b.disabled = true; });
    let resp = null, data = null;
    try {
      resp = await fetch("/api/v1/ratings", {
        method: "POST",
        headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ ticket: ticket.public_id, score: score, reason: reason || null }),
      });
      try { data = await resp.json(); } catch (e) { data = null; }
    } catch (e) {
      resp = null;
    } finally {
      sending = false;
      document.querySelectorAll(".level, #reason-send").forEach((b) => { b.disabled = false; });
    }
    if (resp && resp.status === 201) return thanks();
    const err = (data && data.error) || { message: T.network_vi, message_en: T.network_en };
    if (!resp) {
      // The network hiccupped: let the citizen press again while time remains.
      if (isLow(score)) reasonError(err.message, err.message_en); else failed(err, 2500, true);
      return;
    }
    if (resp.status === 422 && err.code === "reason_required") {
      buildReasons();
      show("screen-reason");
      return reasonError(err.message, err.message_en);
    }
    failed(err, FAILED_MS, false);
  }

  function thanks() {
    if (ticket) done.add(ticket.public_id);
    clearInterval(timer);
    show("screen-thanks");
    clearTimeout(back);
    back = setTimeout(idle, THANKS_MS);
  }

  function failed(err, ms, retry) {
    $("failed-vi").textContent = err.message || "";
    $("failed-en").textContent = err.message_en || "";
    show("screen-failed");
    clearTimeout(back);
    back = setTimeout(() => {
      if (retry && ticket && Date.now() < deadline) show("screen-scale"); else idle();
    }, ms);
  }

  $("reason-back").addEventListener("click", () => { if (ticket) show("screen-scale"); });
  $("reason-send").addEventListener("click", () => {
    const reason = reasonText();
    if (!reason) return reasonError(T.reason_required_vi, T.reason_required_en);
    send(reason);
  });

  // ---- wiring ------------------------------------------------------------------------------

  async function catchUp() {
    // A rating still open for this counter (after a reload or a reconnect).
    const res = await MotcuaPad.device(token);
    if (res.ok) {
      info = res.data;
      if (info.pending && !ticket) ask(info.pending.ticket, info.pending.seconds_left);
    }
  }

  MotcuaPad.start("rating", function (tok, data) {
    token = tok;
    info = data;
    idle();
    if (info.pending) ask(info.pending.ticket, info.pending.seconds_left);
    const live = MotcuaQueue.connect({ token: token }, {
      onState: function (state) {
        counter = state.counters.find((c) => c.number === info.counter.number) || null;
        renderIdle();
      },
      onConnection: function (up) {
        MotcuaPad.offline(up);
        if (up) catchUp();
      },
      onRating: async function (t) {
        if (t.counter !== null && t.counter !== info.counter.number) return;
        // The broadcast ticket carries no public id (it lets its holder cancel the ticket):
        // the pad's own device endpoint names the ticket it may have rated, and for how long.
        const res = await MotcuaPad.device(token);
        if (!res.ok) return;
        info = res.data;
        if (info.pending) ask(info.pending.ticket, info.pending.seconds_left);
      },
    });
    MotcuaPad.watch("rating", live, token, function () {
      clearInterval(timer);
      clearTimeout(back);
      ticket = null;
    });
  });
})();
