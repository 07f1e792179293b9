/* The browser side of /display: keeps a copy of the office's queue state in step with the server.
 *
 *   const q = MotcuaQueue.connect({token, office, counter, ticket}, {
 *     onState(state, change) {},   // after the snapshot and after every applied change
 *     onCall(call, change) {},      // each call/recall id once, even across reconnects
 *     onConnection(connected) {},   // false once disconnected for more than `graceMs`
 *     onRating(ticket) {},          // rating pads: the citizen may rate now
 *   });
 *
 * Changes carry the office's sequence number. A change is applied only when it is the next
 * one; a gap (missed while reconnecting, or another process's event overtook) asks the server
 * for a fresh snapshot, so the screen is never stale and never needs a reload.
 */
(function (global) {
  "use strict";

  function applyChange(state, ch) {
    if (ch.counter) {
      const i = state.counters.findIndex((c) => c.number === ch.counter.number);
      if (i >= 0) state.counters[i] = ch.counter; else state.counters.push(ch.counter);
    }
    for (const key of ["service", "from_service"]) {
      const s = ch[key];
      if (!s) continue;
      const i = state.services.findIndex((x) => x.code === s.code);
      if (i >= 0) state.services[i] = s; else state.services.push(s);
    }
    if (ch.call) {
      state.recent_calls = [ch.call].concat(state.recent_calls.filter((c) => c.id !== ch.call.id)).slice(0, 12);
    }
    state.seq = ch.seq;
  }

  function connect(auth, handlers, options) {
    handlers = handlers || {};
    options = options || {};
    const graceMs = options.graceMs || 3000;
    const spoken = new Set(options.spoken || []);
    let state = null;
    let downTimer = null;
    let shownDown = false;

    const socket = global.io("/display", {
      auth: auth,
      transports: ["websocket", "polling"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
    });

    function connection(up) {
      if (up) {
        clearTimeout(downTimer);
        downTimer = null;
        if (shownDown && handlers.onConnection) handlers.onConnection(true);
        shownDown = false;
      } else if (!downTimer) {
        downTimer = setTimeout(function () {
          shownDown = true;
          if (handlers.onConnection) handlers.onConnection(false);
        }, graceMs);
      }
    }

    function announce(call, change) {
      if (!call || spoken.has(call.id)) return;
      spoken.add(call.id);
      if (handlers.onCall) handlers.onCall(call, change);
    }

    socket.on("connect", function () { connection(true); });
    socket.on("disconnect", function () { connection(false); });
    socket.on("connect_error", function () { connection(false); });

    socket.on("snapshot", function (snap) {
      const first = state === null;
      state = snap;
      // Calls already on screen when we (re)connect are not spoken again; on the very first
      // snapshot nothing old is spoken at all.
      for (const c of snap.recent_calls) {
        if (first) spoken.add(c.id);
      }
      if (!first) {
        // Calls missed while disconnected are spoken if still fresh, oldest first.
        const freshMs = options.freshMs || 60000;
        for (const c of snap.recent_calls.slice().reverse()) {
          if (Date.now() - Date.parse(c.at) < freshMs) announce(c, null); else spoken.add(c.id);
        }
      }
      if (handlers.onState) handlers.onState(state, null);
    });

    socket.on("change", function (ch) {
      if (state === null || ch.seq <= state.seq) return;
      if (ch.seq !== state.seq + 1) {
        socket.emit("snapshot");
        return;
      }
      applyChange(state, ch);
      if (handlers.onState) handlers.onState(state, ch);
      if (ch.call) announce(ch.call, ch);
      // Page helpers that only watch (e.g. help-calls.js) follow every applied change.
      global.document.dispatchEvent(new global.CustomEvent("motcua:change", { detail: ch }));
      // A settings change (hours, holidays, names) can touch every field: take a fresh copy.
      if (ch.kind === "config.updated") socket.emit("snapshot");
    });

    socket.on("rating_request", function (msg) {
      if (handlers.onRating) handlers.onRating(msg.ticket);
    });

    return {
      socket: socket,
      state: function () { return state; },
      refresh: function () { socket.emit("snapshot"); },
      close: function () { socket.close(); },
    };
  }

  global.MotcuaQueue = { connect: connect, applyChange: applyChange };
})(window);
