/* A code the citizen brings from their phone: an appointment's code or a remote number's
 * check-in code (6 characters of the unambiguous alphabet, motcua.engine.remote), typed on the
 * screen's own keys; or the appointment page's QR read by the scanner (scan.js hands it here).
 *
 * A typed code is tried as an appointment first (its ticket, called before walk-ins inside the
 * booked window), then as a remote number's check-in. Refusals show the server's own words,
 * Vietnamese first; a code that names neither says so.
 */
(function () {
  "use strict";

  const K = window.MotcuaKiosk;
  if (!K) return;
  const S = K.S;
  const SE = K.SE;
  const cfg = K.cfg;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, vars) => String(text).replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  const ALPHABET = cfg.code_alphabet || "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  const LENGTH = cfg.code_length || 6;
  // Digits first: a code is read off a phone, and the number row is where hands look first.
  const KEYS = ALPHABET.replace(/[A-Z]/g, "") + ALPHABET.replace(/[0-9]/g, "");

  let typed = "";

  // ---- the keys -----------------------------------------------------------------------------

  function buildKeys() {
    const box = $("code-keys");
    for (const ch of KEYS) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "c-key";
      b.dataset.key = ch;
      b.textContent = ch;
      b.addEventListener("click", () => press(ch));
      box.appendChild(b);
    }
    const erase = document.createElement("button");
    erase.type = "button";
    erase.className = "c-key c-erase";
    erase.dataset.key = "erase";
    erase.textContent = "⌫ " + S.code_erase;
    erase.setAttribute("aria-label", S.code_erase);
    erase.addEventListener("click", () => { typed = typed.slice(0, -1); draw(); });
    box.appendChild(erase);
  }

  function press(ch) {
    if (typed.length >= LENGTH) return;
    typed += ch;
    draw();
  }

  function draw() {
    const box = $("code-display");
    box.replaceChildren();
    for (let i = 0; i < LENGTH; i++) {
      const slot = document.createElement("span");
      slot.className = "c-slot" + (i === typed.length ? " is-next" : "");
      slot.textContent = typed[i] || "";
      box.appendChild(slot);
    }
    box.dataset.code = typed;
    $("code-submit").disabled = typed.length !== LENGTH;
    for (const b of $("code-keys").querySelectorAll(".c-key:not(.c-erase)")) b.disabled = typed.length >= LENGTH;
  }

  function open() {
    if (!K.isOnline() || K.screen() === "setup" || K.screen() === "loading") return;
    typed = "";
    draw();
    K.show("code");
  }

  // ---- asking the server ------------------------------------------------------------------

  function refused(err) {
    if (err.kind === "refused" && err.body && err.body.error) K.showMessage(err.body.error.message, err.body.error.message_en);
    else K.showMessage(S.issue_failed, SE && SE.issue_failed);
  }

  const unknown = (err) => err.kind === "refused" && err.status === 404;

  async function submit() {
    if (typed.length !== LENGTH || K.inFlight()) return;
    const code = typed;
    K.busy(true);
    try {
      // An appointment first: its answer is the whole kiosk ticket (estimate, print job).
      if (await appointment(code, true)) return;
      try {
        const r = await K.withRetry(() => K.api(cfg.urls.check_in, { method: "POST", body: JSON.stringify({ code }) }));
        if (r.body.appointment) return ticket(Object.assign({}, r.body.ticket, r.body, { appointment: r.body.appointment }));
        const t = r.body.ticket;
        K.showMessage(fmt(S.checked_in, { code: t.code }), SE && fmt(SE.checked_in, { code: t.code }));
      } catch (err) {
        if (unknown(err)) K.showMessage(S.code_unknown, SE && SE.code_unknown);
        else refused(err);
      }
    } finally {
      K.busy(false);
    }
  }

  function ticket(t) {
    const svc = K.services().find((x) => x.code === t.service) || { code: t.service, name: t.service_name || t.service, name_en: "" };
    K.showResult(t, svc, null);
  }

  /* An appointment checked in by its code or its page's QR: the ticket, on the ticket screen.
     Resolves false when a typed code names no appointment (it may be a remote number's). */
  async function appointment(value, typedCode) {
    const body = { appointment: value, idempotency_key: K.newKey() };
    try {
      const r = await K.withRetry(() => K.api(cfg.urls.tickets, { method: "POST", body: JSON.stringify(body), timeout: 10000 }));
      ticket(r.body);
    } catch (err) {
      if (typedCode && unknown(err)) return false;
      refused(err);
    }
    return true;
  }

  // ---- the booked time on the ticket screen -------------------------------------------------

  function hhmm(iso) {
    return new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: cfg.timezone })
      .format(new Date(iso));
  }

  K.hooks.appointment = (a) => {
    const chip = $("r-appointment");
    const note = $("r-arrival");
    chip.hidden = !a;
    note.hidden = !(a && a.arrival);
    if (!a) return;
    chip.textContent = fmt(S.appointment_at, { start: hhmm(a.start), end: hhmm(a.end) });
    note.dataset.arrival = a.arrival || "";
    if (a.arrival === "early") note.textContent = S.arrival_early;
    else if (a.arrival === "late") note.textContent = S.arrival_late;
    else note.textContent = S.arrival_in_window;
  };

  // For scan.js: the appointment page's QR read by the scanner.
  K.appointment = async (text) => {
    K.busy(true);
    try {
      await appointment(text.trim(), false);
    } finally {
      K.busy(false);
    }
  };

  buildKeys();
  draw();
  $("code-button").addEventListener("click", open);
  $("code-submit").addEventListener("click", submit);
  document.addEventListener("kiosk:rendered", () => { $("code-button").disabled = !K.isOnline(); });
})();
