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
