/* The clerk's counter page.
 *
 * State comes from the /display socket (MotcuaQueue: snapshot, then sequenced changes; the
 * session cookie authenticates it); the waiting list from /counter/api/<n>/waiting, fetched
 * again whenever a change touches this counter or a field it serves. Every action is a POST
 * to the core API /api/v1/counters/<n>/<action> with the page's CSRF token; its answer is
 * drawn at once, and the socket keeps the page right when someone else changes things.
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("counter-config").textContent);
  const T = JSON.parse(document.getElementById("counter-text").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const N = cfg.counter;
  const EN = document.documentElement.lang === "en";

  let counter = null;        // counter_view of counter N
  let shownSeq = 0;          // the office change the last action's answer showed
  let offsetMs = 0;          // server clock minus this PC's clock
  let waiting = null;        // the last /waiting answer
  let busy = false;          // one action at a time: a double press never calls two citizens
  let noticeTimer = null;

  const $ = (id) => document.getElementById(id);

  // ---- small helpers ----------------------------------------------------------------------

  function serverNow() { return Date.now() + offsetMs; }

  function pad(x) { return String(x).padStart(2, "0"); }

  function duration(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : pad(m)) + ":" + pad(s % 60);
  }

  function minutesSince(iso) { return Math.max(0, Math.floor((serverNow() - Date.parse(iso)) / 60000)); }

  function clockTime(iso) {
    try {
      return new Date(iso).toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit", timeZone: cfg.office.timezone });
    } catch (e) {
      return new Date(iso).toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" });
    }
  }

  function appointmentText(a) {
    return T.appointment + " " + clockTime(a.start);
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function serviceName(code) {
    const s = cfg.services.find((x) => x.code === code);
    if (!s) return code;
    return EN && s.name_en ? s.name_en : s.name;
  }

  function groupName(code) {
    const g = cfg.priority_groups[code];
    if (!g) return T.priority;
    return EN && g.name_en ? g.name_en : g.name;
  }

  // ---- notices: Vietnamese first, English beneath -------------------------------------------

  function notice(kind, vi, en, link) {
    const box = $("notice");
    box.className = "notice notice-" + kind;
    box.querySelector(".vi").textContent = vi || "";
    const small = box.querySelector(".en");
    small.textContent = en || "";
    if (link) {
      const a = el("a", "notice-link", " → /login");
      a.href = link;
      small.appendChild(a);
    }
    box.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { box.hidden = true; }, kind === "error" ? 15000 : 6000);
  }

  function clearNotice() { $("notice").hidden = true; }

  $("notice").querySelector(".notice-close").addEventListener("click", clearNotice);

  // ---- the core API -------------------------------------------------------------------------

  async function post(action, body) {
    const url = cfg.api + action + "?office=" + encodeURIComponent(cfg.office_param);
    let resp;
    try {
      resp = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body || {}),
      });
    } catch (e) {
      return { ok: false, error: { message: T.network_vi, message_en: T.network_en } };
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (resp.ok) return { ok: true, data: data };
    const err = (data && data.error) || { message: "Lỗi " + resp.status, message_en: "Error " + resp.status };
    if (resp.status === 401) return { ok: false, status: 401, error: { message: T.session_vi, message_en: T.session_en }, login: true };
    return { ok: false, status: resp.status, error: err };
  }

  function showError(res) {
    notice("error", res.error.message, res.error.message_en, res.login ? cfg.login_url : null);
  }

  function applyResult(data) {
    if (data && data.counter && data.counter.number === N) {
      counter = data.counter;
      if (data.seq) shownSeq = Math.max(shownSeq, data.seq);
      render();
    }
    scheduleWaiting(0);
  }

  async function act(action, body) {
    if (busy) return null;
    busy = true;
    renderButtons();
    try {
      const res = await post(action, body);
      if (res.ok) {
        clearNotice();
        applyResult(res.data);
        // A keypad's Enter must not press the last clicked button again (and call another citizen).
        if (document.activeElement && document.activeElement.classList.contains("act")) document.activeElement.blur();
      }
      return res;
    } finally {
      busy = false;
      renderButtons();
    }
  }

  // ---- drawing the counter ---------------------------------------------------------------

  function mine() { return !!(waiting && waiting.counter.mine); }
  function heldByOther() { return !!(waiting && waiting.counter.held && !waiting.counter.mine); }

  function allowed(action) {
    if (!counter || busy) return false;
    const clerk = cfg.user.role === "clerk";
    if (clerk && heldByOther()) return false;
    const st = counter.status, t = counter.ticket;
    if (st === "paused") return action === "resume";
    if (st === "closed") return clerk && (action === "next" || action === "call"); // the API opens it for the clerk
    switch (action) {
      case "next": case "call": return !t || t.status === "serving";
      case "recall": case "start": case "no-show": return !!t && t.status === "called";
      case "finish": return !!t && t.status === "serving";
      case "transfer": return !!t;
      case "pause": return true;
      default: return false;
    }
  }

  function renderButtons() {
    document.querySelectorAll(".act").forEach((b) => { b.disabled = !allowed(b.dataset.action); });
    $("btn-take").hidden = !counter || mine();
    $("btn-take").disabled = busy;
    $("btn-leave").hidden = !counter || !mine();
    $("btn-leave").disabled = busy || !!(counter && counter.ticket);
  }

  function render() {
    if (!counter) return;
    const pill = $("counter-status");
    pill.className = "pill pill-" + counter.status;
    pill.textContent = T["status_" + counter.status] || counter.status;
    if (counter.status === "paused" && counter.pause_reason) pill.textContent += " — " + counter.pause_reason;

    const holder = $("counter-holder");
    holder.className = "holder";
    if (heldByOther() && cfg.user.role === "clerk") {
      holder.textContent = T.held_by_other + (counter.clerk ? " (" + counter.clerk + ")" : "");
      holder.className = "holder holder-other";
    } else {
      holder.textContent = counter.clerk ? T.held_by + " " + counter.clerk : T.not_taken;
    }

    const t = counter.ticket;
    const card = document.querySelector(".current");
    card.classList.toggle("is-called", !!t && t.status === "called");
    card.classList.toggle("is-serving", !!t && t.status === "serving");
    $("cur-code").textContent = t ? t.code : T.idle_hint;
    $("cur-code").classList.toggle("empty", !t);
    $("cur-state").textContent = !t ? T.state_idle : t.status === "called" ? T.state_called : T.state_serving;
    $("cur-service").textContent = t ? serviceName(t.service) : "";
    const prio = $("cur-priority");
    prio.hidden = !(t && t.priority);
    if (t && t.priority) prio.textContent = T.priority + " · " + groupName(t.priority);
    // An appointment: its booked time, and the name it was booked under so the clerk greets the right person.
    const appt = t && t.appointment;
    $("cur-appointment").hidden = !appt;
    $("cur-appointment").textContent = appt ? appointmentText(appt) : "";
    // The list's name is the current ticket's only once the list has caught up with this call.
    const booked = appt && (t.booked_name || (waiting && waiting.current_code === t.code ? waiting.current_booked_name : null));
    $("cur-booked").hidden = !booked;
    $("cur-booked").textContent = booked ? T.booked_name + " " + booked : "";
    const detail = [];
    if (t) {
      detail.push(T.issued_at + " " + clockTime(t.issued_at));
      if (t.called_at) detail.push(T.waited + " " + Math.max(0, Math.round((Date.parse(t.called_at) - Date.parse(t.issued_at)) / 60000)) + " " + T.minutes);
      if (t.recalls) detail.push(T.recalls + " " + t.recalls + " " + T.times);
    }
    $("cur-detail").textContent = detail.join(" · ");
    tick();
    renderButtons();
    // Someone else (or another tab) moved the ticket on: the question no longer stands.
    const dlg = $("dlg-noshow");
    if (dlg.open && !(t && t.status === "called" && t.code === dlg.dataset.code)) dlg.close();
  }

  function tick() {
    const t = counter && counter.ticket;
    const label = $("cur-elapsed-label"), value = $("cur-elapsed");
    if (!t) {
      label.textContent = "";
      value.textContent = "";
    } else {
      const since = t.status === "serving" && t.started_at ? t.started_at : t.called_at;
      label.textContent = t.status === "serving" ? T.elapsed_serving : T.elapsed_called;
      value.textContent = since ? duration((serverNow() - Date.parse(since)) / 1000) : "";
    }
    document.querySelectorAll("[data-since]").forEach((e) => {
      e.textContent = minutesSince(e.dataset.since) + " " + T.minutes;
    });
  }

  // ---- the waiting list ----------------------------------------------------------------------

  let waitingTimer = null;
  let waitingInFlight = false;
  let waitingAgain = false;

  function scheduleWaiting(delay) {
    clearTimeout(waitingTimer);
    waitingTimer = setTimeout(loadWaiting, delay === undefined ? 250 : delay);
  }

  async function loadWaiting() {
    if (waitingInFlight) { waitingAgain = true; return; }
    waitingInFlight = true;
    try {
      const resp = await fetch(cfg.waiting_url, { credentials: "same-origin", headers: { "Accept": "application/json" } });
      if (resp.ok) {
        waiting = await resp.json();
        offsetMs = Date.parse(waiting.at) - Date.now();
        renderWaiting();
        render();
        document.dispatchEvent(new CustomEvent("motcua:waiting", { detail: waiting })); // dossiers.js
      } else if (resp.status === 401) {
        notice("error", T.session_vi, T.session_en, cfg.login_url);
      } else if (!waiting) {
        $("waiting-list").textContent = T.waiting_failed + " (" + resp.status + ")";
      }
    } catch (e) {
      /* the connection banner already tells the clerk; the next change retries */
    } finally {
      waitingInFlight = false;
      if (waitingAgain) { waitingAgain = false; scheduleWaiting(0); }
    }
  }

  function renderWaiting() {
    const box = $("waiting-list");
    box.textContent = "";
    $("waiting-total").textContent = waiting.total + " " + T.waiting_total;
    const codes = $("waiting-codes");
    codes.textContent = "";
    for (const s of waiting.services) {
      const sec = el("section", "wsvc");
      const h = el("h3");
      h.appendChild(el("span", "wname", EN && s.name_en ? s.name_en : s.name));
      h.appendChild(el("span", "wcount", String(s.waiting)));
      if (s.priority) h.appendChild(el("span", "wprio", s.priority + " " + T.priority.toLowerCase()));
      sec.appendChild(h);
      if (!s.tickets.length) {
        sec.appendChild(el("p", "muted wnone", T.nobody));
      } else {
        const ol = el("ol", "wtickets");
        for (const t of s.tickets) {
          const li = el("li", t.priority ? "wt wt-prio" : "wt");
          const code = el("button", "wcode", t.code);
          code.type = "button";
          code.title = T.call_this;
          code.addEventListener("click", () => openCall(t.code));
          li.appendChild(code);
          const tags = el("span", "wtags");
          if (t.priority) tags.appendChild(el("span", "badge badge-prio", "★ " + (EN && t.priority_name_en ? t.priority_name_en : t.priority_name || T.priority)));
          if (t.transferred) tags.appendChild(el("span", "badge badge-transfer", T.transferred));
          if (t.appointment) tags.appendChild(el("span", "badge badge-appt", t.appointment_at ? appointmentText({ start: t.appointment_at }) : T.appointment));
          if (t.appointment && t.booked_name) tags.appendChild(el("span", "wbooked", t.booked_name));
          (t.dossiers || []).forEach((code) => tags.appendChild(el("span", "badge badge-dossier", code)));
          li.appendChild(tags);
          const since = el("span", "wtime");
          since.dataset.since = t.queued_at;
          since.textContent = minutesSince(t.queued_at) + " " + T.minutes;
          li.appendChild(since);
          ol.appendChild(li);
          const opt = document.createElement("option");
          opt.value = t.code;
          codes.appendChild(opt);
        }
        sec.appendChild(ol);
        if (s.waiting > s.tickets.length) sec.appendChild(el("p", "muted wmore", T.more + " " + (s.waiting - s.tickets.length)));
      }
      box.appendChild(sec);
    }
  }

  // ---- dialogs: transfer, call a number, pause ---------------------------------------------

  function fillReasons(form) {
    const set = form.querySelector("[data-reasons]");
    if (!set || set.dataset.filled) return;
    set.dataset.filled = "1";
    for (const r of cfg[set.dataset.reasons]) {
      const label = el("label", "choice");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "reason";
      input.value = r.vi;
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + r.vi));
      if (r.en && !EN) label.appendChild(el("small", "", r.en));
      set.appendChild(label);
    }
  }

  function dialogError(form, vi, en) {
    const p = form.querySelector(".dlg-error");
    p.textContent = "";
    if (!vi) { p.hidden = true; return; }
    p.appendChild(document.createTextNode(vi));
    p.appendChild(el("small", "", en));
    p.hidden = false;
  }

  function reasonOf(form) {
    const text = form.elements.reason_text.value.trim();
    const picked = form.querySelector('input[name="reason"]:checked');
    return text || (picked ? picked.value : "");
  }

  function openDialog(id, prepare) {
    const dlg = $(id);
    const form = dlg.querySelector("form");
    form.reset();
    dialogError(form, null);
    fillReasons(form);
    if (prepare) prepare(form);
    dlg.showModal();
    const first = form.querySelector("input:not([type=hidden])");
    if (first) first.focus();
  }

  function openTransfer() {
    openDialog("dlg-transfer", (form) => {
      const box = $("transfer-services");
      box.textContent = "";
      box.appendChild(el("legend", "", T.field_legend));
      const current = counter && counter.ticket ? counter.ticket.service : null;
      for (const s of cfg.services) {
        if (s.code === current) continue;
        const label = el("label", "choice");
        const input = document.createElement("input");
        input.type = "radio";
        input.name = "service";
        input.value = s.code;
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + (EN && s.name_en ? s.name_en : s.name)));
        box.appendChild(label);
      }
      const pos = form.querySelector('input[name="position"][value="' + cfg.transfer_position + '"]');
      if (pos) pos.checked = true;
    });
  }

  function openCall(code) {
    if (!allowed("call")) return;
    openDialog("dlg-call", (form) => { if (code) form.elements.code.value = code; });
  }

  function openPause() { openDialog("dlg-pause"); }

  /* "Vắng mặt" asks first, and only once the call is a few seconds old (the engine refuses it
     earlier too): a stray key or a quick double press never marks a citizen absent. */
  let noShowTimer = null;

  function openNoShow() {
    const t = counter && counter.ticket;
    if (!t) return;
    const dlg = $("dlg-noshow");
    dlg.dataset.code = t.code;
    openDialog("dlg-noshow", () => { $("noshow-code").textContent = t.code; });
    const confirm = $("noshow-confirm");
    const readyAt = Date.parse(t.called_at) + (cfg.no_show_min_seconds || 0) * 1000;
    const wait = $("noshow-wait");
    function step() {
      const left = Math.ceil((readyAt - serverNow()) / 1000);
      const early = left > 0;
      wait.hidden = !early;
      if (early) wait.textContent = T.noshow_wait.replace("{n}", left);
      const opened = confirm.disabled && !early;
      confirm.disabled = early;
      if (opened) confirm.focus();  // Enter confirms once it may
      if (!early || !dlg.open) { clearInterval(noShowTimer); noShowTimer = null; }
    }
    clearInterval(noShowTimer);
    confirm.disabled = true;
    noShowTimer = setInterval(step, 250);
    step();
    if (confirm.disabled) dlg.querySelector("[data-close]").focus();
  }

  async function submitDialog(form) {
    const kind = form.dataset.form;
    let action = kind, body;
    if (kind === "no-show") {
      if (!allowed("no-show")) return form.closest("dialog").close();
    } else if (kind === "transfer") {
      const s = form.querySelector('input[name="service"]:checked');
      if (!s) return dialogError(form, T.field_vi, T.field_en);
      const pos = form.querySelector('input[name="position"]:checked');
      body = { service: s.value, position: pos ? pos.value : null };
    } else if (kind === "call") {
      const code = form.elements.code.value.trim().toUpperCase();
      const reason = reasonOf(form);
      if (!reason) return dialogError(form, T.reason_vi, T.reason_en);
      body = { code: code, reason: reason };
    } else {
      const reason = reasonOf(form);
      if (!reason) return dialogError(form, T.reason_vi, T.reason_en);
      body = { reason: reason };
    }
    const res = await act(action, body);
    if (!res) return;
    if (res.ok) form.closest("dialog").close();
    else dialogError(form, res.error.message, res.error.message_en);
  }

  document.querySelectorAll("dialog form").forEach((form) => {
    form.addEventListener("submit", (e) => { e.preventDefault(); submitDialog(form); });
    form.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => form.closest("dialog").close()));
    form.addEventListener("change", (e) => {
      if (e.target.name === "reason") form.elements.reason_text.value = "";
    });
  });

  // ---- buttons and keys ---------------------------------------------------------------------

  async function run(action) {
    if (!allowed(action)) return;
    if (action === "transfer") return openTransfer();
    if (action === "call") return openCall();
    if (action === "pause") return openPause();
    if (action === "no-show") return openNoShow();
    const res = await act(action);
    if (!res) return;
    if (!res.ok) return showError(res);
    if (action === "next" && res.data && !res.data.ticket) notice("info", T.nobody_waiting_vi, T.nobody_waiting_en);
  }

  document.querySelectorAll(".act").forEach((b) => b.addEventListener("click", () => run(b.dataset.action)));

  $("btn-take").addEventListener("click", async () => {
    const res = await act("open");
    if (!res) return;
    if (res.ok) notice("ok", T.taken_vi, T.taken_en); else showError(res);
  });
  $("btn-leave").addEventListener("click", async () => {
    const res = await act("close");
    if (res && !res.ok) showError(res);
  });

  function pressed(btn) {
    btn.classList.add("pressed");
    setTimeout(() => btn.classList.remove("pressed"), 180);
  }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    if (document.querySelector("dialog[open]")) return;  // typing a number or a reason
    const tag = (e.target && e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea") return;
    // USB keypads send Numpad1..9 (Num Lock on or off) or plain digits.
    let digit = null;
    if (/^Numpad[1-9]$/.test(e.code)) digit = e.code.slice(6);
    else if (/^[1-9]$/.test(e.key)) digit = e.key;
    if (!digit) return;
    e.preventDefault();
    if (e.repeat) return;  // a held key is one press
    const btn = document.querySelector('.act[data-key="' + digit + '"]');
    if (!btn || btn.disabled) return;
    pressed(btn);
    run(btn.dataset.action);
  });

  // ---- live updates ------------------------------------------------------------------------

  function touchesMe(ch) {
    if (ch.counter && ch.counter.number === N) return true;
    const mineServices = (counter && counter.services) || [];
    for (const key of ["service", "from_service"]) {
      if (ch[key] && mineServices.indexOf(ch[key].code) >= 0) return true;
    }
    return !!(ch.ticket && mineServices.indexOf(ch.ticket.service) >= 0);
  }

  MotcuaQueue.connect({ counter: N, office: cfg.office_param }, {
    onState: function (state, change) {
      if (!change) offsetMs = Date.parse(state.at) - Date.now();
      const c = state.counters.find((x) => x.number === N);
      // A live update can trail an action's own answer (the issue before a call): it must not put
      // the counter back as it was, with the clerk's next key ignored.
      if (c && state.seq >= shownSeq) { counter = c; render(); }
      if (!change || touchesMe(change)) scheduleWaiting();
    },
    onConnection: function (up) {
      $("conn-banner").hidden = up;
      document.body.classList.toggle("offline", !up);
      if (up) scheduleWaiting(0);
    },
  });

  setInterval(tick, 1000);
  scheduleWaiting(0);
})();
