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
  if (state.review) return;
  if (e.code === "Space" && e.target.tagName !== "INPUT") { e.preventDefault(); command("estop"); }
});

// Review mode: a vertical line at the scrub cursor on every time plot.
const cursorHook = { draw: [(u) => {
  const r = state.review;
  if (!r || r.cursorT === null) return;
  const x = u.valToPos(r.cursorT, "x", true);
  const g = u.ctx;
  g.save(); g.strokeStyle = "#c0182a"; g.lineWidth = 2;
  g.beginPath(); g.moveTo(x, u.bbox.top); g.lineTo(x, u.bbox.top + u.bbox.height); g.stroke(); g.restore();
}] };

function makePlot(el, title, series, height, yRange) {
  const opts = { width: el.clientWidth || 600, height: height, legend: { show: true }, cursor: { show: false },
                 scales: { x: { time: false }, y: yRange ? { range: yRange } : {} },
                 series: [{ label: "t (s)" }].concat(series), axes: [{}, {}], hooks: cursorHook };
  const data = [[]].concat(series.map(() => []));
  return new uPlot(opts, data, el);
}

// The intent timeline: active intent per tick (a step line) and accepted decisions (points).
function makeIntentPlot() {
  return new uPlot({ width: $("probs").clientWidth || 600, height: 150, cursor: { show: false }, hooks: cursorHook,
    scales: { x: { time: false }, y: { range: [-0.5, INTENTS.length - 0.5] } },
    axes: [{}, { splits: () => INTENTS.map((_, i) => i), values: (u, v) => v.map((x) => INTENTS[x] || ""), size: 50 }],
    series: [{ label: "t (s)" }, { label: "active intent", stroke: "#333", width: 2, paths: uPlot.paths.stepped({ align: 1 }) },
             { label: "accepted decision", stroke: "#1f77b4", width: 0, points: { show: true, size: 5 } }] },
    [[], [], []], $("intents"));
}

// Hip and knee set-point vs measured (and the recorded knee when the run has one).
function makeAnglePlot(info, height) {
  return makePlot($("angles"), "angles", [
    { label: "hip set-point", stroke: "#1f77b4", dash: [6, 3] }, { label: "hip", stroke: "#1f77b4" },
    { label: "knee set-point", stroke: "#d62728", dash: [6, 3] }, { label: "knee", stroke: "#d62728" }]
    .concat(info.reference_knee ? [{ label: "recorded knee (goniometer)", stroke: "#555", width: 2 }] : [])
    .concat(info.knee_estimate ? [{ label: "knee from EMG", stroke: "#2ca02c", width: 1 }] : []), height);
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
    intents: makeIntentPlot(),
    angles: makeAnglePlot(info, 220),
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
    const names = ["hip_sp", "hip_q", "knee_sp", "knee_q", "hip_tau", "knee_tau", "active_i"]
      .concat(tk.knee_ref ? ["knee_ref"] : []).concat(tk.knee_est ? ["knee_est"] : []);
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
  if ("cue" in f) state.cue = f.cue;
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

// The cue protocol of a labelled recording: what to do now (large, for the person), how long is left, what comes
// next, how far the protocol is. Hidden when the session has no protocol.
function renderCue(c) {
  const panel = $("cue_panel");
  if (!c) { panel.style.display = "none"; return; }
  panel.style.display = "block";
  panel.className = "live " + (c.label === "rest" ? "rest" : "move");
  $("cue_title").textContent = "Cue protocol " + c.protocol + (c.state === "running" ? " (recording, cue " + c.index + " of " + c.count + ")" : "");
  $("cue_prompt").textContent = c.prompt;
  $("cue_time").textContent = c.state === "running" ? Math.ceil(c.remaining_s) + " s" : "";
  $("cue_next").textContent = c.next ? "next: " + c.next : "";
  $("cue_progress").value = c.length_s > 0 ? Math.min(1, c.elapsed_s / c.length_s) : 0;
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
    plots.angles.setData([t.t, t.hip_sp, t.hip_q, t.knee_sp, t.knee_q]
      .concat(state.info.reference_knee ? [t.knee_ref || []] : []).concat(state.info.knee_estimate ? [t.knee_est || []] : []));
    drawFigure(t.hip_q[t.hip_q.length - 1], t.knee_q[t.knee_q.length - 1]);
    // Active intent per tick (a step line) and the accepted decisions (points), on one time axis.
    const x = t.t.concat(state.decT), ai = t.active_i.concat(state.decT.map(() => null)),
          di = t.t.map(() => null).concat(state.decIntent);
    const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
    plots.intents.setData([order.map((i) => x[i]), order.map((i) => ai[i]), order.map((i) => di[i])]);
  }
  renderCue(state.cue);
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

// ---- review: a finished run's logs, the whole run on every plot, scrubbed with the slider --------------------------

// Index of the last element of the sorted array `a` that is <= t (0 when none is).
function indexAtOrBefore(a, t) {
  let lo = 0, hi = a.length - 1, best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= t) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return best;
}

function setCursor(t) {
  const r = state.review, tk = r.data.ticks;
  if (!tk.t.length) return;
  t = Math.min(Math.max(t, tk.t[0]), tk.t[tk.t.length - 1]);
  r.cursorT = t;
  const i = indexAtOrBefore(tk.t, t);
  r.index = i;
  const mode = tk.mode[i];
  $("mode").className = mode;
  $("mode").textContent = mode === "emergency_stop" ? "EMERGENCY STOP" : mode.toUpperCase();
  $("active").textContent = tk.active[i];
  const d = r.data.decisions;
  if (d && d.t.length && d.t[0] <= t) {
    const k = indexAtOrBefore(d.t, t);
    $("decision").textContent = d.class[k] + (d.rejected[k] ? " (rejected)" : "") + " -> " + d.intent[k];
    const pk = d.p.map((p) => p[k] || 0);
    $("confidence").textContent = Math.max(...pk).toFixed(2);
  } else {
    $("decision").textContent = "-";
    $("confidence").textContent = "-";
  }
  drawFigure(tk.hip_q[i] || 0, tk.knee_q[i] || 0);
  $("scrub_t").textContent = "t = " + t.toFixed(3) + " s of " + tk.t[tk.t.length - 1].toFixed(2) + " s";
  const sl = $("scrub"), t0 = tk.t[0], t1 = tk.t[tk.t.length - 1];
  if (document.activeElement !== sl) sl.value = String(Math.round((t - t0) / Math.max(t1 - t0, 1e-9) * 10000));
  // The safety log: every event, the ones after the cursor dimmed; the newest one before it in view.
  const ev = r.data.events, box = $("events");
  box.innerHTML = "";
  let lastBefore = null;
  for (const e of ev) {
    const div = document.createElement("div");
    div.textContent = e.t.toFixed(3) + " s  " + e.reason + (e.joint !== null && e.joint >= 0 ? " (joint " + e.joint + ")" : "");
    if (e.t > t) div.className = "after"; else lastBefore = div;
    box.appendChild(div);
  }
  if (lastBefore) lastBefore.scrollIntoView({ block: "nearest" });
  for (const p of [plots.probs, plots.intents, plots.angles]) p.redraw(false, false);
}

function setupReview(info, data) {
  document.body.classList.add("review");
  const r = state.review = { data: data, cursorT: null, index: 0, playing: false };
  $("status").textContent = "review of " + data.run;
  const s = info.summary || {};
  const lines = [];
  if (s.recording) lines.push("recording " + (s.recording.file || "") + (s.recording.subject ? ", subject " + s.recording.subject : "") +
                              (s.recording.class ? ", class " + s.recording.class : ""));
  if (s.model) lines.push("model " + (s.model.kind || "") + ", classes " + (s.model.classes || []).join(", ") +
                          (s.model.filter ? ", " + s.model.filter : ""));
  if (s.control_hz) lines.push("control " + s.control_hz + " Hz on " + (s.actuators || "?"));
  if (s.supervisor_mode_time_s) lines.push("supervisor: " + Object.entries(s.supervisor_mode_time_s)
      .map(([k, v]) => k + " " + Number(v).toFixed(2) + " s").join(", "));
  if (s.error) lines.push(s.error);
  lines.push(data.ticks_in_log + " control ticks" + (data.tick_stride > 1 ? " (every " + data.tick_stride + "th shown, mode changes kept)" : "") +
             ", " + (data.decisions ? data.decisions.t.length : 0) + " decisions, " + data.events.length + " safety events" +
             (data.truncated_lines ? ", " + data.truncated_lines + " cut-short line(s) left out" : ""));
  $("run_text").innerHTML = lines.map((l) => "<div></div>").join("");
  $("run_text").querySelectorAll("div").forEach((d, i) => { d.textContent = lines[i]; });

  const classes = data.classes || [], intentsOf = info.class_intents || [];
  plots = {
    probs: makePlot($("probs"), "probabilities",
      classes.map((c, i) => ({ label: c + (intentsOf[i] ? " -> " + intentsOf[i] : ""), stroke: COLORS[i % COLORS.length] }))
        .concat(info.rejection_threshold !== null ? [{ label: "threshold", stroke: "#000", dash: [6, 4] }] : []), 200, [0, 1.05]),
    intents: makeIntentPlot(),
    angles: makeAnglePlot(info, 260),
  };
  const tk = data.ticks, d = data.decisions;
  if (d && d.t.length) {
    plots.probs.setData([d.t].concat(d.p, info.rejection_threshold !== null ? [d.t.map(() => info.rejection_threshold)] : []));
  }
  plots.angles.setData([tk.t, tk.hip_sp, tk.hip_q, tk.knee_sp, tk.knee_q]
    .concat(info.reference_knee ? [tk.knee_ref] : []).concat(info.knee_estimate ? [tk.knee_est] : []));
  const ai = tk.active.map((a) => INTENTS.indexOf(a));
  const dt = d ? d.t : [], di = d ? d.intent.map((x, k) => (d.rejected[k] ? null : INTENTS.indexOf(x))) : [];
  const x = tk.t.concat(dt), ya = ai.concat(dt.map(() => null)), yd = tk.t.map(() => null).concat(di);
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  plots.intents.setData([order.map((i) => x[i]), order.map((i) => ya[i]), order.map((i) => yd[i])]);

  const t0 = tk.t.length ? tk.t[0] : 0, t1 = tk.t.length ? tk.t[tk.t.length - 1] : 0;
  const fromSlider = () => t0 + (Number($("scrub").value) / 10000) * (t1 - t0);
  $("scrub").addEventListener("input", () => setCursor(fromSlider()));
  document.addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      setCursor((r.cursorT ?? t0) + (e.key === "ArrowRight" ? 0.1 : -0.1));
    }
  });
  let last = null;
  const tickPlay = (now) => {
    if (!r.playing) return;
    if (last !== null) setCursor(r.cursorT + (now - last) / 1000);
    last = now;
    if (r.cursorT >= t1) { r.playing = false; $("play").textContent = "Play"; return; }
    requestAnimationFrame(tickPlay);
  };
  $("play").addEventListener("click", () => {
    r.playing = !r.playing;
    $("play").textContent = r.playing ? "Pause" : "Play";
    if (r.playing) { if (r.cursorT >= t1) setCursor(t0); last = null; requestAnimationFrame(tickPlay); }
  });
  setCursor(t0);
}

async function start() {
  const res = await fetch("/api/info");
  state.info = await res.json();
  if (state.info.mode === "review") {
    if (typeof uPlot === "undefined") { $("message").textContent = "uPlot is missing from this build (run npm ci in web/)"; return; }
    const data = await (await fetch("/api/review")).json();
    setupReview(state.info, data);
    return;
  }
  setupPlots(state.info);
  const es = new EventSource("/api/stream");
  es.onmessage = (ev) => onFrame(JSON.parse(ev.data));
  es.onerror = () => { $("status").textContent = "telemetry: reconnecting"; };
  es.onopen = () => { $("status").textContent = "telemetry: live"; };
  requestAnimationFrame(render);
}
window.myoexoConsole = state;  // for the tests: what the page has received
start();
