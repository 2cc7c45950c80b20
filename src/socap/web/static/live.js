// Live pages other than the dashboard: every 60 s, re-fetch this page and swap its [data-live] regions in
// place (no full reload, scroll position and form state kept), then redraw its charts.
"use strict";
(function () {
  const REFRESH_MS = 60000;
  const regions = () => document.querySelectorAll("[data-live]");
  if (!regions().length) return;

  function stamp(ok) {
    const node = document.getElementById("updated");
    if (!node) return;
    const now = new Date().toISOString();
    node.classList.toggle("stale", !ok);
    node.textContent = ok ? `updated ${socap.time(node.dataset.serverTime || now)}` : "could not refresh — retrying";
  }

  let running = null;
  async function refresh() {
    if (running) return running;
    running = (async () => {
      try {
        const r = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!r.ok || (r.redirected && new URL(r.url).pathname === "/login")) {
          throw new Error(`${location.pathname}: ${r.redirected ? "signed out" : r.status}`);
        }
        const fresh = new DOMParser().parseFromString(await r.text(), "text/html");
        for (const region of regions()) {
          const next = fresh.querySelector(`[data-live="${region.dataset.live}"]`);
          if (next) region.replaceWith(document.adoptNode(next));
        }
        const serverTime = fresh.getElementById("updated");
        const node = document.getElementById("updated");
        if (serverTime && node) node.dataset.serverTime = serverTime.dataset.serverTime || "";
        if (window.socapCharts) window.socapCharts.renderAll(document);
        stamp(true);
      } catch (err) {
        stamp(false);
        throw err;
      } finally {
        running = null;
      }
    })();
    return running;
  }

  if (window.socapCharts) window.socapCharts.renderAll(document);
  stamp(true);
  window.socapRefresh = refresh;
  setInterval(() => { refresh().catch(() => {}); }, REFRESH_MS);
  if (document.body.dataset.livePage === "alerts") {
    document.addEventListener("socap:alert", () => { refresh().catch(() => {}); });
  }
})();
