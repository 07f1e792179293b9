/* Field buttons share the screen's height; long field names (up to 12 fields) must still be
 * read whole. After each render and resize, the text of a grid shrinks step by step (the
 * --fit factor the CSS multiplies font sizes by) until every button's text lies inside it.
 * Below the smallest readable factor the grid gives up shrinking and scrolls instead
 * (data-fit="scroll"): text is paged, never cut.
 */
(function () {
  "use strict";

  const MIN = 0.55;
  const GRIDS = ["fields", "priority-fields", "groups"];

  function overflows(grid) {
    for (const b of grid.children) {
      if (b.offsetParent === null) continue;
      const r = b.getBoundingClientRect();
      if (b.scrollHeight > b.clientHeight + 1 || b.scrollWidth > b.clientWidth + 1) return true;
      for (const t of b.children) {
        if (t.offsetParent === null || !t.textContent.trim()) continue;
        const q = t.getBoundingClientRect();
        if (q.top < r.top - 0.5 || q.bottom > r.bottom + 0.5 || q.right > r.right + 0.5) return true;
      }
    }
    return false;
  }

  /* Binary search of the largest factor that fits: a handful of layouts per grid. */
  function fit(grid) {
    if (!grid || grid.offsetParent === null || !grid.children.length) return;
    grid.dataset.fit = "";
    grid.style.setProperty("--fit", "1");
    if (!overflows(grid)) return;
    let lo = MIN, hi = 1;
    grid.style.setProperty("--fit", String(lo));
    if (overflows(grid)) {
      grid.dataset.fit = "scroll";
      return;
    }
    for (let i = 0; i < 6; i++) {
      const mid = (lo + hi) / 2;
      grid.style.setProperty("--fit", mid.toFixed(3));
      if (overflows(grid)) hi = mid; else lo = mid;
    }
    grid.style.setProperty("--fit", lo.toFixed(3));
  }

  let pending = 0;
  function fitAll() {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      for (const id of GRIDS) fit(document.getElementById(id));
    });
  }

  for (const ev of ["kiosk:rendered", "kiosk:screen", "kiosk:large-text"]) document.addEventListener(ev, fitAll);
  window.addEventListener("resize", fitAll);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(fitAll);
  window.MotcuaKioskFit = { fitAll, fit };
})();
