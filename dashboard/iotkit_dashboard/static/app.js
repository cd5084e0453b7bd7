/* libiotkit dashboard: the page. Live updates from /api/stream (Server-Sent Events),
   controls through the JSON API; no page reloads. */
"use strict";

const $ = (sel) => document.querySelector(sel);
const devices = new Map();   // id -> device (as /api/devices gives it)
let selected = null;         // selected device id
let chart = null;            // uPlot of the selected device
let chartData = null;        // [[ts s...], [temperature...], [humidity...]]
let info = {};
const METRICS = ["temperature", "humidity"];
const MAX_CHART_POINTS = 600;

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function ago(ms) {
  if (!ms) return "never";
  const s = Math.max(0, (Date.now() - ms) / 1000);
  return s < 60 ? s.toFixed(0) + " s ago" : s < 3600 ? (s / 60).toFixed(0) + " min ago" : new Date(ms).toLocaleString();
}

function statusOf(d) { return !d.online ? "offline" : d.stale ? "stale" : "online"; }

function valuesText(d) {
  return Object.entries(d.latest || {}).map(([k, v]) => `${k}=${typeof v.value === "number" ? +v.value.toFixed(2) : v.value}`).join(" ");
}

/* ---- the device list ---- */
function matches(d, f) {
  if (!f) return true;
  return [d.id, d.name, d.transport, statusOf(d), ...(d.tags || [])].some((x) => String(x).toLowerCase().includes(f));
}

function renderRow(d) {
  const tbody = $("#devices tbody");
  let tr = tbody.querySelector(`tr[data-id="${CSS.escape(d.id)}"]`);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.id = d.id;
    tr.addEventListener("click", () => select(d.id));
    const rows = [...tbody.children];
    const after = rows.find((r) => r.dataset.id > d.id);
    tbody.insertBefore(tr, after || null);
  }
  const st = statusOf(d);
  tr.dataset.status = st;
  tr.innerHTML = `<td class="id">${esc(d.id)}</td><td class="status"><span class="badge ${st}">${st}</span></td>` +
    `<td class="transport">${esc(d.transport)}</td><td class="firmware mono">${esc(d.firmware || "–")}</td>` +
    `<td class="last-seen" data-ms="${d.last_seen || 0}">${ago(d.last_seen)}</td><td class="values mono">${esc(valuesText(d))}</td>`;
  tr.classList.toggle("selected", d.id === selected);
  tr.hidden = !matches(d, $("#filter").value.trim().toLowerCase());
}

function renderSummary() {
  const all = [...devices.values()];
  $("#summary").textContent = `${all.filter((d) => d.online).length} of ${all.length} online`;
}

function updateDevice(d) {
  devices.set(d.id, d);
  renderRow(d);
  renderSummary();
  if (d.id === selected) $(".selected-name").textContent = `(${d.id}: ${statusOf(d)})`;
}

$("#filter").addEventListener("input", () => devices.forEach(renderRow));
setInterval(() => document.querySelectorAll("td.last-seen").forEach((td) => { td.textContent = ago(+td.dataset.ms); }), 1000);

/* ---- the chart ---- */
function makeChart() {
  const el = $("#chart");
  el.innerHTML = "";
  const width = Math.max(320, el.clientWidth || 480);
  chart = new uPlot({
    width, height: 240,
    series: [{}, { label: "temperature", stroke: "#dc2626", scale: "t", value: (u, v) => v == null ? "–" : v.toFixed(2) + " °C" },
      { label: "humidity", stroke: "#2563eb", scale: "h", value: (u, v) => v == null ? "–" : v.toFixed(1) + " %" }],
    axes: [{}, { scale: "t", label: "°C" }, { scale: "h", side: 1, label: "%", grid: { show: false } }],
  }, chartData, el);
}

function showLatest() {
  const n = chartData ? chartData[0].length : 0;
  if (!n) { $("#chart-latest").textContent = "no readings yet"; return; }
  const t = chartData[1][n - 1], h = chartData[2][n - 1];
  $("#chart-latest").textContent = `${n} points · latest ${new Date(chartData[0][n - 1] * 1000).toLocaleTimeString()}: ` +
    `temperature=${t == null ? "–" : t.toFixed(2)} humidity=${h == null ? "–" : h.toFixed(1)}`;
}

function addPoints(points) {
  const byTs = new Map();
  for (const p of points) {
    const i = METRICS.indexOf(p.name);
    if (i < 0) continue;
    if (!byTs.has(p.ts)) byTs.set(p.ts, [null, null]);
    byTs.get(p.ts)[i] = p.value;
  }
  for (const [ts, vals] of [...byTs.entries()].sort((a, b) => a[0] - b[0])) {
    chartData[0].push(ts / 1000);
    chartData[1].push(vals[0]);
    chartData[2].push(vals[1]);
  }
  if (chartData[0].length > MAX_CHART_POINTS) chartData.forEach((a) => a.splice(0, a.length - MAX_CHART_POINTS));
}

async function loadHistory(id) {
  const r = await fetch(`/api/devices/${encodeURIComponent(id)}/history`);
  const h = await r.json();
  chartData = [[], [], []];
  const points = [];
  for (const [name, pts] of Object.entries(h.metrics || {})) for (const [ts, value] of pts) points.push({ name, ts, value });
  addPoints(points);
  makeChart();
  showLatest();
}

/* ---- selection ---- */
async function select(id) {
  selected = id;
  $("#selected").textContent = id;
  document.querySelectorAll("#devices tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === id));
  const d = devices.get(id);
  $(".selected-name").textContent = d ? `(${id}: ${statusOf(d)})` : `(${id})`;
  $("#command-result").textContent = "";
  $("#desired-result").textContent = "";
  await Promise.all([loadHistory(id), loadDesired(id)]);
}

/* ---- controls ---- */
function setResult(el, ok, text) {
  el.className = "result " + (ok ? "ok" : "error");
  el.textContent = text;
}

function parseObject(text, what, allowEmpty) {
  const t = text.trim();
  if (!t && allowEmpty) return { ok: true, value: null };
  let v;
  try { v = JSON.parse(t); } catch (e) { return { ok: false, error: `${what} is not valid JSON: ${e.message}` }; }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return { ok: false, error: `${what} must be a JSON object` };
  return { ok: true, value: v };
}

async function api(method, path, body) {
  const r = await fetch(path, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  let j = null;
  try { j = await r.json(); } catch (e) { j = { message: r.statusText }; }
  if (!r.ok) {
    const msg = j && (j.message || (j.detail && JSON.stringify(j.detail))) || r.statusText;
    throw new Error(`${r.status} ${j && j.error ? j.error : ""}: ${msg}`);
  }
  return j;
}

$("#command-send").addEventListener("click", async () => {
  const out = $("#command-result");
  if (!selected) return setResult(out, false, "select a device first");
  const p = parseObject($("#command-params").value, "params", true);
  if (!p.ok) return setResult(out, false, p.error + " (nothing sent)");
  const name = $("#command-name").value, timeout = +$("#command-timeout").value || 5;
  setResult(out, true, `sending ${name} to ${selected}…`);
  const t0 = performance.now();
  try {
    const j = await api("POST", `/api/devices/${encodeURIComponent(selected)}/commands`, { name, params: p.value, timeout });
    setResult(out, true, `response in ${((performance.now() - t0) / 1000).toFixed(2)} s: ${JSON.stringify(j.result)}`);
  } catch (e) {
    setResult(out, false, `command ${name} failed: ${e.message}`);
  }
});

async function loadDesired(id) {
  try {
    const j = await api("GET", `/api/devices/${encodeURIComponent(id)}/desired`);
    $("#desired-editor").value = JSON.stringify(j.state, null, 1);
    $("#desired-version").textContent = j.version ? `version ${j.version}` : "none set yet";
  } catch (e) {
    setResult($("#desired-result"), false, e.message);
  }
}

$("#desired-apply").addEventListener("click", async () => {
  const out = $("#desired-result");
  if (!selected) return setResult(out, false, "select a device first");
  const p = parseObject($("#desired-editor").value, "the desired state", false);
  if (!p.ok) return setResult(out, false, p.error + " (nothing sent)");
  try {
    const j = await api("PATCH", `/api/devices/${encodeURIComponent(selected)}/desired`, { patch: p.value });
    setResult(out, true, `published version ${j.version}: ${JSON.stringify(j.state)}`);
    $("#desired-version").textContent = `version ${j.version}`;
  } catch (e) {
    setResult(out, false, `not applied: ${e.message}`);
  }
});

/* ---- rollouts ---- */
function setupRollouts() {
  if (!info.rollouts) {
    const u = $("#rollout-unavailable");
    u.hidden = false;
    u.textContent = info.rollouts_note || "OTA rollouts are not available";
    $("#rollout-form").hidden = true;
  }
}

/* ---- locations ---- */
const tracks = new Map(); // id -> [{lat, lon, ts}]
function drawMap() {
  const cv = $("#map"), g = cv.getContext("2d");
  g.clearRect(0, 0, cv.width, cv.height);
  const all = [...tracks.values()].flat().filter((p) => p.lat != null);
  if (!all.length) return;
  const lat0 = all.reduce((s, p) => s + p.lat, 0) / all.length, lon0 = all.reduce((s, p) => s + p.lon, 0) / all.length;
  const R = 6371000, k = Math.PI / 180;
  const xy = (p) => [(p.lon - lon0) * k * R * Math.cos(lat0 * k), (p.lat - lat0) * k * R];
  const pts = all.map(xy);
  const span = Math.max(50, ...pts.map(([x, y]) => Math.max(Math.abs(x), Math.abs(y)))) * 1.25;
  const sx = (x) => cv.width / 2 + (x / span) * (cv.width / 2 - 10), sy = (y) => cv.height / 2 - (y / span) * (cv.height / 2 - 10);
  g.strokeStyle = "#e5e7eb"; g.fillStyle = "#6b7280"; g.font = "11px sans-serif";
  g.beginPath(); g.moveTo(sx(0), 0); g.lineTo(sx(0), cv.height); g.moveTo(0, sy(0)); g.lineTo(cv.width, sy(0)); g.stroke();
  g.fillText(`${Math.round(span)} m`, cv.width - 50, sy(0) - 4);
  for (const [id, tr] of tracks) {
    if (!tr.length) continue;
    const d = devices.get(id), on = d && d.online;
    g.strokeStyle = id === selected ? "#2563eb" : "#93c5fd";
    g.beginPath();
    tr.forEach((p, i) => { const [x, y] = xy(p); i ? g.lineTo(sx(x), sy(y)) : g.moveTo(sx(x), sy(y)); });
    g.stroke();
    const [x, y] = xy(tr[tr.length - 1]);
    g.fillStyle = on ? "#059669" : "#dc2626";
    g.beginPath(); g.arc(sx(x), sy(y), 4, 0, 2 * Math.PI); g.fill();
    g.fillStyle = "#111827"; g.fillText(id, sx(x) + 6, sy(y) - 4);
  }
}

async function pollTracks() {
  for (const id of devices.keys()) {
    try {
      const j = await api("GET", `/api/devices/${encodeURIComponent(id)}/track`);
      tracks.set(id, j.points || []);
    } catch (e) { /* the next round tries again */ }
  }
  drawMap();
}

/* ---- events ---- */
function addEvent(ev) {
  const li = document.createElement("li");
  const data = ev.data && typeof ev.data === "object" ? Object.entries(ev.data).filter(([k]) => k !== "ts").map(([k, v]) => `${k}=${typeof v === "number" ? +v.toFixed(3) : v}`).join(" ") : "";
  li.innerHTML = `<span class="note">${new Date(ev.ts).toLocaleTimeString()}</span> <b>${esc(ev.id)}</b> <span class="type">${esc(ev.type)}</span> <span class="mono">${esc(data)}</span>`;
  const ol = $("#events");
  ol.insertBefore(li, ol.firstChild);
  while (ol.children.length > 100) ol.removeChild(ol.lastChild);
}

/* ---- the live stream ---- */
function connect() {
  const es = new EventSource("/api/stream");
  es.onopen = () => { $("#conn").textContent = "live"; $("#conn").className = "badge online"; };
  es.onerror = () => { $("#conn").textContent = "reconnecting…"; $("#conn").className = "badge offline"; };
  es.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.kind === "snapshot") {
      msg.data.forEach(updateDevice);
      if (!selected && msg.data.length) select(msg.data[0].id);
    } else if (msg.kind === "device") {
      updateDevice(msg.data);
    } else if (msg.kind === "telemetry") {
      if (msg.data.id === selected && chartData) {
        addPoints(msg.data.points);
        chart.setData(chartData);
        showLatest();
      }
    } else if (msg.kind === "event") {
      addEvent(msg.data);
    } else if (msg.kind === "connection") {
      $("#conn").textContent = msg.data.up ? "live" : "broker down";
      $("#conn").className = "badge " + (msg.data.up ? "online" : "offline");
    }
  };
}

async function init() {
  info = await api("GET", "/api/info");
  for (const c of info.commands || []) {
    const o = document.createElement("option");
    o.value = o.textContent = c;
    $("#command-name").appendChild(o);
  }
  $("#command-name").value = "set_interval";
  setupRollouts();
  (await api("GET", "/api/events")).forEach(addEvent);
  connect();
  if (info.locations) { pollTracks(); setInterval(pollTracks, 2000); } else {
    $("#map-note").textContent = "Locations are not available: this build's Python binding (iotkit.Fleet) has no location API yet.";
  }
}
init();
