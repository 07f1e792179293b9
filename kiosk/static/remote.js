/* Taking a remote number from a phone: POST /api/v1/public/tickets, then the ticket's status page.
 * Refusals show the server's own words (Vietnamese, or English on the English page). */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("remote-config").textContent);
  const form = document.getElementById("take");
  const error = document.getElementById("error");
  const submit = document.getElementById("submit");
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const TEXT = {
    vi: { service: "Vui lòng chọn lĩnh vực.", phone: "Vui lòng nhập số điện thoại.", failed: "Chưa lấy được số. Vui lòng thử lại." },
    en: { service: "Please choose a field.", phone: "Please enter a phone number.", failed: "The number could not be taken. Please try again." },
  }[cfg.lang === "en" ? "en" : "vi"];

  function show(text) {
    error.textContent = text;
    error.hidden = false;
    error.focus && error.scrollIntoView({ block: "center" });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const picked = form.querySelector('input[name="service"]:checked');
    const phone = form.phone.value.trim();
    if (!picked) return show(TEXT.service);
    if (!phone && cfg.phone_required) return show(TEXT.phone);
    submit.disabled = true;
    try {
      const headers = { "Content-Type": "application/json" };
      if (csrf) headers["X-CSRFToken"] = csrf.content;
      const resp = await fetch(cfg.urls.take, {
        method: "POST", headers, credentials: "same-origin",
        body: JSON.stringify({ office: cfg.office, service: picked.value, phone: phone || null }),
      });
      const body = await resp.json().catch(() => null);
      if (resp.status === 201 && body) {
        window.location.assign("/t/" + encodeURIComponent(body.public_id) + (cfg.lang === "en" ? "?lang=en" : ""));
        return;
      }
      const err = body && body.error;
      show(err ? (cfg.lang === "en" ? err.message_en : err.message) : TEXT.failed);
    } catch (_) {
      show(TEXT.failed);
    } finally {
      submit.disabled = false;
    }
  });
})();
