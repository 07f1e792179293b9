/* Large-text mode and the page's icons.
 *
 * One tap on "Chữ to" enlarges every text of the kiosk; it holds for the visit (a language
 * switch reloads the page, so it is kept in sessionStorage) and ends with it.
 * Icons are the vendored Tabler SVGs (MIT), drawn in the text's colour through a CSS mask.
 */
(function () {
  "use strict";

  const KEY = "motcua.kiosk.large";
  const cfg = JSON.parse(document.getElementById("kiosk-config").textContent);
  const app = document.getElementById("app");
  const toggle = document.getElementById("large-toggle");

  function paintIcons(root) {
    for (const el of root.querySelectorAll("[data-icon]")) {
      el.style.setProperty("--icon", `url("${cfg.urls.icons}${el.dataset.icon}.svg")`);
    }
  }

  function remembered() {
    try { return sessionStorage.getItem(KEY) === "1"; } catch (e) { return false; }
  }

  function setLarge(on) {
    app.dataset.large = on ? "1" : "0";
    document.documentElement.dataset.large = on ? "1" : "0"; // sizes are in rem
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    try {
      if (on) sessionStorage.setItem(KEY, "1"); else sessionStorage.removeItem(KEY);
    } catch (e) { /* storage off: it still holds until the page reloads */ }
    document.dispatchEvent(new CustomEvent("kiosk:large-text", { detail: { on } }));
  }

  paintIcons(document);
  setLarge(remembered());
  toggle.addEventListener("click", () => setLarge(app.dataset.large !== "1"));
  document.addEventListener("kiosk:visit-end", () => setLarge(false));
})();
