/* Keyboard-wedge scanners (USB QR readers) type what they read, then Enter, far faster than any
 * person. MotcuaWedge.listen(input, {onScan, onEnter}) watches one text input:
 *  - a burst of at least `minLength` characters typed `avgGapMs` apart or faster on average (a
 *    pause over `pauseMs` starts a new burst), ended by Enter, is a scan: onScan(text). The
 *    average, not each gap, decides, so a busy PC that delivers a few keys late still reads the
 *    scan. An Enter inside a burst is a line break of the code (multi-line receipts): the scan
 *    ends once no character follows within `settleMs`.
 *  - Enter after slower typing calls onEnter(input.value) (a clerk typing a code), if given.
 * The text is built from the input events' data, so characters the scanner types as text input
 * (Vietnamese letters) count as well as key presses.
 */
(function () {
  "use strict";

  function listen(input, opts) {
    const avgGap = opts.avgGapMs || 35;
    const pause = opts.pauseMs || 300;
    const minLength = opts.minLength || 8;
    const settle = opts.settleMs || 150;
    let text = "";
    let count = 0;
    let lastAt = 0;
    let firstAt = 0;
    let settleTimer = null;

    function reset() {
      text = "";
      count = 0;
      lastAt = 0; // the next character starts a new burst
      clearTimeout(settleTimer);
      settleTimer = null;
    }

    function finish(isScan) {
      const scanned = isScan ? text.replace(/\n+$/, "") : null;
      const typed = input.value;
      reset();
      if (scanned) {
        input.value = "";
        opts.onScan(scanned);
      } else if (opts.onEnter) {
        opts.onEnter(typed);
      } else {
        input.value = "";
      }
    }

    input.addEventListener("input", (e) => {
      const now = performance.now();
      if (now - lastAt > pause && !settleTimer) { text = ""; count = 0; firstAt = now; } // a pause: a person, or a new scan
      lastAt = now;
      if (settleTimer) { clearTimeout(settleTimer); settleTimer = null; text += "\n"; } // Enter was a line break
      const data = e.data || "";
      text += data;
      count += data.length;
      if (!opts.onEnter) input.value = ""; // nothing shows on a kiosk
    });

    input.addEventListener("keydown", (e) => {
      if (e.key !== "Enter") return;
      e.preventDefault();
      const now = performance.now();
      const fast = count >= minLength && now - lastAt <= pause && (lastAt - firstAt) / (count - 1) <= avgGap;
      if (!fast) return finish(false);
      clearTimeout(settleTimer);
      settleTimer = setTimeout(() => finish(true), settle);
      lastAt = now;
    });

    return { reset };
  }

  window.MotcuaWedge = { listen };
})();
