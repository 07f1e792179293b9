"""Checks a person would make on any screen, run inside Chromium by the browser tests.

``axe_violations(page)``  axe-core (vendored from npm, tests/vendor/axe-core) over the page as it
                          is now, under the page's real Content-Security-Policy: the library is
                          evaluated through the DevTools protocol, which the policy does not
                          govern, so nothing is relaxed for the page itself. Returns the
                          serious and critical violations and prints a one-line summary of all.
``overflowing(page)``     every visible element whose own text is cut: its content is wider or
                          taller than its box while it hides the overflow (clipping, ellipsis) or
                          spills past the viewport.
``assert_accessible(page, state)`` / ``assert_fits(page, state)`` fail with a readable list.
"""

from __future__ import annotations

from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

# The WCAG A/AA rules and axe's best practices (landmarks, one level-one heading, regions).
_RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
    resultTypes: ['violations'],
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({target: n.target.join(' '), summary: n.failureSummary})),
  }));
}"""

_OVERFLOWING = """() => {
  const cut = [];
  const vw = document.documentElement.clientWidth, vh = document.documentElement.clientHeight;
  for (const el of document.querySelectorAll('body *')) {
    if (el.offsetParent === null && getComputedStyle(el).position !== 'fixed') continue;
    if (['SCRIPT', 'STYLE', 'svg', 'IMG', 'CANVAS', 'VIDEO', 'AUDIO', 'IFRAME'].includes(el.tagName)) continue;
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.opacity === '0') continue;
    const hides = (v) => v === 'hidden' || v === 'clip';
    const clippedX = el.scrollWidth > el.clientWidth + 1 && (hides(style.overflowX) || style.textOverflow === 'ellipsis');
    const clippedY = el.scrollHeight > el.clientHeight + 1 && hides(style.overflowY);
    const r = el.getBoundingClientRect();
    const outside = r.width > 0 && (r.right > vw + 1 || r.left < -1) && style.position !== 'fixed';
    if (clippedX || clippedY || outside) {
      cut.push({
        tag: el.tagName.toLowerCase(), id: el.id, cls: el.className && String(el.className),
        text: el.textContent.trim().slice(0, 60),
        scroll: [el.scrollWidth, el.scrollHeight], client: [el.clientWidth, el.clientHeight],
        why: clippedX ? 'cut across' : clippedY ? 'cut below' : 'outside the screen',
      });
    }
  }
  return cut;
}"""


def axe_violations(page, state: str = "") -> list[dict]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    found = page.evaluate(_RUN_AXE)
    blocking = [v for v in found if v["impact"] in BLOCKING]
    summary = ", ".join(f"{v['id']}({v['impact']})" for v in found) or "none"
    print(f"axe-core [{state or page.url}]: {len(blocking)} serious/critical; all violations: {summary}")
    return blocking


def overflowing(page) -> list[dict]:
    page.evaluate("() => document.fonts.ready.then(() => true)")
    return page.evaluate(_OVERFLOWING)


def _listing(items: list[dict]) -> str:
    return "\n".join(f"  {item}" for item in items)


def assert_accessible(page, state: str) -> None:
    blocking = axe_violations(page, state)
    assert not blocking, f"axe-core found serious or critical violations on {state}:\n{_listing(blocking)}"


def assert_fits(page, state: str) -> None:
    cut = overflowing(page)
    assert not cut, f"text cut or outside the screen on {state}:\n{_listing(cut)}"
