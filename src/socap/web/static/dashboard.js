// The campaign dashboard: charts from the server-rendered JSON, then a refresh every 60 s from the JSON API
// (the same filters and page), updating numbers, lists and charts in place — no full reload.
"use strict";
(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;
  const { el, fmt } = window.socap;
  const campaignId = root.dataset.campaignId;
  const query = root.dataset.query || "";
  const page = Number(root.dataset.page || "1");
  const threshold = Number(root.dataset.threshold || "0");
  const api = `/api/v1/campaigns/${campaignId}`;
  const qs = query ? `?${query}` : "";
  const REFRESH_MS = 60000;
  let labels = JSON.parse(root.dataset.labels || "{}");

  function setText(node, text) { if (node && node.textContent !== text) node.textContent = text; }

  function deltaNode(d) {
    if (d.change === null || d.change === undefined) return el("span", { className: "delta muted" }, "no run yet");
    if (d.change === 0) return el("span", { className: "delta muted" }, "no change since last run");
    return el("span", { className: `delta ${d.change > 0 ? "up" : "down"}` }, `${socap.signed(d.change)} since last run`);
  }

  function updateTotals(t) {
    const subs = {
      unique_accounts: `${fmt(t.high_importance_accounts.value)} at importance ≥ ${threshold}`,
      likes: `${fmt(t.impressions.value)} impressions`,
      retweets: `X counts ${fmt(t.retweet_count.value)}`,
      quotes: `X counts ${fmt(t.quote_count.value)}`,
      replies: `X counts ${fmt(t.reply_count.value)}`,
    };
    for (const tile of root.querySelectorAll("[data-total]")) {
      const key = tile.dataset.total;
      const d = t[key];
      if (!d) continue;
      setText(tile.querySelector("[data-value]"), fmt(d.value));
      tile.querySelector("[data-delta]").replaceChildren(deltaNode(d));
      if (subs[key]) setText(tile.querySelector("[data-sub]"), subs[key]);
    }
  }

  function updateCards(cards) {
    for (const card of cards) {
      const box = root.querySelector(`[data-card="${card.category}"]`);
      if (!box) continue;
      const f = (name) => box.querySelector(`[data-field="${name}"]`);
      setText(f("posts"), `${card.posts} post${card.posts !== 1 ? "s" : ""}`);
      for (const k of ["engagements", "unique_accounts", "retweets", "replies", "quotes", "likes"]) setText(f(k), fmt(card[k]));
      setText(f("share"), `${Math.round(card.share_of_engagements * 100)}%`);
      f("bar").style.width = `${(card.share_of_engagements * 100).toFixed(1)}%`;
    }
  }

  function postState(p) {
    if (p.unavailable_reason) return el("span", { className: "bad" }, `unavailable: ${p.unavailable_reason}`);
    if (p.blocked_until) return el("span", { className: "warn" }, `rate-limited until ${socap.time(p.blocked_until)}`);
    if (p.last_error) return el("span", { className: "warn", title: p.last_error }, "last poll failed");
    if (p.metrics_at) return el("span", { className: "muted" }, `polled ${socap.time(p.metrics_at, true)}`);
    return el("span", { className: "muted" }, "not polled yet");
  }

  function updatePosts(posts) {
    const body = document.getElementById("post-rows");
    if (!body) return;
    body.replaceChildren(...posts.map((p) => {
      const c = p.coverage;
      const label = labels[p.id] || p.category;
      return el("tr", { className: p.unavailable_reason ? "unavailable" : "" },
        el("td", {}, el("a", { href: `/campaigns/${campaignId}/posts/${p.id}${qs}`, className: "strong" }, label), " ",
           el("span", { className: "muted small" }, p.author_username ? `@${p.author_username}` : "")),
        el("td", { className: "text" }, p.text),
        ...["likes", "retweet_count", "reply_count", "quote_count", "impressions"].map((k) => el("td", { className: "num" }, fmt(p[k]))),
        el("td", { className: "coverage",
                   title: `retweets ${c.retweets_captured}/${c.retweet_count}, replies ${c.replies_captured}/${c.reply_count}, quotes ${c.quotes_captured}/${c.quote_count}` },
           c.ratio === null ? el("span", { className: "muted" }, "—") : el("strong", {}, `${Math.round(c.ratio * 100)}%`), " ",
           el("span", { className: "muted small" },
              `RT ${fmt(c.retweets_captured)}/${fmt(c.retweet_count)} · Re ${fmt(c.replies_captured)}/${fmt(c.reply_count)} · Q ${fmt(c.quotes_captured)}/${fmt(c.quote_count)}`)),
        el("td", { className: "state" }, postState(p)));
    }));
    const problems = document.getElementById("post-problems");
    const lines = [];
    for (const p of posts) {
      const label = labels[p.id] || p.category;
      if (p.unavailable_reason) lines.push(el("div", {}, el("strong", {}, label), ` is unavailable on X (${p.unavailable_reason}): its history is kept, it is no longer polled.`));
    }
    for (const p of posts) {
      const label = labels[p.id] || p.category;
      if (p.blocked_until) lines.push(el("div", {}, el("strong", {}, label), ` is rate-limited by X until ${socap.time(p.blocked_until)}; polling resumes then.`));
    }
    if (problems) problems.replaceChildren(...(lines.length ? [el("div", { className: "notice warn-box" }, lines)] : []));
  }

  function updateCost(cost) {
    const money = `$${Number(cost.cost_usd).toFixed(2)}`;
    for (const node of root.querySelectorAll("[data-cost]")) {
      const k = node.dataset.cost;
      setText(node, k === "cost_usd" ? money : fmt(cost[k]));
    }
    const list = document.getElementById("endpoint-calls");
    if (list) {
      const entries = Object.entries(cost.calls_by_endpoint || {}).sort((a, b) => (a[0] < b[0] ? -1 : 1));
      list.replaceChildren(...(entries.length
        ? entries.map(([ep, n]) => el("li", {}, el("code", {}, ep), el("span", {}, fmt(n))))
        : [el("li", { className: "muted" }, "none yet")]));
    }
    const info = document.getElementById("run-info");
    if (info) {
      let text = cost.last_run_at ? `last run ${socap.time(cost.last_run_at, true)}` : "no run yet";
      if (cost.next_run_at && root.dataset.status !== "completed") text += ` · next run ${socap.time(cost.next_run_at, true)}`;
      setText(info, text);
    }
  }

  function seedsNode(seeds) {
    if (!seeds || !seeds.length) return null;
    const shown = seeds.slice(0, 2).map((s) => `@${s.username}`).join(", ");
    return el("span", { className: "seeds", title: seeds.map((s) => `@${s.username} (${s.category}, weight ${s.weight})`).join(", ") },
              `followed by ${shown}${seeds.length > 2 ? ` +${seeds.length - 2}` : ""}`);
  }

  function engagementRow(r) {
    const hi = r.importance >= threshold;
    const account = el("td", { className: "account" },
      el("a", { href: `/campaigns/${campaignId}/accounts/${r.account_id}`, className: "acct" }, `@${r.username}`),
      el("span", { className: "name" }, r.name));
    if (r.posts_engaged > 1) {
      account.appendChild(el("span", { className: "multi" },
        `engaged with ${r.posts_engaged} posts: ${r.other_posts.map(([label, action]) => `${label} (${action})`).join(", ")}`));
    }
    return el("tr", { className: hi ? "important" : "" },
      account,
      el("td", {}, el("span", { className: `tag cat-${r.account_category}` }, r.account_category)),
      el("td", { className: "importance" }, el("span", { className: `score${hi ? " hi" : ""}` }, String(r.importance)), seedsNode(r.seeds)),
      el("td", {}, el("span", { className: `action action-${r.action}` }, r.action)),
      el("td", {}, el("a", { href: `/campaigns/${campaignId}/posts/${r.post_id}${qs}` }, r.post_label)),
      el("td", { className: "text" }, r.text),
      el("td", { className: "time" }, socap.time(r.engaged_at, true)));
  }

  function updateEngagements(pageData, nextRun) {
    const body = document.getElementById("engagement-rows");
    if (!body) return;
    if (pageData.rows.length) {
      body.replaceChildren(...pageData.rows.map(engagementRow));
    } else {
      let text = query ? "No engagements match this filter." : "No engagements recorded.";
      if (!query && nextRun && ["active", "scheduled"].includes(root.dataset.status)) {
        text = `No engagements yet — the next run is at ${socap.time(nextRun)}.`;
      }
      body.replaceChildren(el("tr", { className: "empty" }, el("td", { colspan: "7" }, text)));
    }
    setText(document.getElementById("engagement-total"), fmt(pageData.total));
    const pager = document.getElementById("pager");
    if (pager) {
      const base = `/campaigns/${campaignId}`;
      const amp = query ? `&${query}` : "";
      const p = pageData.page;
      pager.hidden = pageData.pages <= 1;
      pager.replaceChildren(
        p > 1 ? el("a", { href: `${base}?page=${p - 1}${amp}#engagements`, rel: "prev" }, "‹ Previous") : el("span", { className: "muted" }, "‹ Previous"),
        el("span", {}, `page ${fmt(p)} of ${fmt(pageData.pages)} · ${fmt(pageData.total)} engagements`),
        p < pageData.pages ? el("a", { href: `${base}?page=${p + 1}${amp}#engagements`, rel: "next" }, "Next ›") : el("span", { className: "muted" }, "Next ›"));
    }
  }

  function updateCharts(charts) {
    root.dataset.charts = JSON.stringify(charts);
    const c = window.socapCharts;
    c.metrics(document.getElementById("chart-metrics"), charts.metrics);
    c.timeline(document.getElementById("chart-timeline"), charts.timeline);
    c.pie(document.getElementById("chart-pie"), charts.account_categories);
  }

  function stamp(iso, ok) {
    const node = document.getElementById("updated");
    if (!node) return;
    node.classList.toggle("stale", !ok);
    node.textContent = ok ? `updated ${socap.time(iso)}` : `could not refresh at ${socap.time(new Date().toISOString())} — retrying`;
  }

  let running = null;
  async function refresh() {
    if (running) return running;
    running = (async () => {
      try {
        const pageQuery = `${query ? `${query}&` : ""}page=${page}`;
        const [summary, charts, engagements] = await Promise.all([
          socap.getJSON(`${api}/summary${qs}`), socap.getJSON(`${api}/charts${qs}`),
          socap.getJSON(`${api}/engagements?${pageQuery}`)]);
        updateTotals(summary.totals);
        updateCards(summary.categories);
        updatePosts(summary.posts);
        updateCost(summary.cost);
        updateEngagements(engagements, summary.cost.next_run_at);
        updateCharts(charts);
        stamp(summary.generated_at, true);
        root.dataset.dataVersion = summary.data_version;
        return summary;
      } catch (err) {
        stamp(null, false);
        throw err;
      } finally {
        running = null;
      }
    })();
    return running;
  }

  window.socapCharts.renderAll(document);
  stamp(root.dataset.generatedAt, true);
  window.socapRefresh = refresh;
  setInterval(() => { refresh().catch(() => {}); }, REFRESH_MS);
  document.addEventListener("socap:alert", (e) => {
    if (String(e.detail.campaign_id) === String(campaignId)) refresh().catch(() => {});
  });
})();
