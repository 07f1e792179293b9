/* Staff pages (counter, dashboard): a banner when a citizen at a kiosk taps "Gọi cán bộ hỗ
 * trợ" (a `kiosk.help` change, followed through queue-client.js's "motcua:change" event).
 * One banner per kiosk, newest time shown, until someone closes it.
 */
(function () {
  "use strict";

  let box = null;

  function container() {
    if (box) return box;
    box = document.createElement("div");
    box.className = "help-calls";
    box.setAttribute("role", "alert");
    document.body.appendChild(box);
    return box;
  }

  function time(iso) {
    try { return new Date(iso).toLocaleTimeString("vi-VN", { hour: "2-digit", minute: "2-digit" }); } catch (e) { return ""; }
  }

  document.addEventListener("motcua:change", (e) => {
    const ch = e.detail;
    if (!ch || ch.kind !== "kiosk.help" || !ch.kiosk) return;
    const root = container();
    let row = root.querySelector(`[data-kiosk="${CSS.escape(String(ch.kiosk.id))}"]`);
    if (!row) {
      row = document.createElement("div");
      row.className = "help-call";
      row.dataset.kiosk = String(ch.kiosk.id);
      row.innerHTML = '<span class="help-call-text"></span><button type="button" class="help-call-close">Đã xử lý / Done</button>';
      row.querySelector("button").addEventListener("click", () => row.remove());
      root.appendChild(row);
    }
    row.querySelector(".help-call-text").textContent =
      `Công dân tại ${ch.kiosk.name} cần hỗ trợ (${time(ch.at)}) / A citizen at ${ch.kiosk.name} needs help`;
  });
})();
