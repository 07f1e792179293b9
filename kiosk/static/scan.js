/* The kiosk's scanner: a citizen's ID card (CCCD) or a dossier receipt, read by a USB QR scanner
 * that types like a keyboard (motcua/static/js/wedge.js tells it from a person by its speed).
 *
 * - A card: /kiosk/api/card answers the greeting, whether the elderly priority is offered (then
 *   pre-selected, one tap to decline) and the card's tickets still waiting today (shown, with a
 *   reprint button). The QR text stays in this page's memory until the ticket is issued or the
 *   kiosk goes home, and goes with the field tap as `id_qr`; the server keeps only a keyed hash.
 * - A receipt: a ticket for the results desk, straight away.
 * - A remote number's status page (/t/…): its check-in; an appointment's page (/a/…): its ticket
 *   (kiosk-code.js).
 * - The privacy notice shows the first time the scanner is used in a visit (until home).
 */
(function () {
  "use strict";

  const K = window.MotcuaKiosk;
  if (!K || !window.MotcuaWedge) return;
  const S = K.S;
  const SE = K.SE;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, vars) => String(text).replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  const CARD = /^\s*\d{12}\|/;
  const STATUS_PAGE = /\/t\/[A-Za-z0-9_-]{16,32}(?:[\/?#]|\s*$)/;  // a remote number's status page QR: check-in
  const APPOINTMENT_PAGE = /\/a\/[A-Za-z0-9_-]{16,32}(?:[\/?#]|\s*$)/;  // an appointment's page QR: its ticket

  let card = null;       // {qr, citizen, elderly, waiting}
  let elderlyOn = false; // the pre-selected elderly priority
  let noticeShown = false;
  let lastTicket = null;  // the ticket on the result screen, for a reprint
  let keeping = false;    // going home with the card just read
  let cardTimer = null;   // a card left on screen is forgotten after the office's reset time

  const sink = $("scan-sink");

  // ---- keeping the scanner's keystrokes ------------------------------------------------------

  function keepFocus() {
    if (document.activeElement !== sink) sink.focus({ preventScroll: true });
  }

  // A tapped button takes the focus: give it back, or the scanner's Enter would press that button.
  document.addEventListener("click", () => setTimeout(keepFocus, 0), true);
  document.addEventListener("keydown", (e) => {
    if (e.target !== sink && !e.ctrlKey && !e.metaKey && !e.altKey && (e.key.length === 1 || e.key === "Enter")) {
      e.preventDefault();
      sink.focus({ preventScroll: true });
      if (e.key.length === 1) { sink.value += e.key; sink.dispatchEvent(new InputEvent("input", { data: e.key, inputType: "insertText" })); }
    }
  }, true);
  window.addEventListener("focus", keepFocus);
  setInterval(keepFocus, 1000);
  keepFocus();

  MotcuaWedge.listen(sink, { onScan: scanned, minLength: 12 });

  function scanned(text) {
    if (!K.isOnline() || K.inFlight()) return;
    if (CARD.test(text)) return readCard(text);
    if (STATUS_PAGE.test(text)) return checkIn(text);
    if (APPOINTMENT_PAGE.test(text) && K.appointment) return K.appointment(text);
    if (K.settings().results_desk) return receipt(text);
    refuseCard();
  }

  function refuseCard() {
    K.showMessage(S.card_bad, SE && SE.card_bad);
  }

  // ---- a remote number arriving: its status page's QR checks it in -----------------------------

  async function checkIn(text) {
    K.busy(true);
    try {
      const r = await K.withRetry(() => K.api(K.cfg.urls.check_in, { method: "POST", body: JSON.stringify({ scan: text.trim() }) }));
      const t = r.body.ticket;
      K.showMessage(fmt(S.checked_in, { code: t.code }), SE && fmt(SE.checked_in, { code: t.code }));
    } catch (err) {
      if (err.kind === "refused" && err.body && err.body.error) K.showMessage(err.body.error.message, err.body.error.message_en);
      else K.showMessage(S.issue_failed, SE && SE.issue_failed);
    } finally {
      K.busy(false);
    }
  }

  // ---- a citizen's card ------------------------------------------------------------------------

  async function readCard(text) {
    K.busy(true);
    try {
      const r = await K.withRetry(() => K.api(K.cfg.urls.card, { method: "POST", body: JSON.stringify({ id_qr: text }) }));
      card = Object.assign({ qr: text }, r.body);
      elderlyOn = !!card.elderly;
      if (!K.isHome()) { keeping = true; K.goHome(); keeping = false; }
      drawCard();
    } catch (err) {
      card = null;
      if (err.kind === "refused") refuseCard();
      else K.showMessage(S.issue_failed, SE && SE.issue_failed);
    } finally {
      K.busy(false);
    }
  }

  function armCardTimer() {
    clearTimeout(cardTimer);
    if (card) cardTimer = setTimeout(K.goHome, Math.max(5, Number(K.settings().kiosk_reset_seconds) || 20) * 1000);
  }
  document.addEventListener("pointerdown", armCardTimer, true);

  function drawCard() {
    const panel = $("card-panel");
    panel.hidden = !card;
    armCardTimer();
    if (!card) return;
    $("card-hello").textContent = fmt(S.card_hello, { name: card.citizen.given_name });
    $("card-pick").textContent = S.card_pick;
    const eld = $("card-elderly");
    eld.hidden = !card.elderly;
    eld.setAttribute("aria-pressed", elderlyOn ? "true" : "false");
    eld.classList.toggle("is-on", elderlyOn);
    $("card-elderly-text").textContent = S.card_elderly;
    const box = $("card-waiting");
    box.replaceChildren();
    for (const w of card.waiting || []) {
      const row = document.createElement("div");
      row.className = "k-card-ticket";
      row.dataset.publicId = w.public_id;
      const label = document.createElement("span");
      label.textContent = fmt(S.card_waiting, { code: w.code, field: K.cfg.lang === "vi" ? w.service_name : w.service_name_en || w.service_name });
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "k-reprint";
      btn.textContent = S.reprint;
      btn.addEventListener("click", () => reprint(w.public_id, btn));
      row.append(label, btn);
      box.appendChild(row);
    }
    const notice = $("card-privacy");
    notice.hidden = noticeShown;
    notice.textContent = S.privacy;
    noticeShown = true;
  }

  $("card-elderly").addEventListener("click", () => {
    elderlyOn = !elderlyOn;
    drawCard();
  });

  async function reprint(publicId, btn) {
    btn.disabled = true;
    try {
      const r = await K.api(K.cfg.urls.reprint.replace("__ID__", encodeURIComponent(publicId)), { method: "POST" });
      btn.textContent = S.reprinted;
      return r.body.print_job;
    } catch (err) {
      btn.textContent = S.reprint_failed;
      btn.disabled = false;
      return null;
    }
  }

  // What a field tap sends while a card is read: the card, and the elderly choice.
  K.hooks.issueBody = (body, group) => {
    if (!card) return;
    body.id_qr = card.qr;
    if (!group && card.elderly && !elderlyOn) body.priority = ""; // declined: no priority
  };

  K.hooks.onResult = (t) => {
    lastTicket = t;
    const existing = !!t.existing;
    $("r-existing").hidden = !existing;
    $("r-existing-text").textContent = existing ? S.card_existing : "";
    $("r-reprint").textContent = S.reprint;
    $("r-reprint").disabled = false;
    $("r-dossier").hidden = !t.dossier;
    $("r-dossier").textContent = t.dossier ? fmt(S.dossier_for, { code: t.dossier }) : "";
    card = null; // issued: the card's text is forgotten
  };

  $("r-reprint").addEventListener("click", async () => {
    if (!lastTicket) return;
    const job = await reprint(lastTicket.public_id, $("r-reprint"));
    if (job) { K.printState("printing"); K.pollPrint(job, K.nextResult()); }
  });

  K.hooks.onHome = () => {
    if (keeping) return;
    card = null;
    elderlyOn = false;
    noticeShown = false; // the next citizen's visit
    lastTicket = null;
    drawCard();
  };

  // ---- a dossier receipt: the results desk ---------------------------------------------------

  async function receipt(text) {
    K.busy(true);
    const body = { receipt_qr: text, idempotency_key: K.newKey() };
    try {
      const r = await K.withRetry(() => K.api(K.cfg.urls.tickets, { method: "POST", body: JSON.stringify(body), timeout: 10000 }));
      const t = r.body;
      const svc = K.services().find((x) => x.code === t.service) || { name: t.service_name, name_en: "" };
      K.showResult(t, svc, null);
    } catch (err) {
      if (err.kind === "refused") K.showMessage(err.body.error.message, err.body.error.message_en);
      else K.showMessage(S.issue_failed, SE && SE.issue_failed);
    } finally {
      K.busy(false);
    }
  }
})();
