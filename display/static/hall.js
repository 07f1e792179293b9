/* Hall display: latest calls, counters, waiting per field, clock, slides, and announcements.
 *
 * State comes from MotcuaQueue (motcua/static/js/queue-client.js): a snapshot on every
 * (re)connect plus sequenced changes, so the screen is rebuilt from the server's state and
 * never needs a reload. Each new call id is announced once, one at a time: the WAV (chime
 * included) comes from /display/audio/<id>.wav.
 *
 * "Đang gọi", the ticker, the counter tiles and the voice follow one rule: a call is current
 * while its ticket is still at its counter and no newer call of that ticket was made. A call
 * that stops being current (no-show, finished, cancelled, transferred, recalled again) leaves
 * the announcement queue, and the one being spoken stops, so the hall never calls a citizen
 * who was already marked absent and never falls behind the counters.
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("display-config").textContent);
  const S = cfg.strings;
  const EN = cfg.strings_en;
  const TOKEN_KEY = "motcua.display.token";
  const FLASH_MS = 8000;
  const STALE_CALL_MS = 90000; // an announcement older than this is shown, not spoken
  const MEDIA_REFRESH_MS = 5 * 60000;

  // For people and tests: what the page did, set once per page load.
  const info = (window.motcuaDisplay = {
    loadedAt: Date.now(),
    connected: null,
    state: null,
    announced: [], // call ids, in order, as handed to the announcer
    played: [], // call ids whose audio started playing
    dropped: [], // call ids taken out of the announcement queue (or cut short): no longer current
    speaking: null, // the call id being spoken now
    soundBlocked: false,
    soundCheck: "pending", // what the start-up probe found: allowed, blocked or the error's name
  });

  const $ = (id) => document.getElementById(id);
  let token = null;
  let me = null;
  let queue = null;
  let clockOffset = 0; // server time − local time (TV boxes often have a wrong clock)
  let flashId = null;
  let flashTimer = null;

  // ---- start-up ----------------------------------------------------------------------

  function takeToken() {
    const url = new URL(location.href);
    const fromUrl = url.searchParams.get("token");
    if (fromUrl) {
      localStorage.setItem(TOKEN_KEY, fromUrl.trim());
      url.searchParams.delete("token");
      // Keep the token out of the address bar, history and screenshots.
      history.replaceState(null, "", url.pathname + url.search + url.hash);
    }
    return localStorage.getItem(TOKEN_KEY);
  }

  function showSetup(reason) {
    $("boot").hidden = true;
    $("app").hidden = true;
    $("setup").hidden = false;
    document.body.style.cursor = "auto";
    const r = $("setup-reason");
    r.hidden = !reason;
    r.textContent = reason || "";
  }

  $("setup-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    const value = $("setup-token").value.trim();
    if (!value) return;
    localStorage.setItem(TOKEN_KEY, value);
    location.reload();
  });

  function both(key) {
    return EN && EN[key] && EN[key] !== S[key] ? S[key] + " / " + EN[key] : S[key];
  }

  async function fetchMe() {
    for (let attempt = 0; ; attempt++) {
      let resp;
      try {
        resp = await fetch(cfg.urls.me, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
      } catch (err) {
        await sleep(Math.min(1000 * (attempt + 1), 5000)); // server not up yet: keep trying
        continue;
      }
      if (resp.status === 401) return { error: both("bad_token") };
      if (resp.status === 403) return { error: both("wrong_kind") };
      if (!resp.ok) {
        await sleep(3000);
        continue;
      }
      return { me: await resp.json() };
    }
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async function start() {
    token = takeToken();
    if (!token) return showSetup(null);
    const got = await fetchMe();
    if (got.error) {
      localStorage.removeItem(TOKEN_KEY);
      return showSetup(got.error);
    }
    me = got.me;
    $("office-name").textContent = me.office.name;
    document.title = me.office.name;
    setMedia(me.media);
    setInterval(refreshMedia, MEDIA_REFRESH_MS);
    tickClock();
    setInterval(tickClock, 1000);
    checkSound();
    queue = MotcuaQueue.connect({ token: token }, { onState: onState, onCall: onCall, onConnection: onConnection }, { graceMs: cfg.grace_ms });
    // A token revoked or replaced while the page runs: the server closes the socket and will
    // not take it back. Ask why at once, and show the set-up screen rather than "Mất kết nối".
    MotcuaDevice.watch(queue, {
      url: cfg.urls.me,
      token: token,
      onRefused: function (status) {
        announcer.stop();
        localStorage.removeItem(TOKEN_KEY);
        showSetup(both(status === 403 ? "wrong_kind" : "bad_token"));
      },
    });
  }

  // ---- queue state -------------------------------------------------------------------

  function onState(state, change) {
    info.state = state;
    if (info.connected === null) info.connected = true;
    if (!change && state.at) clockOffset = Date.parse(state.at) - Date.now();
    announcer.prune();
    $("boot").hidden = true;
    $("app").hidden = false;
    render(state);
  }

  function onConnection(up) {
    info.connected = up;
    $("offline").hidden = up;
    document.body.classList.toggle("offline", !up);
  }

  function onCall(call) {
    info.announced.push(call.id);
    flashId = call.id;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => {
      flashId = null;
      if (info.state) render(info.state);
    }, FLASH_MS);
    if (info.state) render(info.state);
    announcer.add(call);
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function timeOf(iso) {
    if (!iso) return "";
    return new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", timeZone: officeZone() }).format(new Date(iso));
  }

  function officeZone() {
    return (me && me.office.timezone) || "Asia/Ho_Chi_Minh";
  }

  // ---- what is current -----------------------------------------------------------------

  function newestCallOf(state, code) {
    return state.recent_calls.find((c) => c.code === code) || null;
  }

  /* The call's ticket is still at its counter (called, or served there) and was not called again. */
  function isCurrent(call, state) {
    state = state || info.state;
    if (!call || !state) return false;
    const c = state.counters.find((x) => x.number === call.counter);
    if (!c || c.status === "closed" || !c.ticket || c.ticket.code !== call.code) return false;
    if (c.ticket.status !== "called" && c.ticket.status !== "serving") return false;
    const newest = newestCallOf(state, call.code);
    return !newest || newest.id === call.id;
  }

  /* Worth saying aloud: current, and the citizen has not reached the counter yet. */
  function isAwaited(call) {
    if (!isCurrent(call)) return false;
    const c = info.state.counters.find((x) => x.number === call.counter);
    return c.ticket.status === "called";
  }

  /* What "Đang gọi" and the ticker show: the call being spoken, else the newest current one. */
  function headline(state) {
    if (announcer.current && isCurrent(announcer.current, state)) return announcer.current;
    return state.recent_calls.find((c) => isCurrent(c, state)) || null;
  }

  function render(state) {
    const head = headline(state);
    renderCurrent(head, state);
    $("ticker").textContent = head ? announcementText(head) : "";
    renderRecent(state.recent_calls, head);
    renderCounters(state.counters);
    renderWaiting(state.services);
  }

  function renderCurrent(call, state) {
    const box = $("current-call");
    box.replaceChildren();
    box.classList.toggle("flash", !!call && call.id === flashId);
    if (!call) {
      delete box.dataset.callId;
      box.append(el("div", "h-call-empty", both(state.recent_calls.length ? "no_current" : "no_calls")));
      return;
    }
    box.dataset.callId = call.id;
    box.append(el("div", "h-call-kind", call.kind === "recalled" ? both("recalled") : ""));
    const code = el("div", "h-call-code", call.code);
    const at = state.counters.find((x) => x.number === call.counter);
    if (at && at.ticket && at.ticket.appointment) code.append(el("span", "h-appt", S.appointment)); // the mark only, never a name
    box.append(code);
    const where = el("div", "h-call-counter");
    where.append(el("span", "arrow", "→"), document.createTextNode(S.counter + " " + call.counter));
    box.append(where);
  }

  function renderRecent(calls, head) {
    const list = $("recent-calls");
    list.replaceChildren();
    // Each number once (its newest call), and not the one shown large above.
    const seen = new Set(head ? [head.code] : []);
    calls.forEach(function (c) {
      if (seen.has(c.code)) return;
      seen.add(c.code);
      const li = el("li", c.id === flashId ? "flash" : "");
      li.dataset.callId = c.id;
      li.append(el("span", "code", c.code), el("span", "where", "→ " + S.counter_short + " " + c.counter), el("span", "at", timeOf(c.at)));
      list.append(li);
    });
    // Show only whole rows: a half-cut number misleads from across the room.
    while (list.lastElementChild && list.lastElementChild.offsetTop + list.lastElementChild.offsetHeight > list.clientHeight + list.offsetTop) {
      list.lastElementChild.remove();
    }
  }

  function counterTitle(c) {
    // "Quầy 1 — Hộ tịch" next to the badge "1" reads "Hộ tịch".
    const m = /^\s*(quầy|counter)\s*(\d+)\s*[—–:-]\s*(.+)$/i.exec(c.name || "");
    return m && Number(m[2]) === c.number ? m[3] : c.name;
  }

  // ---- lists longer than their panel: page by page ------------------------------------

  const PAGE_MS = 8000;
  const pages = { counters: 0, waiting: 0 };

  /* Show the rows of `nodes` that make up the current page of `list`, whole rows only. */
  function paged(list, nodes, key, label) {
    list.replaceChildren(...nodes);
    const room = list.clientHeight;
    const gap = parseFloat(getComputedStyle(list).rowGap) || 0;
    const split = [[]];
    let used = 0;
    for (const n of nodes) {
      const page = split[split.length - 1];
      const need = n.offsetHeight + (page.length ? gap : 0);
      if (page.length && used + need > room) {
        split.push([n]);
        used = n.offsetHeight;
      } else {
        page.push(n);
        used += need;
      }
    }
    pages[key] = pages[key] % split.length;
    list.replaceChildren(...split[pages[key]]);
    $(label).textContent = split.length > 1 ? pages[key] + 1 + "/" + split.length : "";
  }

  function nextPage() {
    pages.counters += 1;
    pages.waiting += 1;
    if (info.state) render(info.state);
  }
  info.nextPage = nextPage;
  setInterval(nextPage, PAGE_MS);

  function renderCounters(counters) {
    const flashing = flashId && info.state ? info.state.recent_calls.find((x) => x.id === flashId) : null;
    const flashCounter = flashing && isCurrent(flashing) ? flashing.counter : null;
    const nodes = counters.map(function (c) {
      const li = el("li", "h-counter " + c.status + (c.number === flashCounter ? " flash" : ""));
      li.dataset.counter = c.number;
      const label = el("div", "name", counterTitle(c));
      let statusText = S.ready;
      let statusCls = "";
      if (c.status === "closed") statusText = S.closed;
      else if (c.status === "paused") {
        statusText = S.paused + (c.pause_reason ? ": " + c.pause_reason : "");
        statusCls = "paused";
      } else if (c.ticket) {
        statusText = c.ticket.status === "serving" ? S.serving : S.called;
        statusCls = c.ticket.status === "serving" ? "serving" : "called";
      }
      label.append(el("span", "status " + statusCls, statusText));
      const ticket = el("div", "ticket", c.ticket && c.status !== "closed" ? c.ticket.code : "—");
      if (c.ticket && c.status !== "closed" && c.ticket.appointment) ticket.append(el("span", "h-appt", S.appointment));
      li.append(el("div", "num", c.number), label, ticket);
      return li;
    });
    paged($("counters"), nodes, "counters", "counters-page");
  }

  function renderWaiting(services) {
    const nodes = services.map(function (s) {
      const li = el("li");
      li.dataset.service = s.code;
      const field = el("div", "field", cfg.lang === "en" && s.name_en ? s.name_en : s.name);
      if (!s.open) field.append(el("small", "", S.issuing_closed));
      const count = el("div", "count", s.waiting);
      li.append(el("div", "prefix", s.prefix || ""), field, count);
      return li;
    });
    paged($("waiting"), nodes, "waiting", "waiting-page");
  }

  // ---- clock (office time zone, server time) -----------------------------------------

  const clockTime = new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Ho_Chi_Minh" });
  let fmtTime = clockTime;
  let fmtDate = null;

  function tickClock() {
    const zone = officeZone();
    if (!fmtDate || fmtDate.resolvedOptions().timeZone !== zone) {
      fmtTime = new Intl.DateTimeFormat("vi-VN", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone });
      fmtDate = new Intl.DateTimeFormat(cfg.lang === "en" ? "en-GB" : "vi-VN", { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric", timeZone: zone });
    }
    const now = new Date(Date.now() + clockOffset);
    $("clock-time").textContent = fmtTime.format(now);
    const d = fmtDate.format(now);
    $("clock-date").textContent = d.charAt(0).toUpperCase() + d.slice(1);
  }

  // ---- announcements: one at a time, each call once ----------------------------------

  function announcementText(call) {
    const template = (me && me.announcement_template) || "{number} → {counter}";
    return template.split("{number}").join(call.code).split("{counter}").join(String(call.counter));
  }

  const announcer = {
    queue: [],
    busy: false,
    blocked: false,
    current: null, // the call being spoken
    cut: null, // ends the current announcement early
    audio: new Audio(),
    add(call) {
      this.queue.push(call);
      this.pump();
    },
    /* Drop every call no longer current; stop the one being spoken if it is not. */
    prune() {
      const keep = [];
      for (const call of this.queue) {
        if (isAwaited(call)) keep.push(call);
        else info.dropped.push(call.id);
      }
      this.queue = keep;
      if (this.current && !isAwaited(this.current) && this.cut) {
        info.dropped.push(this.current.id);
        this.cut();
      }
    },
    stop() {
      this.queue = [];
      if (this.cut) this.cut();
      this.blocked = true;
    },
    async pump() {
      if (this.busy || this.blocked) return;
      this.prune();
      const call = this.queue.shift();
      if (!call) return;
      this.busy = true;
      this.current = call;
      info.speaking = call.id;
      if (info.state) render(info.state);
      try {
        if (Date.now() + clockOffset - Date.parse(call.at) < STALE_CALL_MS) await this.play(call);
      } catch (err) {
        if (err && err.name === "NotAllowedError") {
          this.queue.unshift(call); // played after the tap, if still current and fresh
          soundBlocked();
        } else if (!(err && err.name === "AbortError")) { // AbortError: cut short on purpose

          console.warn("announcement", call.id, err);
        }
      } finally {
        this.busy = false;
        this.current = null;
        this.cut = null;
        info.speaking = null;
      }
      if (info.state) render(info.state);
      if (!this.blocked) this.pump();
    },
    async play(call) {
      const resp = await fetch(cfg.urls.audio.replace("__ID__", call.id), { headers: { Authorization: "Bearer " + token } });
      if (!resp.ok) throw new Error("audio HTTP " + resp.status);
      const blob = await resp.blob();
      if (!isAwaited(call)) { // marked absent (or served) while the audio was on its way
        info.dropped.push(call.id);
        return;
      }
      const url = URL.createObjectURL(blob);
      const audio = this.audio;
      let finish = null;
      const done = new Promise((resolve) => {
        // Never wait for ever on a stuck sound card: the next call must still speak.
        const guard = setTimeout(() => finish(), 60000);
        finish = () => {
          audio.removeEventListener("ended", finish);
          audio.removeEventListener("error", finish);
          clearTimeout(guard);
          resolve();
        };
        audio.addEventListener("ended", finish);
        audio.addEventListener("error", finish);
      });
      this.cut = () => { audio.pause(); finish(); };
      try {
        audio.src = url;
        try {
          await audio.play(); // rejects with NotAllowedError until the page was touched
        } catch (err) {
          finish();
          throw err;
        }
        info.played.push(call.id);
        await done;
      } finally {
        this.cut = null;
        URL.revokeObjectURL(url);
      }
    },
  };

  function soundBlocked() {
    announcer.blocked = true;
    info.soundBlocked = true;
    $("sound").hidden = false;
    document.body.style.cursor = "auto";
  }

  $("sound").addEventListener("click", function () {
    // The tap is the user gesture browsers want; from now on the page may play sound.
    $("sound").hidden = true;
    document.body.style.cursor = "";
    announcer.blocked = false;
    info.soundBlocked = false;
    announcer.audio.play().catch(function () {}); // unlock this element within the gesture
    announcer.audio.pause();
    announcer.pump();
  });

  function silentWav() {
    // 50 ms of silence, 8 kHz mono 8-bit: asks the browser whether sound may play.
    const n = 400;
    const bytes = new Uint8Array(44 + n);
    const view = new DataView(bytes.buffer);
    const put = (o, s) => { for (let i = 0; i < s.length; i++) bytes[o + i] = s.charCodeAt(i); };
    put(0, "RIFF"); view.setUint32(4, 36 + n, true); put(8, "WAVEfmt ");
    view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, 8000, true); view.setUint32(28, 8000, true); view.setUint16(32, 1, true); view.setUint16(34, 8, true);
    put(36, "data"); view.setUint32(40, n, true); bytes.fill(128, 44);
    return URL.createObjectURL(new Blob([bytes], { type: "audio/wav" }));
  }

  function checkSound() {
    // Find out at start whether sound is allowed, so whoever sets the TV up taps once
    // then, not when the first citizen is called.
    const probe = announcer.audio;
    const url = silentWav();
    probe.src = url;
    probe.play().then(
      function () { info.soundCheck = "allowed"; probe.pause(); URL.revokeObjectURL(url); },
      function (err) {
        info.soundCheck = err && err.name === "NotAllowedError" ? "blocked" : String(err && err.name);
        probe.removeAttribute("src");
        probe.load();
        URL.revokeObjectURL(url);
        if (info.soundCheck === "blocked") soundBlocked();
      }
    );
  }

  // ---- slides and videos -------------------------------------------------------------

  const player = { items: [], index: -1, timer: null, key: null };

  function setMedia(items) {
    const key = items.map((i) => i.url).join("|");
    if (key === player.key) return;
    player.key = key;
    player.items = items;
    player.index = -1;
    $("media-empty").hidden = items.length > 0;
    nextMedia();
  }

  async function refreshMedia() {
    try {
      const resp = await fetch(cfg.urls.media, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
      if (resp.ok) setMedia((await resp.json()).media);
    } catch (err) {
      /* offline: keep showing what we have */
    }
  }

  function nextMedia() {
    clearTimeout(player.timer);
    const stage = $("media-stage");
    stage.replaceChildren();
    if (!player.items.length) return;
    player.index = (player.index + 1) % player.items.length;
    const item = player.items[player.index];
    if (item.kind === "video") {
      const v = document.createElement("video");
      v.muted = true; // the hall's sound is for announcements
      v.autoplay = true;
      v.playsInline = true;
      v.loop = player.items.length === 1;
      v.src = item.url;
      v.addEventListener("ended", nextMedia);
      v.addEventListener("error", () => { player.timer = setTimeout(nextMedia, 3000); });
      stage.append(v);
      v.play().catch(function () {});
    } else {
      const img = document.createElement("img");
      img.alt = "";
      img.src = item.url;
      stage.append(img);
      if (player.items.length > 1) player.timer = setTimeout(nextMedia, cfg.slide_seconds * 1000);
    }
  }

  // Rows are fitted to the space: fit again once the web font is in and when the screen changes.
  const refit = function () { if (info.state) render(info.state); };
  document.fonts.ready.then(refit);
  document.fonts.addEventListener("loadingdone", refit);
  window.addEventListener("resize", refit);

  start();
})();
