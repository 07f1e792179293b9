/* The small screen above a counter: its number and the ticket it serves, in very large type.
 * Blinks for a few seconds on every new call or recall at this counter; a "mất kết nối" badge
 * shows when the socket is down (the state comes back from the snapshot on reconnect).
 */
(function () {
  "use strict";

  const T = JSON.parse(document.getElementById("pad-text").textContent);
  const BLINK_MS = 6000;
  let number = null;
  let place = "";  // the counter's name without "Quầy N —", e.g. "Hộ tịch"
  let blinkTimer = null;
  const $ = (id) => document.getElementById(id);

  function render(c) {
    const t = c && c.ticket;
    let state = T.free;
    if (c && c.status === "paused") state = T.paused + (c.pause_reason ? " — " + c.pause_reason : "");
    else if (c && c.status === "closed") state = T.closed;
    else if (t) state = t.status === "called" ? T.called : T.serving;
    $("cd-state").textContent = state;
    $("cd-code").textContent = t ? t.code : "—";
    // The field only when the counter's own name does not already say it.
    $("cd-service").textContent = t && place.indexOf(t.service_name) < 0 ? t.service_name : "";
    document.body.classList.toggle("cd-idle", !t);
    document.body.classList.toggle("cd-paused", !!c && c.status !== "open");
  }

  function blink() {
    const main = $("screen-main");
    main.classList.remove("blink");
    void main.offsetWidth;  // restart the animation on a quick recall
    main.classList.add("blink");
    clearTimeout(blinkTimer);
    blinkTimer = setTimeout(() => main.classList.remove("blink"), BLINK_MS);
  }

  MotcuaPad.start("counter_display", function (token, info) {
    number = info.counter.number;
    $("cd-number").textContent = number;
    place = MotcuaPad.place(info.counter.name);
    $("cd-name").textContent = place;
    document.querySelectorAll(".screen").forEach((s) => { s.hidden = s.id !== "screen-main"; });
    const live = MotcuaQueue.connect({ token: token }, {
      onState: function (state) {
        render(state.counters.find((c) => c.number === number) || null);
      },
      onCall: function (call) {
        if (call.counter === number) blink();
      },
      onConnection: MotcuaPad.offline,
    });
    MotcuaPad.watch("counter_display", live, token);
  });
})();
