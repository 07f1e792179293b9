/* Help: a picture guide of the three steps, and "Gọi cán bộ hỗ trợ", which tells the counters
 * and the manager's dashboard that someone at this kiosk needs a hand (POST /kiosk/api/help).
 */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const K = () => window.MotcuaKiosk;
  const box = $("help");
  let opener = null;

  function text(key) {
    const k = K();
    return k ? k.cfg.strings[key] : "";
  }

  function open() {
    opener = document.activeElement;
    $("help-status").textContent = "";
    $("help-call").disabled = false;
    box.hidden = false;
    $("help-close").focus();
  }

  function close() {
    box.hidden = true;
    if (opener && opener.focus) opener.focus();
  }

  async function callStaff() {
    const k = K();
    if (!k || !k.token()) return;
    $("help-call").disabled = true;
    try {
      const resp = await fetch(k.cfg.urls.help, {
        method: "POST", cache: "no-store", credentials: "omit",
        headers: { Authorization: "Bearer " + k.token(), Accept: "application/json", "Content-Type": "application/json" }, body: "{}",
      });
      if (!resp.ok) throw new Error(String(resp.status));
      $("help-status").textContent = text("help_sent");
      box.dataset.sent = "1";
    } catch (e) {
      $("help-status").textContent = text("help_failed");
      $("help-call").disabled = false;
    }
  }

  $("help-open").addEventListener("click", open);
  $("help-close").addEventListener("click", close);
  $("help-call").addEventListener("click", callStaff);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !box.hidden) close(); });
  document.addEventListener("kiosk:visit-end", () => { box.hidden = true; delete box.dataset.sent; });
})();
