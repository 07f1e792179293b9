/* The public wait board: the waiting counts and estimates refresh every 30 seconds from the JSON. */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("board-config").textContent);
  const en = cfg.lang === "en";

  async function refresh() {
    try {
      const resp = await fetch(cfg.url, { credentials: "omit" });
      if (!resp.ok) return;
      const data = await resp.json();
      for (const f of data.services) {
        const row = document.querySelector(`tr[data-code="${CSS.escape(f.code)}"]`);
        if (!row) continue;
        row.querySelector('[data-col="waiting"]').textContent = f.waiting;
        row.querySelector('[data-col="eta"]').textContent = en ? f.eta_text_en : f.eta_text;
      }
      const at = new Date(data.updated_at);
      document.getElementById("updated").textContent = (en ? "Updated " : "Cập nhật lúc ") + at.toLocaleTimeString(en ? "en-GB" : "vi-VN", { hour: "2-digit", minute: "2-digit" });
    } catch (_) { /* the next tick tries again */ }
  }

  setInterval(refresh, 30000);
})();
