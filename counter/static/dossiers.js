/* The dossier codes of the citizen being served (mã hồ sơ): typed, or scanned from the receipt
 * with the counter's USB scanner into the box (the receipt's QR carries the code among other
 * data: the server finds it with the office's pattern). POST/DELETE
 * /api/v1/counters/<n>/dossiers, and POST …/dossiers/<code>/returned at the results desk.
 * The list follows the counter page's waiting answer (clerk.js sends `motcua:waiting`).
 */
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("counter-config").textContent);
  const T = JSON.parse(document.getElementById("dossier-text").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const EN = document.documentElement.lang === "en";
  const $ = (id) => document.getElementById(id);
  const box = $("dossiers");
  const input = $("dossier-code");
  let serving = false;

  async function send(method, path, body) {
    const url = cfg.api + "dossiers" + path + "?office=" + encodeURIComponent(cfg.office_param);
    try {
      const resp = await fetch(url, {
        method, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        body: body ? JSON.stringify(body) : undefined,
      });
      const data = await resp.json().catch(() => null);
      if (resp.ok) { message(""); draw(data.dossiers); return true; }
      const err = (data && data.error) || { message: T.failed_vi, message_en: T.failed_en };
      message(EN ? err.message_en : err.message);
    } catch (e) {
      message(EN ? T.failed_en : T.failed_vi);
    }
    return false;
  }

  function message(text) {
    const m = $("dossier-error");
    m.textContent = text;
    m.hidden = !text;
  }

  function draw(list) {
    const ul = $("dossier-list");
    ul.replaceChildren();
    for (const d of list || []) {
      const li = document.createElement("li");
      li.className = "dossier" + (d.returned_at ? " is-returned" : "");
      li.dataset.code = d.code;
      const code = document.createElement("span");
      code.className = "dossier-code";
      code.textContent = d.code + (d.area ? " · " + d.area : "");
      li.appendChild(code);
      if (d.returned_at) {
        li.appendChild(Object.assign(document.createElement("span"), { className: "badge", textContent: T.returned }));
      } else {
        const ret = Object.assign(document.createElement("button"), { type: "button", className: "btn small", textContent: T.mark_returned });
        ret.addEventListener("click", () => send("POST", "/" + encodeURIComponent(d.code) + "/returned"));
        const del = Object.assign(document.createElement("button"), { type: "button", className: "btn small btn-quiet", textContent: "×" });
        del.setAttribute("aria-label", T.remove + " " + d.code);
        del.addEventListener("click", () => send("DELETE", "/" + encodeURIComponent(d.code)));
        li.append(ret, del);
      }
      ul.appendChild(li);
    }
  }

  async function attach(text) {
    if (!text.trim() || !serving) return;
    if (await send("POST", "", { code: text })) input.value = "";
  }

  // Enter in the box: typed or scanned (a multi-line receipt arrives as one scan).
  MotcuaWedge.listen(input, { onScan: attach, onEnter: attach, minLength: 12 });
  $("dossier-add").addEventListener("click", () => attach(input.value));

  document.addEventListener("motcua:waiting", (e) => {
    const w = e.detail;
    serving = !!(w && w.current_dossiers !== undefined) && !!document.querySelector(".current.is-called, .current.is-serving");
    box.hidden = !serving;
    if (serving) draw(w.current_dossiers);
  });
})();
