/* Booking an appointment from a phone: a field, a day (today up to the field's days ahead), a slot
 * with places left (GET /api/v1/public/slots), name and phone; POST /api/v1/public/appointments,
 * then the appointment's own page. Refusals show the server's own words (Vietnamese, or English
 * on the English page); every other word comes from the page's JSON blob. */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("book-config").textContent);
  const S = cfg.strings;
  const form = document.getElementById("book");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const fmt = (text, vars) => String(text).replace(/\{(\w+)\}/g, (m, k) => (k in vars ? vars[k] : m));
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const WEEKDAYS = S.weekdays.split(",");
  const timeOf = new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: cfg.timezone });
  let loading = 0; // the latest slots request: an older answer arriving late is dropped

  function field() {
    const picked = form.querySelector('input[name="service"]:checked');
    return picked ? cfg.fields.find((f) => f.code === picked.value) : null;
  }

  function show(text) {
    const error = $("error");
    error.textContent = text;
    error.hidden = false;
    error.scrollIntoView({ block: "center" });
  }

  function radio(name, value, label, disabled) {
    const wrap = document.createElement("label");
    wrap.className = "bk-choice";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = name;
    input.value = value;
    input.disabled = !!disabled;
    wrap.append(input, label);
    return wrap;
  }

  /* Today and the days after it, by the office's calendar (ISO dates, no time zone games). */
  function drawDays() {
    const box = $("days");
    const f = field();
    const chosen = form.querySelector('input[name="day"]:checked');
    box.replaceChildren();
    if (!f) return;
    const [y, m, d] = cfg.today.split("-").map(Number);
    for (let i = 0; i <= f.days_ahead; i++) {
      const day = new Date(Date.UTC(y, m - 1, d + i));
      const iso = day.toISOString().slice(0, 10);
      const label = document.createElement("span");
      label.className = "bk-day";
      const top = document.createElement("span");
      top.textContent = i === 0 ? S.today : WEEKDAYS[day.getUTCDay()];
      const bottom = document.createElement("strong");
      bottom.textContent = `${String(day.getUTCDate()).padStart(2, "0")}/${String(day.getUTCMonth() + 1).padStart(2, "0")}`;
      label.append(top, bottom);
      box.appendChild(radio("day", iso, label));
    }
    const keep = chosen && box.querySelector(`input[value="${chosen.value}"]`);
    (keep || box.querySelector("input")).checked = true;
    loadSlots();
  }

  async function loadSlots() {
    const f = field();
    const day = form.querySelector('input[name="day"]:checked');
    const box = $("slots");
    box.replaceChildren();
    if (!f || !day) return;
    const mine = ++loading;
    $("slots-note").textContent = S.loading;
    const url = `${cfg.urls.slots}?office=${encodeURIComponent(cfg.office)}&service=${encodeURIComponent(f.code)}&date=${day.value}`;
    try {
      const resp = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
      const body = await resp.json().catch(() => null);
      if (mine !== loading) return;
      if (!resp.ok || !body) {
        const err = body && body.error;
        $("slots-note").textContent = err ? (cfg.lang === "en" ? err.message_en : err.message) : S.failed;
        return;
      }
      const slots = body.slots || [];
      const reason = body.closed_reason;
      $("slots-note").textContent = slots.some((x) => x.left > 0) ? "" : reason ? (cfg.lang === "en" ? reason.message_en || reason.message : reason.message) : S.no_slots;
      for (const slot of slots) {
        const label = document.createElement("span");
        label.className = "bk-slot";
        const time = document.createElement("strong");
        time.textContent = timeOf.format(new Date(slot.start));
        const left = document.createElement("span");
        left.textContent = slot.left > 0 ? fmt(S.left_n, { n: slot.left }) : S.full;
        label.append(time, left);
        const choice = radio("start", slot.start, label, slot.left <= 0);
        choice.dataset.left = String(slot.left);
        box.appendChild(choice);
      }
    } catch (_) {
      if (mine === loading) $("slots-note").textContent = S.failed;
    }
  }

  form.addEventListener("change", (e) => {
    if (e.target.name === "service") drawDays();
    else if (e.target.name === "day") loadSlots();
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    $("error").hidden = true;
    const f = field();
    const start = form.querySelector('input[name="start"]:checked');
    const name = form.elements.name.value.trim();
    const phone = form.elements.phone.value.trim();
    if (!f) return show(S.pick_field);
    if (!start) return show(S.pick_slot);
    if (!name) return show(S.need_name);
    if (!phone) return show(S.need_phone);
    const submit = $("submit");
    submit.disabled = true;
    try {
      const headers = { "Content-Type": "application/json", Accept: "application/json" };
      if (csrf) headers["X-CSRFToken"] = csrf.content;
      const resp = await fetch(cfg.urls.book, {
        method: "POST", headers, credentials: "same-origin",
        body: JSON.stringify({ office: cfg.office, service: f.code, start: start.value, name, phone }),
      });
      const body = await resp.json().catch(() => null);
      if (resp.status === 201 && body) {
        window.location.assign(cfg.urls.page.replace("__ID__", encodeURIComponent(body.public_id)) + "?new=1" + (cfg.lang === "en" ? "&lang=en" : ""));
        return;
      }
      const err = body && body.error;
      show(err ? (cfg.lang === "en" ? err.message_en : err.message) : S.failed);
      if (resp.status === 409) loadSlots(); // the slot filled meanwhile: show what is left
    } catch (_) {
      show(S.failed);
    } finally {
      submit.disabled = false;
    }
  });

  drawDays();
})();
