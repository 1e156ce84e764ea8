// The myoexo operator console: telemetry over Server-Sent Events (/api/stream), commands by POST (/api/command)
// with the session token. Keeps the last 10 s of every trace and redraws at most once per animation frame.
"use strict";

const WINDOW_S = 10;
const INTENTS = ["rest", "lift", "lower", "gait", "hold"];
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
const state = { info: null, emgRaw: [], emgFilt: [], emgT: [], ticks: {}, probs: [], decT: [], active: [],
                framesSeen: 0, lastFrameAt: 0, dirty: false, events: [], now: null, lastRender: 0,
                pixelMs: [], pendingTiming: null, commands: [], decIntent: [] };
const $ = (id) => document.getElementById(id);

// Token: from the URL fragment (#token=...) the program prints, else typed in; never sent to viewers-only calls.
(function initToken() {
  const m = location.hash.match(/token=([0-9a-fA-F]+)/);
  if (m) $("token").value = m[1];
})();

async function command(cmd) {
  const token = $("token").value.trim();
  const t0 = performance.now();
  let res;
  try {
    res = await fetch("/api/command", {
      method: "POST", headers: { "Content-Type": "application/json", "X-Myoexo-Token": token },
      body: JSON.stringify({ command: cmd }) });
  } catch (e) {
    $("message").textContent = "command '" + cmd + "' failed: " + e;
    return null;
  }
  const body = await res.json().catch(() => ({}));
  $("message").textContent = res.ok ? "" : cmd + ": " + (body.error || res.status);
  const r = { command: cmd, ok: res.ok, status: res.status, ms: performance.now() - t0 };
  state.commands.push(r);
  return r;
}

$("estop").addEventListener("click", () => command("estop"));
$("reset").addEventListener("click", () => {
  if (confirm("Reset the emergency stop? The exoskeleton holds until a new intent arrives.")) command("reset");
});
$("resume").addEventListener("click", () => command("resume"));
$("stream_on").addEventListener("click", () => command("stream_on"));
$("stream_off").addEventListener("click", () => command("stream_off"));
$("record_start").addEventListener("click", () => command("record_start"));
$("record_stop").addEventListener("click", () => command("record_stop"));
document.addEventListener("keydown", (e) => {
  if (e.code === "Space" && e.target.tagName !== "INPUT") { e.preventDefault(); command("estop"); }
});

function makePlot(el, title, series, height, yRange) {
  const opts = { width: el.clientWidth || 600, height: height, legend: { show: true }, cursor: { show: false },
                 scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
                 series: [{ label: "t (s)" }].concat(series), axes: [{}, {}] };
  const data = [[]].concat(series.map(() => []));
  return new uPlot(opts, data, el);
}

let plots = null;
function setupPlots(info) {
  if (typeof uPlot === "undefined") { $("message").textContent = "uPlot is missing from this build (run npm ci in web/)"; return; }
  document.querySelectorAll(".unit").forEach((e) => { e.textContent = info.unit; });
  $("filter").textContent = info.filter;
  const chSeries = info.channels.map((c, i) => ({ label: c, stroke: COLORS[i % COLORS.length], width: 1 }));
  plots = {
    raw: makePlot($("emg_raw"), "raw", chSeries, 220),
    filt: makePlot($("emg_filtered"), "filtered", chSeries.map((s) => Object.assign({}, s)), 220),
    probs: makePlot($("probs"), "probabilities",
      info.classes.map((c, i) => ({ label: c + " -> " + info.class_intents[i], stroke: COLORS[i % COLORS.length] }))
        .concat([{ label: "threshold", stroke: "#000", dash: [6, 4] }]), 200, [0, 1.05]),
    intents: new uPlot({ width: $("probs").clientWidth || 600, height: 150, cursor: { show: false },
      scales: { x: { time: false }, y: { range: [-0.5, INTENTS.length - 0.5] } },
      axes: [{}, { splits: () => INTENTS.map((_, i) => i), values: (u, v) => v.map((x) => INTENTS[x] || ""), size: 50 }],
      series: [{ label: "t (s)" }, { label: "active intent", stroke: "#333", width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
               { label: "accepted decision", stroke: "#1f77b4", width: 0, points: { show: true, size: 5 } }] },
      [[], [], []], $("intents")),
    angles: makePlot($("angles"), "angles", [
      { label: "hip set-point", stroke: "#1f77b4", dash: [6, 3] }, { label: "hip", stroke: "#1f77b4" },
      { label: "knee set-point", stroke: "#d62728", dash: [6, 3] }, { label: "knee", stroke: "#d62728" }]
      .concat(info.reference_knee ? [{ label: "recorded knee (goniometer)", stroke: "#555", width: 2 }] : []), 220),
  };
  const tbody = $("quality").querySelector("tbody");
  info.channels.forEach((c) => {
    const tr = document.createElement("tr");
    tr.innerHTML = "<td>" + c + "</td><td><span class='light green'></span></td><td></td><td></td><td></td><td></td>";
    tbody.appendChild(tr);
  });
}

function trim(arrs, t, tNow) {
  let k = 0;
  while (k < t.length && t[k] < tNow - WINDOW_S) k++;
  if (k > 0) { t.splice(0, k); arrs.forEach((a) => a.splice(0, k)); }
}

function onFrame(f) {
  state.framesSeen++;
  state.lastFrameAt = performance.now();
  const info = state.info;
  if (!info) return;
  const n = info.channels.length;
  if (f.emg && f.emg.raw && f.emg.raw.length === n && f.emg.raw[0].length > 0) {
    if (state.emgRaw.length === 0) for (let c = 0; c < n; c++) { state.emgRaw.push([]); state.emgFilt.push([]); }
    const m = f.emg.raw[0].length;
    for (let i = 0; i < m; i++) state.emgT.push(f.emg.t0 + i / f.emg.fs);
    for (let c = 0; c < n; c++) { state.emgRaw[c].push(...f.emg.raw[c]); state.emgFilt[c].push(...f.emg.filtered[c]); }
    trim(state.emgRaw.concat(state.emgFilt), state.emgT, state.emgT[state.emgT.length - 1]);
  }
  const tk = f.ticks || {};
  if (tk.t && tk.t.length) {
    tk.active_i = (tk.active || []).map((a) => INTENTS.indexOf(a));
    const names = ["hip_sp", "hip_q", "knee_sp", "knee_q", "hip_tau", "knee_tau", "active_i"].concat(tk.knee_ref ? ["knee_ref"] : []);
    for (const k of ["t"].concat(names)) state.ticks[k] = (state.ticks[k] || []).concat(tk[k]);
    const keys = names.map((k) => state.ticks[k]);
    trim(keys, state.ticks.t, state.ticks.t[state.ticks.t.length - 1]);
  }
  for (const d of f.decisions || []) {
    if (!d.p.length) continue;
    state.decT.push(d.t);
    state.decIntent.push(d.rejected ? null : INTENTS.indexOf(d.intent));
    if (state.probs.length === 0) d.p.forEach(() => state.probs.push([]));
    d.p.forEach((p, i) => state.probs[i] && state.probs[i].push(p));
  }
  if (state.decT.length) trim(state.probs.concat([state.decIntent]), state.decT, state.decT[state.decT.length - 1]);
  for (const e of f.events || []) state.events.push(e.t.toFixed(3) + " s  " + e.reason + (e.joint >= 0 ? " (joint " + e.joint + ")" : ""));
  if (state.events.length > 200) state.events.splice(0, state.events.length - 200);
  if (f.now) state.now = f.now;
  if (f.timing) state.timing = f.timing;
  state.pendingTiming = f.timing;
  state.dirty = true;
}

function offsetSeries(chs) {
  let spread = 0;
  for (const c of chs) for (const v of c) spread = Math.max(spread, Math.abs(v));
  spread = spread > 0 ? 2 * spread : 1;
  return chs.map((c, i) => c.map((v) => v + (chs.length - 1 - i) * spread));
}

function drawFigure(hipDeg, kneeDeg) {
  const cv = $("figure"), g = cv.getContext("2d");
  g.clearRect(0, 0, cv.width, cv.height);
  const hip = [cv.width / 2, 40], thigh = 100, shank = 100;
  const a1 = hipDeg * Math.PI / 180, a2 = a1 - kneeDeg * Math.PI / 180;  // flexion +: hip forward, knee back
  const knee = [hip[0] + thigh * Math.sin(a1), hip[1] + thigh * Math.cos(a1)];
  const ankle = [knee[0] + shank * Math.sin(a2), knee[1] + shank * Math.cos(a2)];
  g.lineWidth = 10; g.lineCap = "round"; g.strokeStyle = "#445";
  g.beginPath(); g.moveTo(hip[0], hip[1]); g.lineTo(knee[0], knee[1]); g.lineTo(ankle[0], ankle[1]); g.stroke();
  g.fillStyle = "#c33"; for (const p of [hip, knee]) { g.beginPath(); g.arc(p[0], p[1], 7, 0, 2 * Math.PI); g.fill(); }
  g.fillStyle = "#000"; g.font = "12px system-ui";
  g.fillText("hip " + hipDeg.toFixed(1) + " deg, knee " + kneeDeg.toFixed(1) + " deg", 8, cv.height - 8);
}

function render() {
  requestAnimationFrame(render);
  if (!state.dirty || !plots) return;
  state.dirty = false;
  if (state.emgT.length) {
    plots.raw.setData([state.emgT].concat(offsetSeries(state.emgRaw)));
    plots.filt.setData([state.emgT].concat(offsetSeries(state.emgFilt)));
  }
  if (state.decT.length) {
    const th = state.decT.map(() => state.info.rejection_threshold);
    plots.probs.setData([state.decT].concat(state.probs.map((p) => p.slice()), [th]));
  }
  const t = state.ticks;
  if (t.t && t.t.length) {
    plots.angles.setData([t.t, t.hip_sp, t.hip_q, t.knee_sp, t.knee_q].concat(state.info.reference_knee ? [t.knee_ref || []] : []));
    drawFigure(t.hip_q[t.hip_q.length - 1], t.knee_q[t.knee_q.length - 1]);
    // Active intent per tick (a step line) and the accepted decisions (points), on one time axis.
    const x = t.t.concat(state.decT), ai = t.active_i.concat(state.decT.map(() => null)),
          di = t.t.map(() => null).concat(state.decIntent);
    const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
    plots.intents.setData([order.map((i) => x[i]), order.map((i) => ai[i]), order.map((i) => di[i])]);
  }
  const now = state.now;
  if (now) {
    const mode = $("mode");
    mode.className = now.mode;
    mode.textContent = now.mode === "emergency_stop" ? "EMERGENCY STOP" : now.mode.toUpperCase();
    $("recording").textContent = now.recording ? "\u25CF recording " + now.recording.split("/").pop() : "";
    $("decision").textContent = now.decision;
    $("confidence").textContent = now.confidence.toFixed(2);
    $("active").textContent = now.active;
    const rows = $("quality").querySelectorAll("tbody tr");
    now.channels.forEach((c, i) => {
      const td = rows[i].querySelectorAll("td");
      const light = c.faults ? "red" : (c.line_share > 0.3 ? "amber" : "green");
      td[1].innerHTML = "<span class='light " + light + "'></span>";
      td[2].textContent = c.rms.toPrecision(3);
      td[3].textContent = c.dc.toPrecision(3);
      td[4].textContent = (100 * c.line_share).toFixed(0) + " %";
      td[5].textContent = c.faults || "none";
    });
  }
  $("events").textContent = state.events.slice(-40).join("\n");
  if (state.timing) $("timing").textContent = "decision latency p50 " + state.timing.decision_latency_p50_ms.toFixed(2) +
      " ms, p99 " + state.timing.decision_latency_p99_ms.toFixed(2) + " ms; control tick jitter p99 " +
      state.timing.tick_jitter_p99_ms.toFixed(2) + " ms, max " + state.timing.tick_jitter_max_ms.toFixed(2) + " ms; frames " + state.framesSeen +
      (state.pixelMs.length ? "; sample -> screen " + state.pixelMs[state.pixelMs.length - 1].toFixed(0) + " ms" : "");
  // Sample arrival -> pixel: the newest sample's age when the frame left + its trip + this draw (same machine clock).
  const tm = state.pendingTiming;
  if (tm && tm.sent_unix_ms) {
    state.pixelMs.push(tm.emg_age_ms + (Date.now() - tm.sent_unix_ms));
    if (state.pixelMs.length > 2000) state.pixelMs.shift();
    state.pendingTiming = null;
  }
}

async function start() {
  const res = await fetch("/api/info");
  state.info = await res.json();
  setupPlots(state.info);
  const es = new EventSource("/api/stream");
  es.onmessage = (ev) => onFrame(JSON.parse(ev.data));
  es.onerror = () => { $("status").textContent = "telemetry: reconnecting"; };
  es.onopen = () => { $("status").textContent = "telemetry: live"; };
  requestAnimationFrame(render);
}
window.myoexoConsole = state;  // for the tests: what the page has received
start();
