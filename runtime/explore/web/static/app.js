// llmap explorer: plain JavaScript, no libraries. Every request goes to
// the server that served this page: /v1/chat/completions for the chat,
// /api/* for the rest (see docs/explorer.md).
"use strict";

const $ = (id) => document.getElementById(id);
const el = (tag, attrs, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
};
// show a token's text with its spaces and newlines visible
const shown = (s) => JSON.stringify(s);

function showError(msg) {
  const e = $("error");
  e.textContent = msg;
  e.hidden = !msg;
}

// api posts body to path and returns the parsed JSON, or throws an Error
// with the server's message.
async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    throw new Error((data && data.error && data.error.message) || `${path}: HTTP ${res.status}`);
  }
  return data;
}

// run calls f, showing its error instead of letting it reach the console.
async function run(f) {
  try {
    showError("");
    await f();
  } catch (err) {
    showError(err.message || String(err));
  }
}

// ---- views and tabs

const views = ["chat", "next", "map", "context"];
const started = {};
let info = null;

function showView() {
  let name = location.hash.slice(1);
  if (!views.includes(name)) name = "chat";
  for (const v of views) $("view-" + v).hidden = v !== name;
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.view === name);
  document.body.dataset.view = name;
  if (!started[name]) {
    started[name] = true;
    const first = { next: showNext, map: () => Promise.all([drawMap(), findNearest(), solveAnalogy()]), context: runContext }[name];
    if (first) run(first);
  }
}

// ---- chat

const chat = { messages: [], abort: null };

function addMessage(role, text) {
  const m = el("div", { class: "msg " + role, "data-role": role }, text);
  $("chat-log").append(m);
  return m;
}

async function sendChat(ev) {
  ev.preventDefault();
  const text = $("chat-input").value.trim();
  if (!text || chat.abort) return;
  $("chat-input").value = "";
  chat.messages.push({ role: "user", content: text });
  addMessage("user", text);
  const reply = addMessage("assistant", "");
  reply.classList.add("streaming");
  chat.abort = new AbortController();
  $("chat-send").disabled = true;
  $("chat-stop").disabled = false;
  let content = "";
  try {
    const res = await fetch("/v1/chat/completions", {
      method: "POST", headers: { "Content-Type": "application/json" }, signal: chat.abort.signal,
      body: JSON.stringify({
        messages: chat.messages, stream: true,
        temperature: Number($("chat-temp").value), max_tokens: Number($("chat-max").value),
      }),
    });
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      throw new Error((data && data.error && data.error.message) || `HTTP ${res.status}`);
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
        if (delta && delta.content) {
          content += delta.content;
          reply.textContent = content;
          reply.dataset.chunks = String(Number(reply.dataset.chunks || 0) + 1);
        }
      }
    }
  } catch (err) {
    if (err.name !== "AbortError") showError(err.message);
  } finally {
    reply.classList.remove("streaming");
    reply.dataset.done = "true";
    chat.messages.push({ role: "assistant", content });
    chat.abort = null;
    $("chat-send").disabled = false;
    $("chat-stop").disabled = true;
  }
}

// ---- next token

const next = { data: null };

async function showNext(ev) {
  if (ev) ev.preventDefault();
  const data = await api("/api/next", { prompt: $("next-prompt").value, top_k: Number($("next-k").value) });
  next.data = data;
  const toks = $("next-prompt-tokens");
  toks.replaceChildren(...data.prompt_tokens.map((t) => el("span", { class: "tok", title: "id " + t.id }, shown(t.token))));
  drawBars();
}

// probabilities returns softmax(logits / t) at the ids, over the whole
// vocabulary; t = 0 gives 1 to the first largest logit.
function probabilities(logits, ids, t) {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (t === 0) return ids.map((id) => (id === best ? 1 : 0));
  const max = logits[best];
  let sum = 0;
  for (const l of logits) sum += Math.exp((l - max) / t);
  return ids.map((id) => Math.exp((logits[id] - max) / t) / sum);
}

function drawBars() {
  const data = next.data;
  if (!data) return;
  const t = Number($("next-temp").value);
  $("next-temp-value").textContent = t.toFixed(2);
  const probs = probabilities(data.logits, data.top.map((e) => e.id), t);
  const rows = data.top.map((e, i) => barRow(shown(e.token), probs[i], "bar-row", e, () => appendToken(e.token)));
  const rest = Math.max(0, 1 - probs.reduce((a, b) => a + b, 0));
  rows.push(barRow(`the other ${data.logits.length - data.top.length} tokens`, rest, "bar-row other", null, null));
  $("next-bars").replaceChildren(...rows);
  $("next-bars").dataset.temperature = String(t);
  $("next-summary").textContent = `top ${data.top.length} of ${data.logits.length} tokens hold ${(100 * (1 - rest)).toFixed(1)}% at T = ${t.toFixed(2)}`;
}

function barRow(label, p, cls, entry, onClick) {
  const name = onClick ? el("button", { class: "token label", type: "button", title: `id ${entry.id}, logit ${entry.logit.toFixed(3)}`, onclick: onClick }, label)
    : el("span", { class: "label" }, label);
  const row = el("div", { class: cls, "data-prob": String(p) },
    name, el("div", { class: "track" }, el("div", { class: "fill" })), el("span", { class: "pct" }, (100 * p).toFixed(1) + "%"));
  if (entry) row.dataset.id = String(entry.id);
  row.querySelector(".fill").style.width = (100 * p).toFixed(2) + "%";
  return row;
}

function appendToken(text) {
  $("next-prompt").value += text;
  run(showNext);
}

// ---- embedding map, nearest, analogy

function words(s) {
  return s.split(/[\s,]+/).filter((w) => w !== "");
}

async function drawMap(ev) {
  if (ev) ev.preventDefault();
  const pairs = $("map-pairs").value.split(",").map((p) => p.trim()).filter((p) => p !== "").map((p) => {
    const ab = p.split(":").map((w) => w.trim());
    if (ab.length !== 2 || !ab[0] || !ab[1]) throw new Error(`pair "${p}" is not FROM:TO`);
    return ab;
  });
  const data = await api("/api/map", { words: words($("map-words").value), pairs, basis: $("map-basis").value });
  $("map-title").textContent = data.title;
  const doc = new DOMParser().parseFromString(data.svg, "image/svg+xml");
  const svg = document.importNode(doc.documentElement, true);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  for (const c of svg.querySelectorAll("circle.point")) {
    c.addEventListener("click", () => { $("nearest-word").value = c.getAttribute("data-word"); run(findNearest); });
  }
  $("map-picture").replaceChildren(svg);
  const table = $("map-pairs-table");
  table.hidden = data.pairs.length < 2;
  table.tBodies[0].replaceChildren(...data.pairs.map((p, i) => el("tr", {},
    el("td", {}, `${p.from} \u2192 ${p.to}`), el("td", {}, i === 0 ? "1 (the first)" : p.cosine_with_first.toFixed(3)))));
}

function scoreList(list, results) {
  list.replaceChildren(...results.map((r) => el("li", { "data-token": r.token },
    shown(r.token), el("span", { class: "score" }, r.score.toFixed(4)))));
}

async function findNearest(ev) {
  if (ev) ev.preventDefault();
  const data = await api("/api/nearest", { word: $("nearest-word").value, k: 10 });
  scoreList($("nearest-list"), data.results);
}

async function solveAnalogy(ev) {
  if (ev) ev.preventDefault();
  const data = await api("/api/analogy", { a: $("analogy-a").value, b: $("analogy-b").value, c: $("analogy-c").value, k: 5 });
  scoreList($("analogy-list"), data.results);
}

// ---- context

const ctx = { data: null, position: -1 };

async function runContext(ev) {
  if (ev) {
    ev.preventDefault();
    ctx.position = -1;
  }
  const data = await api("/api/context", { text: $("context-text").value, position: ctx.position });
  ctx.data = data;
  ctx.position = data.position;
  fillSelect($("context-layer"), data.layers, (i) => `block ${i + 1}`, data.layers - 1);
  fillSelect($("context-head"), data.heads, (i) => `head ${i + 1}`, 0, "mean of the heads");
  $("context-tokens").replaceChildren(...data.tokens.map((t, i) => {
    const chip = el("span", { class: "tok" + (i === data.position ? " chosen" : ""), title: `position ${i}, id ${t.id}`, "data-pos": String(i) }, shown(t.token));
    chip.addEventListener("click", () => { ctx.position = i; run(runContext); });
    return chip;
  }));
  $("context-next").textContent = `most likely next token after the text: ${shown(data.next.token)}`;
  drawChart();
  drawStrip();
}

// fillSelect gives a select n options (and an extra one, value -1), keeping its choice.
function fillSelect(sel, n, name, def, extra) {
  const keep = sel.options.length ? sel.value : String(def);
  const opts = [];
  if (extra) opts.push(el("option", { value: "-1" }, extra));
  for (let i = 0; i < n; i++) opts.push(el("option", { value: String(i) }, name(i)));
  sel.replaceChildren(...opts);
  sel.value = keep;
  if (sel.selectedIndex < 0) sel.value = String(def);
}

const SVG = "http://www.w3.org/2000/svg";
const svgEl = (tag, attrs) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
};

// drawChart plots each token's similarity to its embedding after each
// block: the chosen token in colour, the others faint.
function drawChart() {
  const d = ctx.data;
  const W = 420, H = 240, L = 40, R = 12, T = 12, B = 34;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  let lo = 0;
  for (const row of d.similarity) for (const v of row) lo = Math.min(lo, v);
  lo = Math.floor(lo * 5) / 5;
  const x = (l) => L + (d.layers === 1 ? 0 : (l * (W - L - R)) / d.layers);
  const y = (v) => T + ((1 - v) * (H - T - B)) / (1 - lo);
  for (let v = lo; v <= 1.0001; v += 0.2) {
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eee" }));
    const t = svgEl("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#666" });
    t.textContent = v.toFixed(1);
    svg.append(t);
  }
  for (let l = 0; l <= d.layers; l++) {
    const t = svgEl("text", { x: x(l), y: H - B + 16, "text-anchor": "middle", "font-size": 11, fill: "#666" });
    t.textContent = l === 0 ? "embedding" : String(l);
    svg.append(t);
  }
  const label = svgEl("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", "font-size": 11, fill: "#666" });
  label.textContent = "after block";
  svg.append(label);
  const line = (row, color, width, cls) => {
    const pts = [[x(0), y(1)], ...row.map((v, l) => [x(l + 1), y(v)])];
    svg.append(svgEl("polyline", { points: pts.map((p) => p.join(",")).join(" "), fill: "none", stroke: color, "stroke-width": width, class: cls }));
    return pts;
  };
  d.similarity.forEach((row, i) => { if (i !== d.position) line(row, "#ccc", 1, "other"); });
  const pts = line(d.similarity[d.position], "#1f4e9c", 2.5, "chosen");
  for (const [px, py] of pts) svg.append(svgEl("circle", { cx: px, cy: py, r: 3, fill: "#1f4e9c" }));
  $("context-chart").replaceChildren(svg);
}

// drawStrip shades the positions up to the chosen one by the attention
// weight the chosen block and head give them.
function drawStrip() {
  const d = ctx.data;
  const l = Number($("context-layer").value), h = Number($("context-head").value);
  const heads = d.attention[l];
  const w = heads[0].map((_, t) => (h >= 0 ? heads[h][t] : heads.reduce((s, row) => s + row[t], 0) / heads.length));
  const max = Math.max(...w);
  $("context-strip").replaceChildren(...w.map((v, t) => {
    const cell = el("div", { class: "cell", title: `position ${t}: weight ${v.toFixed(4)}`, "data-weight": String(v) },
      shown(d.tokens[t].token), el("small", {}, v.toFixed(2)));
    const a = max > 0 ? v / max : 0;
    cell.style.background = `rgba(31, 78, 156, ${a.toFixed(3)})`;
    cell.style.color = a > 0.55 ? "#fff" : "#222";
    return cell;
  }));
}

// ---- start

async function start() {
  $("chat-form").addEventListener("submit", sendChat);
  $("chat-stop").addEventListener("click", () => chat.abort && chat.abort.abort());
  $("chat-clear").addEventListener("click", () => { chat.messages = []; $("chat-log").replaceChildren(); });
  $("chat-input").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("chat-form").requestSubmit(); }
  });
  $("next-form").addEventListener("submit", (e) => run(() => showNext(e)));
  $("next-temp").addEventListener("input", drawBars);
  $("map-form").addEventListener("submit", (e) => run(() => drawMap(e)));
  $("nearest-form").addEventListener("submit", (e) => run(() => findNearest(e)));
  $("analogy-form").addEventListener("submit", (e) => run(() => solveAnalogy(e)));
  $("context-form").addEventListener("submit", (e) => run(() => runContext(e)));
  $("context-layer").addEventListener("change", drawStrip);
  $("context-head").addEventListener("change", drawStrip);
  window.addEventListener("hashchange", showView);
  await run(async () => {
    info = await api("/api/info");
    $("model-name").textContent = info.model;
    $("model-shape").textContent = `${info.arch}: ${info.layers} blocks, ${info.heads} heads, dim ${info.dim}, ${info.vocab_size} tokens`;
    $("next-k").max = info.max_top_k;
  });
  showView();
}

start();
