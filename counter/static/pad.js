/* What the rating pad and the counter display share: the device token (from ?token= once, then
 * kept in localStorage like a kiosk; ?reset=1 forgets it), the setup screen when it is missing
 * or refused (also when it is revoked while the page runs), and /counter/api/device, which says
 * which counter this device belongs to.
 */
(function (global) {
  "use strict";

  function storageKey(kind) { return "motcua.counter." + kind + ".token"; }

  function takeToken(kind) {
    const url = new URL(global.location.href);
    const key = storageKey(kind);
    if (url.searchParams.has("reset")) {
      global.localStorage.removeItem(key);
      url.searchParams.delete("reset");
    }
    const fromUrl = url.searchParams.get("token");
    if (fromUrl) {
      global.localStorage.setItem(key, fromUrl.trim());
      // Keep the secret out of the address bar, history and screenshots.
      url.searchParams.delete("token");
      global.history.replaceState(null, "", url.pathname + (url.search || "") + url.hash);
    }
    return global.localStorage.getItem(key);
  }

  function forget(kind) { global.localStorage.removeItem(storageKey(kind)); }

  async function device(token) {
    let resp;
    try {
      resp = await fetch("/counter/api/device", { headers: { "Authorization": "Bearer " + token, "Accept": "application/json" } });
    } catch (e) {
      return { ok: false, status: 0 };
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (resp.ok) return { ok: true, data: data };
    return { ok: false, status: resp.status, error: data && data.error };
  }

  /* Show the setup form; `onSaved(token)` runs with what the installer typed. */
  function setup(kind, message, onSaved) {
    const screen = document.getElementById("screen-setup");
    const form = document.getElementById("setup-form");
    const err = document.getElementById("setup-error");
    document.querySelectorAll(".screen").forEach((s) => { s.hidden = s !== screen; });
    err.textContent = "";
    err.hidden = !message;
    if (message) {
      err.appendChild(document.createTextNode(message.message || ""));
      const small = document.createElement("small");
      small.textContent = message.message_en || "";
      err.appendChild(small);
    }
    form.onsubmit = function (e) {
      e.preventDefault();
      const token = form.elements.token.value.trim();
      if (!token) return;
      global.localStorage.setItem(storageKey(kind), token);
      onSaved(token);
    };
  }

  /* Find this device's counter, or stay on the setup screen until a good token is given. */
  async function start(kind, onReady) {
    const NO_COUNTER = { message: "Thiết bị này chưa được gắn với quầy nào.", message_en: "This device is not tied to a counter." };
    const WRONG_KIND = { message: "Mã này không phải của loại thiết bị này.", message_en: "This token belongs to another kind of device." };
    const UNREACHABLE = { message: "Không kết nối được máy chủ, đang thử lại…", message_en: "Cannot reach the server, retrying…" };

    async function attempt(token) {
      const res = await device(token);
      if (res.ok) {
        const wanted = kind === "rating" ? "rating" : "counter_display";
        if (res.data.device.kind !== wanted) return setup(kind, WRONG_KIND, attempt);
        if (!res.data.counter) return setup(kind, NO_COUNTER, attempt);
        return onReady(token, res.data);
      }
      if (res.status === 0 || res.status >= 500) {
        setup(kind, UNREACHABLE, attempt);
        setTimeout(() => attempt(token), 3000);
        return;
      }
      forget(kind);
      return setup(kind, res.error || WRONG_KIND, attempt);
    }

    const token = takeToken(kind);
    if (!token) return setup(kind, null, attempt);
    return attempt(token);
  }

  /* A token revoked or replaced while the pad runs: the set-up screen at once, not "mất kết nối". */
  function watch(kind, live, token, onRefused) {
    MotcuaDevice.watch(live, {
      url: "/counter/api/device",
      token: token,
      onRefused: function (status, error) {
        if (onRefused) onRefused();  // the page stops its own timers first
        offline(true);  // hides the badge: the set-up screen says what is wrong
        forget(kind);
        const WRONG_KIND = { message: "Mã này không phải của loại thiết bị này.", message_en: "This token belongs to another kind of device." };
        setup(kind, error || WRONG_KIND, function () { global.location.reload(); });
      },
    });
  }

  function offline(up) {
    const badge = document.getElementById("offline");
    if (badge) badge.hidden = up;
    document.body.classList.toggle("offline", !up);
  }

  /* "Quầy 1 — Hộ tịch" → "Hộ tịch": the number is shown big already. */
  function place(name) { return String(name || "").replace(/^\s*(quầy|counter)\s*\d+\s*[—–:-]?\s*/i, ""); }

  global.MotcuaPad = { start: start, device: device, offline: offline, forget: forget, place: place, watch: watch };
})(window);
