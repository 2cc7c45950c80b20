// SOCAP pages: small helpers shared by every page (no inline scripts: the CSP forbids them).
"use strict";
const socap = {
  csrf() { return document.body.dataset.csrf || ""; },
  toast(text) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const el = document.createElement("div");
    el.className = "toast";
    el.textContent = text;  // text, never HTML: alert texts carry names and bios
    box.appendChild(el);
    setTimeout(() => el.remove(), 15000);
  },
  async getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(`${url}: ${r.status}`);
    return r.json();
  },
};
window.socap = socap;
