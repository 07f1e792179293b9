/* The citizen's phone: one ticket's place in the queue, kept up to date.
 *
 * The live queue (Socket.IO, joined with the ticket's public id) only says *that* something
 * changed; when a change may concern this ticket, the page refetches its public status
 * (debounced, with a little jitter so a hall full of phones does not ask at the same instant).
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("status-config").textContent);
  const S = cfg.strings;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, vars) => String(text).replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  const FALLBACK_MS = 30000;
  const CLOSED = ["done", "cancelled", "no_show"];

  let t = cfg.ticket;
  let live = null;
  let timer = null;
  let fallback = null;
  let busy = false;

  function expired() {
    return t.business_day !== cfg.today && !CLOSED.includes(t.status);
  }

  function finished() {
    return CLOSED.includes(t.status) || expired();
  }

  function time(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    // The office's clock, not the phone's: a visitor's phone may be set to another zone.
    const opts = { hour: "2-digit", minute: "2-digit", timeZone: cfg.timezone };
    try {
      return d.toLocaleTimeString(cfg.lang === "vi" ? "vi-VN" : "en-GB", opts);
    } catch (e) {
      delete opts.timeZone;
      return d.toLocaleTimeString(cfg.lang === "vi" ? "vi-VN" : "en-GB", opts);
    }
  }

  function stateText() {
    if (expired()) return [S.expired, ""];
    switch (t.status) {
      case "waiting": {
        const n = t.waiting_ahead;
        return [S.waiting, n === 0 ? S.ahead_0 : n === 1 ? S.ahead_1 : fmt(S.ahead_n, { n })];
      }
      case "called": return [t.counter ? fmt(S.called, { counter: t.counter }) : S.called_no_counter, ""];
      case "serving": return [fmt(S.serving, { counter: t.counter || "" }), ""];
      case "done": return [S.done, ""];
      case "cancelled": return [S.cancelled, ""];
      case "no_show": return [S.no_show, S.no_show_hint];
      default: return [t.status, ""];
    }
  }

  /* Unknown only when no counter serving the field is open; nobody ahead reads "under N minutes". */
  function etaText(minutes) {
    if (!minutes) return S.eta_unknown;
    if (minutes[0] <= 0) return fmt(S.eta_under, { high: minutes[1] });
    return fmt(S.eta_range, { low: minutes[0], high: minutes[1] });
  }

  function render() {
    const app = $("app");
    const before = app.dataset.status;
    app.dataset.status = expired() ? "expired" : t.status;
    $("code").textContent = t.code;
    $("field").textContent = t.service_name;
    $("field-en").textContent = t.service_name_en || "";
    const [main, sub] = stateText();
    $("state-main").textContent = main;
    $("state-sub").textContent = sub;

    const waiting = t.status === "waiting" && !expired();
    $("row-position").hidden = !waiting;
    $("row-eta").hidden = !waiting;
    $("row-serving").hidden = finished();
    if (waiting) {
      $("position").textContent = String(t.position);
      $("eta").textContent = etaText(t.eta_minutes);
    }
    $("serving").textContent = t.now_serving && t.now_serving.length ? t.now_serving.join(", ") : S.nobody_serving;
    $("issued").textContent = time(t.issued_at);
    // Only a waiting citizen may give the number up: once called, the counter is waiting for them.
    $("cancel-box").hidden = !(t.status === "waiting" && !expired());
    $("updated").textContent = fmt(S.updated, { time: time(t.updated_at) });
    document.title = `${t.code} — ${main}`;

    // The moment the citizen is called: buzz the phone if it lets us.
    if (before === "waiting" && t.status === "called" && navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 300]);
    if (finished()) stopLive();
  }

  async function refetch() {
    try {
      const resp = await fetch(cfg.urls.status, { cache: "no-store", credentials: "omit", headers: { Accept: "application/json" } });
      if (!resp.ok) return;
      t = await resp.json();
      render();
    } catch (e) {
      /* offline for a moment: the socket or the fallback timer brings the next update */
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refetch, 250 + Math.random() * 750);
  }

  /* Does a change on the office's queue possibly move this ticket? */
  function concerns(ch) {
    if (!ch) return true; // a (re)connect snapshot: anything may have happened meanwhile
    const mine = t.service;
    if (ch.ticket && (ch.ticket.id === t.id || ch.ticket.service === mine)) return true;
    if (ch.service && ch.service.code === mine) return true;
    if (ch.from_service && ch.from_service.code === mine) return true;
    if (ch.counter && (ch.counter.services || []).includes(mine)) return true;
    return false;
  }

  function connection(up) {
    $("live").textContent = up ? S.live : S.reconnecting;
    $("live-dot").dataset.up = up ? "1" : "0";
    if (up) schedule();
  }

  function startLive() {
    if (finished()) return;
    connection(true);
    if (window.io && window.MotcuaQueue) {
      live = window.MotcuaQueue.connect({ ticket: t.public_id }, {
        onState(state, change) { if (concerns(change)) schedule(); },
        onConnection: connection,
      });
    }
    fallback = setInterval(refetch, FALLBACK_MS);
  }

  function stopLive() {
    if (live) { live.close(); live = null; }
    clearInterval(fallback);
    $("live").textContent = "";
    $("live-dot").dataset.up = "";
  }

  function wireCancel() {
    const confirmBox = $("confirm");
    $("cancel").addEventListener("click", () => {
      confirmBox.hidden = false;
      $("cancel").hidden = true;
      $("cancel-error").hidden = true;
    });
    $("confirm-no").addEventListener("click", () => {
      confirmBox.hidden = true;
      $("cancel").hidden = false;
    });
    $("confirm-yes").addEventListener("click", async () => {
      if (busy) return;
      busy = true;
      $("confirm-yes").disabled = true;
      try {
        const resp = await fetch(cfg.urls.cancel, {
          method: "POST", credentials: "omit", cache: "no-store",
          headers: { "Content-Type": "application/json", Accept: "application/json" }, body: "{}",
        });
        const body = await resp.json().catch(() => null);
        if (!resp.ok) {
          const err = body && body.error;
          showError(err ? (cfg.lang === "vi" ? err.message : err.message_en) : S.cancel_failed);
        }
        confirmBox.hidden = true;
        $("cancel").hidden = false;
        await refetch();
      } catch (e) {
        showError(S.cancel_failed);
      } finally {
        busy = false;
        $("confirm-yes").disabled = false;
      }
    });
  }

  function showError(text) {
    $("cancel-error").textContent = text;
    $("cancel-error").hidden = false;
  }

  wireCancel();
  render();
  startLive();
  // A phone wakes up from the pocket: catch up at once.
  document.addEventListener("visibilitychange", () => { if (!document.hidden && !finished()) schedule(); });
})();
