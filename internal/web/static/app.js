// mwledger page. Deal data comes from news articles and is hostile: the DOM is
// built with createElement/textContent only (never innerHTML), links are
// limited to http(s) URLs, and the server's CSP forbids inline script.
"use strict";

const PAGE = 50;
const state = { q: "", type: "", operator: "", hyperscaler: false, review: false, sort: "value", order: "desc", from: 0 };
const SVGNS = "http://www.w3.org/2000/svg";

function el(tag, cls, ...children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function safeLink(url, text) {
  let u;
  try { u = new URL(url); } catch (_) { return el("span", null, text || String(url)); }
  if (u.protocol !== "http:" && u.protocol !== "https:") return el("span", null, text || String(url));
  const a = el("a", null, text || u.href);
  a.href = u.href;
  a.rel = "noopener noreferrer nofollow";
  a.target = "_blank";
  return a;
}

function money(v) {
  if (v === null || v === undefined) return "–";
  if (v >= 1e9) return "$" + (v / 1e9).toFixed(2) + "B";
  if (v >= 1e6) return "$" + (v / 1e6).toFixed(2) + "M";
  return "$" + Math.round(v).toLocaleString("en-US");
}
function num(v, d) { return v === null || v === undefined ? "–" : Number(v).toFixed(d || 0); }
function label(cp) { return (cp && (cp.name || cp.descriptor)) || "undisclosed"; }

function params(extra) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.type) p.set("type", state.type);
  if (state.operator) p.set("operator", state.operator);
  if (state.hyperscaler) p.set("hyperscaler", "true");
  if (state.review) p.set("needs-review", "true");
  for (const [k, v] of Object.entries(extra || {})) p.set(k, String(v));
  return p;
}

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

async function search() {
  const summary = document.getElementById("summary");
  summary.textContent = "searching …";
  const p = params({ sort: state.sort, order: state.order, limit: PAGE, from: state.from });
  const exp = params({ sort: state.sort, order: state.order }).toString();
  document.getElementById("export").href = "/api/export.csv?" + exp;
  document.getElementById("export-json").href = "/api/export.json?" + exp;
  try {
    const res = await getJSON("/api/deals?" + p.toString());
    renderTable(res);
    summary.textContent = res.total + " deal(s)" + (state.q ? " matching “" + state.q + "”" : "");
    const last = Math.min(state.from + PAGE, res.total);
    document.getElementById("page").textContent = res.total ? (state.from + 1) + "–" + last + " of " + res.total : "";
    document.getElementById("prev").disabled = state.from === 0;
    document.getElementById("next").disabled = last >= res.total;
  } catch (e) {
    summary.textContent = "error: " + e.message;
  }
  charts();
}

function renderTable(res) {
  const tbody = document.querySelector("#deals tbody");
  tbody.replaceChildren();
  for (const d of res.deals) {
    const cp = el("td", d.counterparty.hyperscaler ? "hyper" : null, label(d.counterparty));
    const tr = el("tr", null,
      el("td", null, d.operator.name), cp, el("td", null, d.contract_type),
      el("td", "num", num(d.capacity_mw)), el("td", "num", money(d.total_value_usd)), el("td", "num", num(d.term_years, 1)),
      el("td", "num", money(d.usd_per_mw_year)), el("td", null, d.announced_on || "–"),
      el("td", "num", num(d.confidence, 2)), el("td", "num", (d.sources || []).length), reviewCell(d));
    tr.dataset.id = d.id;
    tr.addEventListener("click", () => { location.hash = "#/deal/" + encodeURIComponent(d.id); });
    tbody.append(tr);
  }
  for (const th of document.querySelectorAll("th.sortable")) {
    th.classList.toggle("active", th.dataset.sort === state.sort);
    th.title = th.dataset.sort === state.sort ? (state.order === "desc" ? "sorted descending" : "sorted ascending") : "sort";
  }
}

function barChart(container, rows, value, fmt, opts) {
  const w = 520, rowH = 20, left = 140, pad = 60;
  const data = rows.filter(r => value(r) !== null && value(r) !== undefined);
  const h = Math.max(rowH * data.length + 10, 30);
  const s = svg("svg", { width: w, height: h, viewBox: "0 0 " + w + " " + h, role: "img" });
  const max = Math.max(1, ...data.map(r => (opts && opts.hi ? opts.hi(r) : value(r)) || 0));
  const scale = v => (w - left - pad) * v / max;
  data.forEach((r, i) => {
    const y = 5 + i * rowH;
    const name = svg("text", { x: left - 6, y: y + 13, "text-anchor": "end" });
    name.textContent = r.key.length > 22 ? r.key.slice(0, 21) + "…" : r.key;
    s.append(name);
    s.append(svg("rect", { x: left, y: y + 2, width: Math.max(1, scale(value(r))), height: rowH - 6, class: "bar" }));
    if (opts && opts.lo && opts.hi && opts.lo(r) !== null) {
      s.append(svg("line", { x1: left + scale(opts.lo(r)), x2: left + scale(opts.hi(r)), y1: y + rowH / 2, y2: y + rowH / 2, class: "range" }));
    }
    const t = svg("text", { x: left + scale((opts && opts.hi ? opts.hi(r) : value(r)) || 0) + 4, y: y + 13 });
    t.textContent = fmt(value(r));
    s.append(t);
  });
  container.replaceChildren(data.length ? s : el("p", null, "no data"));
}

async function charts() {
  const p = params().toString();
  try {
    const [byType, byQuarter, byOp] = await Promise.all([
      getJSON("/api/aggregations/by-type?" + p), getJSON("/api/aggregations/by-quarter?" + p), getJSON("/api/aggregations/by-operator?" + p)]);
    barChart(document.getElementById("chart-type"), byType.rows, r => r.usd_per_mw_year.median, money,
      { lo: r => r.usd_per_mw_year.min, hi: r => r.usd_per_mw_year.max });
    barChart(document.getElementById("chart-quarter"), byQuarter.rows.filter(r => r.key !== "unknown"), r => r.usd_per_mw_year.median, money);
    barChart(document.getElementById("chart-operator"), byOp.rows.slice(0, 15), r => r.mw, v => num(v) + " MW");
  } catch (e) {
    document.getElementById("chart-type").replaceChildren(el("p", "warn", "charts unavailable: " + e.message));
  }
}

async function loadOperators() {
  try {
    const res = await getJSON("/api/aggregations/by-operator");
    const sel = document.getElementById("operator");
    for (const r of res.rows.map(r => r.key).sort()) {
      const o = el("option", null, r);
      o.value = r;
      sel.append(o);
    }
  } catch (_) { /* the facet stays "any operator" */ }
}

function reviewCell(d) {
  if ((d.review_reasons || []).length) {
    const td = el("td", "warn", "⚑ " + d.review_reasons[0] + (d.review_reasons.length > 1 ? " (+" + (d.review_reasons.length - 1) + ")" : ""));
    td.title = d.review_reasons.join("; ");
    return td;
  }
  return el("td", "ok", d.review ? "✓ " + d.review.status : "");
}

// The reviewer's token (printed by mwledger serve), or user:password for a
// basic-auth account, is kept for this tab only; the server names the
// reviewer from it.
function credential() { try { return sessionStorage.getItem("mwledger-token") || ""; } catch (_) { return ""; } }
function rememberCredential(v) { try { sessionStorage.setItem("mwledger-token", v); } catch (_) { /* private mode */ } }
function authorization(c) {
  const i = c.indexOf(":");
  if (i > 0) return "Basic " + btoa(unescape(encodeURIComponent(c)));
  return "Bearer " + c;
}

async function postReview(id, body, cred) {
  const r = await fetch("/api/deals/" + encodeURIComponent(id) + "/review", {
    method: "POST", credentials: "same-origin", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: authorization(cred) },
  });
  const res = await r.json();
  if (!r.ok) throw new Error(res.error || r.statusText);
  return res;
}

// reviewBox shows why the deal is queued, its review, and the reviewer's form.
async function reviewBox(d) {
  const box = el("section", "review-box", el("h3", null, "Review"));
  box.id = "review";
  if ((d.review_reasons || []).length) {
    const ul = el("ul", "warn");
    for (const r of d.review_reasons) ul.append(el("li", null, r));
    box.append(el("p", null, "In the review queue:"), ul);
  } else if (!d.review) {
    box.append(el("p", null, "Not in the review queue."));
  }
  if (d.review) {
    box.append(el("p", "ok", d.review.status + " by " + d.review.by + " on " + (d.review.at || "").slice(0, 10) + (d.review.note ? ": " + d.review.note : "")));
    if ((d.review.corrections || []).length) {
      const t = el("table", "corrections", el("thead", null, el("tr", null, el("th", null, "Field"), el("th", null, "Sources said"), el("th", null, "Corrected to"))));
      const tb = el("tbody");
      for (const c of d.review.corrections) tb.append(el("tr", null, el("td", null, c.field), el("td", null, c.was || "–"), el("td", null, c.value || "(not known)")));
      t.append(tb);
      box.append(t);
    }
  }
  let fields = [];
  try { fields = await getJSON("/api/review-fields"); } catch (_) { /* the form still accepts/resets */ }
  const form = el("form", null);
  form.id = "review-form";
  const who = el("input");
  who.type = "password"; who.id = "review-token"; who.placeholder = "review token (or user:password)"; who.value = credential(); who.required = true;
  who.autocomplete = "current-password";
  const field = el("select");
  field.id = "review-field";
  for (const f of fields) { const o = el("option", null, f); o.value = f; field.append(o); }
  const value = el("input");
  value.type = "text"; value.id = "review-value"; value.placeholder = "new value (- = not known)";
  const note = el("input");
  note.type = "text"; note.id = "review-note"; note.placeholder = "note (why)";
  const pending = [];
  const list = el("ul");
  const add = el("button", null, "Add correction");
  add.type = "button"; add.id = "review-add";
  add.addEventListener("click", () => {
    if (!field.value) return;
    const i = pending.findIndex(c => c.field === field.value);
    if (i >= 0) pending.splice(i, 1);
    pending.push({ field: field.value, value: value.value.trim() });
    list.replaceChildren(...pending.map(c => el("li", null, c.field + " → " + (c.value || "(not known)"))));
    value.value = "";
  });
  const status = el("p", null);
  status.id = "review-status";
  const send = async (action) => {
    const cred = who.value.trim();
    if (!cred) { status.textContent = "give your review token first"; return; }
    rememberCredential(cred);
    const body = { action, note: note.value.trim() };
    if (action === "correct") {
      if (!pending.length) { status.textContent = "add a correction first"; return; }
      body.corrections = pending;
    }
    status.textContent = "saving …";
    try {
      await postReview(d.id, body, cred);
      status.textContent = "saved";
      showDeal(d.id);
    } catch (e) {
      status.textContent = "error: " + e.message;
    }
  };
  const mk = (text, id, action) => { const b = el("button", null, text); b.type = "button"; b.id = id; b.addEventListener("click", () => send(action)); return b; };
  form.append(who, " ", field, " ", value, " ", add, list, note, " ",
    mk("Save corrections", "review-correct", "correct"), " ", mk("Accept as shown", "review-accept", "accept"), " ", mk("Reset review", "review-reset", "reset"));
  form.addEventListener("submit", ev => ev.preventDefault());
  box.append(form, status);
  return box;
}

function facts(pairs) {
  const dl = el("dl", "facts");
  for (const [k, v] of pairs) dl.append(el("dt", null, k), el("dd", null, v === null || v === undefined || v === "" ? "–" : v));
  return dl;
}

async function showDeal(id) {
  const view = document.getElementById("deal-view");
  document.getElementById("search-view").hidden = true;
  view.hidden = false;
  view.replaceChildren(el("p", null, "loading …"));
  let d;
  try {
    d = await getJSON("/api/deals/" + encodeURIComponent(id));
  } catch (e) {
    view.replaceChildren(el("p", "warn", "error: " + e.message));
    return;
  }
  const back = el("a", null, "‹ back to the search");
  back.href = "#/";
  const parts = [back, el("h2", null, d.operator.name + " — " + label(d.counterparty))];
  parts.push(facts([
    ["Contract type", d.contract_type], ["Capacity", num(d.capacity_mw) + " MW"], ["Value", money(d.total_value_usd)],
    ["Term", num(d.term_years, 1) + " years"], ["$/MW/year (derived)", money(d.usd_per_mw_year)],
    ["$/MW/year (reported)", money(d.reported_usd_per_mw_year)], ["Hyperscaler counterparty", d.counterparty.hyperscaler ? "yes" : "no"],
    ["End user", d.end_user && d.end_user.name], ["Guarantor", d.guarantor && d.guarantor.name],
    ["Terms", (d.terms || []).join(", ")], ["Location", d.location], ["Hardware", d.hardware],
    ["Announced", d.announced_on], ["Status", d.status], ["Confidence", num(d.confidence, 2)], ["Deal id", d.id],
  ]));
  if (d.current) parts.push(el("p", null, "After lifecycle events: " + num(d.current.capacity_mw) + " MW, " + money(d.current.total_value_usd) + ", " + num(d.current.term_years, 1) + " years"));
  if ((d.warnings || []).length) {
    parts.push(el("h3", null, "Warnings"));
    const ul = el("ul", "warn");
    for (const w of d.warnings) ul.append(el("li", null, w));
    parts.push(ul);
  }
  if ((d.conflicts || []).length) parts.push(el("p", "warn", "Sources disagree on: " + d.conflicts.join(", ")));
  parts.push(await reviewBox(d));
  parts.push(el("h3", null, "Sources (" + (d.sources || []).length + ")"));
  for (const s of d.sources || []) {
    const box = el("div", "source", el("div", null, safeLink(s.url, s.title || s.url)),
      el("div", null, [s.outlet, s.published_at, s.role, "authority " + s.authority + (s.authority_reason ? " (" + s.authority_reason + ")" : "")].filter(Boolean).join(" · ")));
    for (const ev of s.evidence || []) box.append(el("blockquote", "evidence", ev));
    parts.push(box);
  }
  if ((d.provenance || []).length) {
    parts.push(el("h3", null, "Provenance"));
    const t = el("table", null, el("thead", null, el("tr", null, el("th", null, "Field"), el("th", null, "Value"), el("th", null, "Shown"), el("th", null, "Sources"))));
    const tb = el("tbody");
    for (const p of d.provenance) {
      const srcs = el("td");
      for (const u of p.sources || []) srcs.append(safeLink(u), el("br"));
      tb.append(el("tr", null, el("td", null, p.field), el("td", null, p.value), el("td", null, p.shown ? "✓" : ""), srcs));
    }
    t.append(tb);
    parts.push(t);
  }
  if ((d.events || []).length) {
    parts.push(el("h3", null, "History"));
    const ul = el("ul");
    for (const e of d.events) {
      const bits = [e.type, e.on, e.added_mw ? "+" + num(e.added_mw) + " MW" : null, e.added_value_usd ? "+" + money(e.added_value_usd) : null,
        e.new_capacity_mw ? "now " + num(e.new_capacity_mw) + " MW" : null].filter(Boolean);
      ul.append(el("li", null, bits.join(" · ") + " (" + (e.sources || []).length + " source(s))"));
    }
    parts.push(ul);
  }
  view.replaceChildren(...parts);
  document.title = "mwledger — " + d.operator.name + " / " + label(d.counterparty);
}

function route() {
  const m = location.hash.match(/^#\/deal\/(.+)$/);
  if (m) {
    showDeal(decodeURIComponent(m[1]));
    return;
  }
  document.getElementById("deal-view").hidden = true;
  document.getElementById("search-view").hidden = false;
  if (route.started && hashSearch()) search();
  route.started = true;
  document.title = "mwledger — compute-infrastructure deals";
}

function init() {
  const form = document.getElementById("search-form");
  form.addEventListener("submit", ev => {
    ev.preventDefault();
    state.q = document.getElementById("q").value.trim();
    state.type = document.getElementById("type").value;
    state.operator = document.getElementById("operator").value;
    state.hyperscaler = document.getElementById("hyperscaler").checked;
    state.review = document.getElementById("needs-review").checked;
    state.from = 0;
    search();
  });
  for (const id of ["type", "operator", "hyperscaler", "needs-review"]) {
    document.getElementById(id).addEventListener("change", () => form.requestSubmit());
  }
  for (const th of document.querySelectorAll("th.sortable")) {
    th.addEventListener("click", () => {
      if (state.sort === th.dataset.sort) state.order = state.order === "desc" ? "asc" : "desc";
      else { state.sort = th.dataset.sort; state.order = "desc"; }
      state.from = 0;
      search();
    });
  }
  document.getElementById("prev").addEventListener("click", () => { state.from = Math.max(0, state.from - PAGE); search(); });
  document.getElementById("next").addEventListener("click", () => { state.from += PAGE; search(); });
  window.addEventListener("hashchange", route);
  hashSearch();
  loadOperators().then(() => { document.getElementById("operator").value = state.operator; });
  search();
  route();
}

// hashSearch takes a search from a link: #/?q=childress&type=colocation&hyperscaler=true&needs-review=true
function hashSearch() {
  const m = location.hash.match(/^#\/\?(.*)$/);
  if (!m) return false;
  const p = new URLSearchParams(m[1]);
  state.q = p.get("q") || "";
  state.type = p.get("type") || "";
  state.operator = p.get("operator") || "";
  state.hyperscaler = p.get("hyperscaler") === "true";
  state.review = p.get("needs-review") === "true";
  state.from = 0;
  document.getElementById("q").value = state.q;
  document.getElementById("type").value = state.type;
  document.getElementById("operator").value = state.operator;
  document.getElementById("hyperscaler").checked = state.hyperscaler;
  document.getElementById("needs-review").checked = state.review;
  return true;
}

document.addEventListener("DOMContentLoaded", init);
