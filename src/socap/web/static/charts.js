// Plotly charts of the campaign pages. Data comes from data-* attributes (server-rendered JSON) or the API.
"use strict";
(function () {
  const COLORS = { likes: "#f04438", retweets: "#12b76a", replies: "#2e90fa", quotes: "#ee46bc",
                   impressions: "#98a2b3", main: "#1d6fe8", influencer: "#9b51e0", investor: "#12805c" };
  const ACCOUNT_COLORS = { investor: "#12805c", vc: "#32d583", founder: "#7a5af8", developer: "#2e90fa",
                           media: "#f79009", other: "#d0d5dd" };
  const CONFIG = { displayModeBar: false, responsive: true };
  const FONT = { family: "DejaVu Sans, system-ui, sans-serif", size: 11, color: "#344054" };

  // Plotly has no time zones: give it the UTC wall time ("2025-01-06 14:30:00"), the axis says UTC.
  const utc = (iso) => String(iso).replace("T", " ").replace(/(Z|[+-]00:?00)$/, "");

  function layout(extra) {
    return Object.assign({
      margin: { l: 48, r: 16, t: 8, b: 36 }, font: FONT, paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)", hovermode: "x unified",
      legend: { orientation: "h", x: 0, y: 1.12, font: { size: 11 } },
      xaxis: { type: "date", gridcolor: "#f2f4f7", tickformat: "%b %d\n%H:%M" },
      yaxis: { gridcolor: "#eaecf0", rangemode: "tozero", tickformat: ",d" },
    }, extra || {});
  }

  function empty(div, isEmpty) {
    let note = div.querySelector(".chart-empty");
    if (isEmpty) {
      if (window.Plotly && div.classList.contains("js-plotly-plot")) Plotly.purge(div);
      if (!note) {
        note = document.createElement("div");
        note.className = "chart-empty";
        note.textContent = div.dataset.empty || "No data yet.";
        div.appendChild(note);
      }
      return true;
    }
    if (note) note.remove();
    return false;
  }

  const HOUR = 3600000;
  const ms = (iso) => Date.parse(/(Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`);
  const wall = (t) => new Date(t).toISOString().slice(0, 19).replace("T", " ");
  // an hourly bucket drawn across its hour
  const mid = (iso) => wall(ms(iso) + HOUR / 2);

  // A few hourly bars would each fill the whole width: show at least 12 hours around them.
  function hourRange(hours) {
    const times = hours.map(ms);
    const first = Math.min(...times);
    const last = Math.max(...times) + HOUR;
    const span = last - first;
    if (span >= 12 * HOUR) return null;
    const pad = (12 * HOUR - span) / 2;
    return [wall(first - pad), wall(last + pad)];
  }

  function draw(div, traces, extra) {
    if (!window.Plotly) return;
    Plotly.react(div, traces, layout(extra), CONFIG);
  }

  const charts = {
    // Two panels on one time axis: likes on top, retweets / replies / quotes below (likes are usually an
    // order of magnitude larger and would flatten the others on a shared scale).
    metrics(div, points) {
      if (!div || empty(div, !points || points.length === 0)) return;
      const x = points.map((p) => utc(p.at));
      const line = (key, yaxis) => ({
        x, y: points.map((p) => p[key]), name: key, type: "scatter", yaxis,
        mode: points.length > 40 ? "lines" : "lines+markers",
        line: { color: COLORS[key], width: 2, shape: "hv" }, marker: { size: 4 },
      });
      draw(div, [line("likes", "y"), line("retweets", "y2"), line("replies", "y2"), line("quotes", "y2")], {
        yaxis: { domain: [0.58, 0.94], gridcolor: "#eaecf0", rangemode: "tozero", tickformat: ",d" },
        yaxis2: { domain: [0, 0.4], gridcolor: "#eaecf0", rangemode: "tozero", tickformat: ",d" },
        showlegend: false,
        annotations: [
          { text: "<b>likes</b>", xref: "paper", yref: "paper", x: 0, y: 0.95, xanchor: "left", yanchor: "bottom",
            showarrow: false, font: { size: 11, color: COLORS.likes } },
          { text: `<span style="color:${COLORS.retweets}"><b>retweets</b></span> · <span style="color:${COLORS.replies}"><b>replies</b></span> · <span style="color:${COLORS.quotes}"><b>quotes</b></span>`,
            xref: "paper", yref: "paper", x: 0, y: 0.41, xanchor: "left", yanchor: "bottom", showarrow: false,
            font: { size: 11 } },
        ],
        xaxis: { type: "date", gridcolor: "#f2f4f7", tickformat: "%b %d\n%H:%M", anchor: "y2" },
        margin: { l: 56, r: 16, t: 8, b: 36 },
      });
    },

    timeline(div, buckets) {
      if (!div || empty(div, !buckets || buckets.length === 0)) return;
      const x = buckets.map((b) => mid(b.hour));
      const bar = (key) => ({ x, y: buckets.map((b) => b[key]), name: key, type: "bar", width: HOUR * 0.85,
                              marker: { color: COLORS[key] }, hovertemplate: `%{y} ${key}<extra></extra>` });
      const range = hourRange(buckets.map((b) => b.hour));
      draw(div, [bar("retweets"), bar("replies"), bar("quotes")], {
        barmode: "stack", bargap: 0.15, legend: { orientation: "h", x: 0, y: 1.12, traceorder: "normal" },
        xaxis: Object.assign({ type: "date", gridcolor: "#f2f4f7", tickformat: "%b %d\n%H:%M" }, range ? { range } : {}),
      });
    },

    pie(div, counts) {
      const entries = Object.entries(counts || {}).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
      if (!div || empty(div, entries.length === 0)) return;
      draw(div, [{
        type: "pie", hole: 0.45, sort: false, values: entries.map((e) => e[1]),
        marker: { colors: entries.map((e) => ACCOUNT_COLORS[e[0]] || "#98a2b3") },
        labels: entries.map((e) => `${e[0]} (${e[1].toLocaleString("en-US")})`),
        textinfo: "percent", textposition: "inside", insidetextorientation: "horizontal",
        hovertemplate: "%{label}: %{percent} of engaging accounts<extra></extra>",
      }], { margin: { l: 8, r: 8, t: 8, b: 8 }, showlegend: true, hovermode: "closest",
            uniformtext: { minsize: 10, mode: "hide" },
            legend: { orientation: "v", x: 1, y: 0.5, font: { size: 11 } } });
    },

    // Cumulative engagements per post category: which group carried the launch, and when.
    categoryTimeline(div, timelines) {
      const cats = Object.keys(timelines || {}).filter((c) => (timelines[c] || []).length > 0);
      if (!div || empty(div, cats.length === 0)) return;
      draw(div, cats.map((c) => {
        let total = 0;
        const points = timelines[c].map((b) => { total += b.retweets + b.replies + b.quotes; return [wall(ms(b.hour) + HOUR), total]; });
        points.unshift([wall(ms(timelines[c][0].hour)), 0]);
        return { x: points.map((p) => p[0]), y: points.map((p) => p[1]), name: c, type: "scatter", mode: "lines",
                 line: { color: COLORS[c], width: 2.5, shape: "hv" } };
      }));
    },

    categoryActions(div, categories, values) {
      const total = ["retweets", "replies", "quotes"].reduce((s, k) => s + (values[k] || []).reduce((a, b) => a + b, 0), 0);
      if (!div || empty(div, !categories || categories.length === 0 || total === 0)) return;
      draw(div, ["retweets", "replies", "quotes"].map((k) => ({
        x: categories, y: values[k], name: k, type: "bar", marker: { color: COLORS[k] },
      })), { barmode: "group", hovermode: "closest", xaxis: { type: "category" } });
    },

    // Every chart div on the page, from the JSON its container carries.
    renderAll(root) {
      const scope = root || document;
      const holder = scope.querySelector("[data-charts]");
      if (holder) {
        const data = JSON.parse(holder.dataset.charts);
        charts.metrics(scope.querySelector("#chart-metrics"), data.metrics);
        charts.timeline(scope.querySelector("#chart-timeline"), data.timeline);
        if ("account_categories" in data) charts.pie(scope.querySelector("#chart-pie"), data.account_categories);
      }
      const timelines = scope.querySelector("[data-timelines]");
      if (timelines) charts.categoryTimeline(scope.querySelector("#chart-category-timeline"), JSON.parse(timelines.dataset.timelines));
      const actions = scope.querySelector("#chart-category-actions");
      if (actions) charts.categoryActions(actions, JSON.parse(actions.dataset.cards), JSON.parse(actions.dataset.values));
    },
  };
  window.socapCharts = charts;
})();
