// SOCAP pages: small helpers shared by every page (no inline scripts: the CSP forbids them).
"use strict";
const socap = {
  csrf() { return document.body.dataset.csrf || ""; },
  toast(text) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const el = document.createElement("div");
    el.className = "toast";
    el.setAttribute("role", "status");
    el.textContent = text;  // text, never HTML: alert texts carry names and bios
    box.appendChild(el);
    setTimeout(() => el.remove(), 15000);
  },
  async getJSON(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(`${url}: ${r.status}`);
    return r.json();
  },
  // "12,345": numbers the same way the server renders them
  fmt(n) { return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US"); },
  signed(n) { return n > 0 ? "+" + socap.fmt(n) : n < 0 ? "−" + socap.fmt(-n) : ""; },
  // "2025-01-06T14:30:00Z" → "14:30 UTC" / "Jan 06 14:30 UTC" (times are always shown in UTC)
  time(iso, withDate) {
    if (!iso) return "—";
    const d = new Date(iso);
    const hm = d.toISOString().slice(11, 16);
    if (!withDate) return hm + " UTC";
    const month = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
    return `${month} ${String(d.getUTCDate()).padStart(2, "0")} ${hm} UTC`;
  },
  // small DOM builder: el("td", {className: "num"}, "12") — children are strings (as text) or nodes
  el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "className" || k === "textContent" || k === "hidden") node[k] = v;
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  },
};
window.socap = socap;

// Alerts as they are sent: an in-page notice everywhere, and a desktop notification when allowed.
(function alertStream() {
  const url = document.body.dataset.alertStream;
  if (!url || !window.EventSource) return;
  const seen = new Set();
  const source = new EventSource(url, { withCredentials: true });
  source.addEventListener("alert", (event) => {
    let alert;
    try { alert = JSON.parse(event.data); } catch (e) { return; }
    if (seen.has(alert.id)) return;
    seen.add(alert.id);
    const text = alert.campaign_name ? `${alert.campaign_name}: ${alert.message}` : alert.message;
    socap.toast(text);
    if ("Notification" in window && Notification.permission === "granted") {
      try { new Notification("SOCAP alert", { body: text, tag: `socap-alert-${alert.id}` }); } catch (e) { /* ignore */ }
    }
    document.dispatchEvent(new CustomEvent("socap:alert", { detail: alert }));
  });
  socap.alertSource = source;
})();

// Desktop notifications need the user's permission, asked from a click (never on page load).
(function notificationButton() {
  const button = document.getElementById("notify-permission");
  if (!button || !("Notification" in window) || Notification.permission !== "default") return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    const answer = await Notification.requestPermission();
    button.hidden = true;
    socap.toast(answer === "granted" ? "Desktop alerts are on for this browser."
                                     : "Desktop alerts stay off; alerts still show here.");
  });
})();

// Filter forms: show the custom dates only for a custom range, and keep the URL clean (no empty fields).
(function filterForms() {
  for (const form of document.querySelectorAll("form.filters")) {
    const range = form.querySelector("select[name=range]");
    const custom = form.querySelector(".custom-range");
    const sync = () => { if (range && custom) custom.hidden = range.value !== "custom"; };
    if (range) range.addEventListener("change", sync);
    sync();
    form.addEventListener("submit", () => {
      const isCustom = range && range.value === "custom";
      for (const input of form.querySelectorAll("input, select")) {
        const dates = input.name === "since" || input.name === "until";
        if ((dates && !isCustom) || (input.value === "" && input.type !== "checkbox")
            || (input.name === "range" && input.value === "all")) input.disabled = true;
      }
      setTimeout(() => { for (const input of form.querySelectorAll("input, select")) input.disabled = false; }, 0);
    });
  }
})();
