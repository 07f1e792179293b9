/* Spoken guidance, for citizens who read poorly: offline, in the office's own voice (the
 * hall's voice pack, through /kiosk/api/speech). On only where the kiosk's `voice = true`.
 *
 * - the first tap on the start screen: "Mời chọn lĩnh vực cần giải quyết";
 * - a ticket: "Lĩnh vực Hộ tịch. Số của bạn là A không không một";
 * - the "Nghe" button says the last of these again.
 * Sound is decoded with Web Audio from a fetched WAV (the device token goes in a header).
 */
(function () {
  "use strict";

  const K = () => window.MotcuaKiosk;
  const button = document.getElementById("speak-again");
  let ctx = null;
  let playing = null;
  let last = null; // the query of the last phrase, for "Nghe"
  let prompted = false; // the prompt once per visit

  function enabled() {
    const k = K();
    return !!(k && k.settings() && k.settings().voice && k.token());
  }

  async function say(query) {
    if (!enabled()) return;
    last = query;
    const k = K();
    try {
      const resp = await fetch(k.cfg.urls.speech + "?" + new URLSearchParams(query), {
        headers: { Authorization: "Bearer " + k.token() }, cache: "no-store", credentials: "omit",
      });
      if (!resp.ok) return;
      const data = await resp.arrayBuffer();
      ctx = ctx || new (window.AudioContext || window.webkitAudioContext)();
      if (ctx.state === "suspended") await ctx.resume();
      const buffer = await ctx.decodeAudioData(data);
      if (playing) { try { playing.stop(); } catch (e) { /* already ended */ } }
      playing = ctx.createBufferSource();
      playing.buffer = buffer;
      playing.connect(ctx.destination);
      playing.start();
      document.getElementById("app").dataset.spoke = query.what;
    } catch (e) {
      /* no sound this time: the screen still says everything */
    }
  }

  function refresh() {
    button.hidden = !enabled();
  }

  document.addEventListener("pointerdown", (e) => {
    const k = K();
    if (!k || prompted || k.screen() !== "start" || !enabled()) return;
    if (e.target.closest(".k-tools, .k-field, #priority-button")) return; // those say their own thing
    prompted = true;
    say({ what: "prompt" });
  }, true);
  document.addEventListener("kiosk:ticket", (e) => say({ what: "ticket", code: e.detail.code, service: e.detail.service }));
  document.addEventListener("kiosk:visit-end", () => { prompted = false; last = null; });
  document.addEventListener("kiosk:screen", refresh);
  document.addEventListener("kiosk:rendered", refresh);
  button.addEventListener("click", () => say(last || { what: "prompt" }));
})();
