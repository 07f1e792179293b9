/* What every device page (hall display, counter display, rating pad, kiosk) does when the
 * server stops taking its token.
 *
 *   MotcuaDevice.watch(live, {url, token, onRefused(status, error) {}});
 *
 * `live` is what MotcuaQueue.connect returned. A revoked or replaced token makes the server
 * close the socket ("io server disconnect"), and a socket opened with one is refused: in both
 * cases socket.io does not try again by itself, so the page would say "Mất kết nối" for ever.
 * Instead, ask the page's own endpoint (`url`, with the token) why: 401 or 403 means the token
 * is no good and `onRefused` shows the set-up screen at once; anything else (the server is
 * restarting, a proxy hiccup) opens the socket again.
 */
(function (global) {
  "use strict";

  const RETRY_MS = 2000;

  async function ask(url, token) {
    let resp;
    try {
      resp = await fetch(url, { headers: { Authorization: "Bearer " + token, Accept: "application/json" }, cache: "no-store", credentials: "omit" });
    } catch (e) {
      return { status: 0, error: null };
    }
    let body = null;
    try { body = await resp.json(); } catch (e) { body = null; }
    return { status: resp.status, error: (body && body.error) || null };
  }

  function refused(status) { return status === 401 || status === 403; }

  function watch(live, opts) {
    const socket = live.socket;
    let checking = false;
    let stopped = false;

    async function check() {
      if (checking || stopped) return;
      checking = true;
      try {
        const res = await ask(opts.url, opts.token);
        if (stopped) return;
        if (refused(res.status)) {
          stopped = true;
          live.close();
          opts.onRefused(res.status, res.error);
          return;
        }
        setTimeout(function () { if (!stopped && !socket.connected && !socket.active) socket.connect(); }, opts.retryMs || RETRY_MS);
      } finally {
        checking = false;
      }
    }

    socket.on("disconnect", function (reason) { if (reason === "io server disconnect") check(); });
    socket.on("connect_error", function () { if (!socket.active) check(); });
    return { check: check, stop: function () { stopped = true; } };
  }

  global.MotcuaDevice = { watch: watch, ask: ask, refused: refused };
})(window);
