/* An appointment's page: cancelling it (after a confirmation), and noticing its check-in at the
 * kiosk (the page reloads to show the way to the ticket's status page). */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("appointment-config").textContent);
  const S = cfg.strings;
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const POLL_MS = 20000;

  const cancel = $("cancel");
  if (cancel) {
    cancel.addEventListener("click", () => { $("confirm").hidden = false; cancel.hidden = true; $("confirm-yes").focus(); });
    $("confirm-no").addEventListener("click", () => { $("confirm").hidden = true; cancel.hidden = false; cancel.focus(); });
    $("confirm-yes").addEventListener("click", async () => {
      const yes = $("confirm-yes");
      yes.disabled = true;
      try {
        const headers = { Accept: "application/json" };
        if (csrf) headers["X-CSRFToken"] = csrf.content;
        const resp = await fetch(cfg.urls.cancel, { method: "POST", headers, credentials: "same-origin" });
        if (resp.ok) { reload(); return; }
        const body = await resp.json().catch(() => null);
        const err = body && body.error;
        failed(err ? (cfg.lang === "en" ? err.message_en : err.message) : S.cancel_failed);
      } catch (_) {
        failed(S.cancel_failed);
      } finally {
        yes.disabled = false;
      }
    });
  }

  function failed(text) {
    const box = $("cancel-error");
    box.textContent = text;
    box.hidden = false;
  }

  function reload() {
    const url = new URL(window.location.href);
    url.searchParams.delete("new");
    window.location.replace(url.pathname + url.search);
  }

  /* A booked appointment waits for its check-in: when the kiosk has made the ticket, show it. */
  if (cfg.status === "booked") {
    setInterval(async () => {
      if (document.hidden) return;
      try {
        const resp = await fetch(cfg.urls.view, { headers: { Accept: "application/json" }, cache: "no-store" });
        const body = resp.ok ? await resp.json() : null;
        if (body && body.status !== cfg.status) reload();
      } catch (_) { /* offline for a moment: the next round tries again */ }
    }, POLL_MS);
  }
})();
