// What the pages ask for with data- attributes instead of inline handlers, which the
// Content-Security-Policy forbids (script-src 'self').
//   <select data-autosubmit>        submits its form when changed
//   <form data-confirm="…">         asks before it is submitted
//   <button data-print>             prints the page
//   <a data-reload>                 reloads the page
//   <button data-copy="id" data-copied="…">  copies the text of #id, says so in [data-copy-status="id"]
//   <label class="v-file"><input type="file">…<span class="v-file-name" data-empty="…">
//                                   shows the chosen file's name in the page's language
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    const t = e.target;
    if (t.matches("select[data-autosubmit]") && t.form) t.form.submit();
    if (t.matches(".v-file input[type=file]")) {
      const name = t.parentElement.querySelector(".v-file-name");
      if (name) name.textContent = t.files.length ? t.files[0].name : name.dataset.empty;
      t.parentElement.classList.toggle("chosen", t.files.length > 0);
    }
  });
  document.addEventListener("submit", function (e) {
    const message = e.target.dataset && e.target.dataset.confirm;
    if (message && !window.confirm(message)) e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    const t = e.target.closest ? e.target.closest("[data-print], [data-reload], [data-copy]") : null;
    if (!t) return;
    e.preventDefault();
    if (t.hasAttribute("data-copy")) copy(t);
    else if (t.hasAttribute("data-print")) window.print();
    else window.location.reload();
  });
  // The clipboard API needs a secure context; an office server on plain http falls back to selecting the text.
  function copy(button) {
    const id = button.dataset.copy;
    const source = document.getElementById(id);
    const status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!source) return;
    const text = source.value !== undefined ? source.value : source.textContent;
    const said = () => { if (status) status.textContent = button.dataset.copied || ""; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(said, () => legacyCopy(source) && said());
    } else if (legacyCopy(source)) said();
  }
  function legacyCopy(source) {
    if (source.select) source.select();
    try { return document.execCommand("copy"); } catch (err) { return false; }
  }
})();
