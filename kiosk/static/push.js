/* "Báo cho tôi" on the ticket's status page: Web Push through the browser's push service.
 *
 * Hidden when the browser has no service worker or PushManager (then the page's own live
 * updates are all there is). A tap asks the browser's permission, subscribes with the server's
 * VAPID key and hands the subscription to the server for this ticket; a second tap takes it back.
 * The browser's subscription belongs to the service worker and may serve other tickets, so
 * turning one ticket off never unsubscribes the browser itself. Which tickets this browser
 * turned on is remembered in localStorage.
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("status-config").textContent);
  const S = cfg.strings;
  const box = document.getElementById("push-box");
  const button = document.getElementById("push");
  const note = document.getElementById("push-note");
  const app = document.getElementById("app");
  const CLOSED = ["done", "cancelled", "no_show", "expired"];
  const remembered = "motcua.push." + cfg.ticket.public_id;

  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) || !cfg.urls.push) return;

  let on = false;
  const hint = String(S.push_hint).replace("{ahead}", cfg.push_ahead || "");
  let busy = false;

  function keyBytes(b64url) {
    const raw = atob((b64url + "=".repeat((4 - (b64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function sameKey(subscription, key) {
    const had = subscription.options && subscription.options.applicationServerKey;
    if (!had) return false;
    const a = new Uint8Array(had);
    return a.length === key.length && a.every((v, i) => v === key[i]);
  }

  function show(text, isError) {
    note.textContent = text || "";
    note.classList.toggle("ts-error", !!isError);
  }

  function render() {
    box.hidden = CLOSED.includes(app.dataset.status);
    button.textContent = on ? S.push_off : S.push_on;
    button.setAttribute("aria-pressed", on ? "true" : "false");
    box.dataset.on = on ? "1" : "0";
    if (!note.classList.contains("ts-error")) show(on ? S.push_on_note : hint, false);
  }

  async function send(method, body) {
    const resp = await fetch(cfg.urls.push, {
      method, credentials: "omit", cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body),
    });
    if (!resp.ok) {
      const err = (await resp.json().catch(() => null) || {}).error;
      throw new Error(err ? (cfg.lang === "vi" ? err.message : err.message_en) : S.push_failed);
    }
  }

  async function turnOn() {
    const permission = await Notification.requestPermission();
    if (permission !== "granted") throw new Error(S.push_denied);
    const registration = await navigator.serviceWorker.ready;
    const resp = await fetch(cfg.urls.push_key, { credentials: "omit", headers: { Accept: "application/json" } });
    if (!resp.ok) throw new Error(S.push_failed);
    const key = keyBytes((await resp.json()).key);
    let subscription = await registration.pushManager.getSubscription();
    if (subscription && !sameKey(subscription, key)) { // made for another server key: start afresh
      await subscription.unsubscribe();
      subscription = null;
    }
    if (!subscription) subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    const json = subscription.toJSON();
    await send("POST", json);
    localStorage.setItem(remembered, json.endpoint);
  }

  async function turnOff() {
    const endpoint = localStorage.getItem(remembered);
    if (endpoint) await send("DELETE", { endpoint });
    localStorage.removeItem(remembered);
  }

  button.addEventListener("click", async () => {
    if (busy) return;
    busy = true;
    button.disabled = true;
    show("", false);
    try {
      if (on) await turnOff(); else await turnOn();
      on = !on;
    } catch (e) {
      show(e && e.message ? e.message : S.push_failed, true);
    } finally {
      busy = false;
      button.disabled = false;
      render();
    }
  });

  // The status page re-renders as the ticket moves: once it is over, the button goes.
  new MutationObserver(render).observe(app, { attributes: true, attributeFilter: ["data-status"] });

  navigator.serviceWorker.register(cfg.urls.service_worker, { scope: cfg.urls.service_worker_scope }).then(async (registration) => {
    const subscription = await registration.pushManager.getSubscription().catch(() => null);
    on = !!(subscription && localStorage.getItem(remembered) === subscription.endpoint && Notification.permission === "granted");
    render();
  }).catch(() => { box.hidden = true; });
})();
