// Countdowns to a deadline: <span class="lf-countdown" data-deadline="ISO 8601">.
(function () {
  const zh = (document.documentElement.lang || "").startsWith("zh");
  function render(el) {
    const left = Date.parse(el.dataset.deadline) - Date.now();
    if (Number.isNaN(left)) return;
    if (left <= 0) {
      el.textContent = zh ? "已超时" : "overdue";
      el.classList.add("text-danger", "fw-semibold");
      return;
    }
    const s = Math.floor(left / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    const pad = (n) => String(n).padStart(2, "0");
    el.textContent = (zh ? "剩余 " : "") + `${h}:${pad(m)}:${pad(s % 60)}` + (zh ? "" : " left");
    el.classList.toggle("text-danger", left < 2 * 3600 * 1000);
  }
  function tick() { document.querySelectorAll(".lf-countdown").forEach(render); }
  document.addEventListener("DOMContentLoaded", () => { tick(); setInterval(tick, 1000); });
})();

// htmx: a refused form (4xx) comes back with its errors and is shown in place.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.htmx) return;
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "...", swap: false, error: true },
  ];
});

// The move form shows only the evidence the chosen status asks for (R3.3).
(function () {
  function showEvidence(form) {
    const select = form.querySelector("select[name=to]");
    if (!select) return;
    const to = select.value;
    form.querySelectorAll(".lf-evidence").forEach((el) => {
      const wanted = el.dataset.for === "*" || el.dataset.for === to;
      el.hidden = !wanted;
    });
  }
  function wire(root) {
    root.querySelectorAll("#move-form").forEach((form) => {
      showEvidence(form);
      form.querySelector("select[name=to]")?.addEventListener("change", () => showEvidence(form));
    });
  }
  document.addEventListener("DOMContentLoaded", () => wire(document));
  document.addEventListener("htmx:afterSwap", (e) => wire(e.detail.target.parentNode || document));
})();

// The kanban board: drag a card to a column. A move that needs evidence opens the form
// in a dialog; any other move is made at once. The server applies the same rules either way.
(function () {
  function csrf() {
    const h = document.body.getAttribute("hx-headers");
    try { return JSON.parse(h)["X-CSRFToken"]; } catch (e) { return ""; }
  }
  document.addEventListener("DOMContentLoaded", () => {
    const board = document.getElementById("board");
    const dialog = document.getElementById("move-dialog");
    if (!board || !dialog) return;
    let dragged = null;
    dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
    board.addEventListener("dragstart", (e) => {
      const card = e.target.closest(".lf-kard");
      if (!card) return;
      dragged = card;
      e.dataTransfer.setData("text/plain", card.dataset.number);
      e.dataTransfer.effectAllowed = "move";
    });
    board.addEventListener("dragover", (e) => {
      const column = e.target.closest(".lf-column");
      if (!column || !dragged) return;
      const needs = JSON.parse(column.dataset.needs || "{}");
      const ok = Object.prototype.hasOwnProperty.call(needs, dragged.dataset.status);
      column.classList.toggle("lf-over", ok);
      column.classList.toggle("lf-refuse", !ok);
      if (ok) e.preventDefault();
    });
    board.addEventListener("dragleave", (e) => {
      const column = e.target.closest(".lf-column");
      if (column) column.classList.remove("lf-over", "lf-refuse");
    });
    board.addEventListener("drop", (e) => {
      const column = e.target.closest(".lf-column");
      if (!column || !dragged) return;
      e.preventDefault();
      column.classList.remove("lf-over", "lf-refuse");
      const needs = JSON.parse(column.dataset.needs || "{}")[dragged.dataset.status] || [];
      const to = column.dataset.status;
      const url = `/leads/${encodeURIComponent(dragged.dataset.number)}/move/`;
      const back = location.pathname + location.search;
      dialog.querySelector("#move-title").textContent =
        `${dragged.dataset.number} → ${column.querySelector("h2 span").textContent}`;
      if (needs.length === 0) {
        const body = new URLSearchParams({ to, next: back });
        fetch(url, { method: "POST", body, headers: { "X-CSRFToken": csrf(), "HX-Request": "true" } })
          .then(async (r) => {
            if (r.headers.get("HX-Redirect")) { location.href = r.headers.get("HX-Redirect"); return; }
            showForm(await r.text());
          });
      } else {
        fetch(`${url}?to=${encodeURIComponent(to)}&next=${encodeURIComponent(back)}`,
              { headers: { "HX-Request": "true" } })
          .then((r) => r.text()).then(showForm);
      }
      dragged = null;
    });
    function showForm(html) {
      const body = dialog.querySelector("#move-body");
      body.innerHTML = html;
      htmx.process(body);
      body.dispatchEvent(new CustomEvent("htmx:afterSwap", { bubbles: true, detail: { target: body.firstElementChild || body } }));
      if (!dialog.open) dialog.showModal();
      body.querySelector("textarea, input:not([type=hidden]), select")?.focus();
    }
  });
})();
