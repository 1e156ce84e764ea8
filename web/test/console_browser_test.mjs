// The operator console in a real browser (Debian's headless Chromium, driven by puppeteer-core).
// Usage: node console_browser_test.mjs MYOEXO DATA_ROOT OUT_DIR   ($MYOEXO_DATA overrides DATA_ROOT)
// Starts `myoexo serve` on a real UCI recording with an LDA model trained on other subjects, then checks what an
// operator sees and does: the traces move; a click on EMERGENCY STOP latches the supervisor (click -> latched and
// click -> "EMERGENCY STOP" on screen, timed); a viewer without the token cannot reset; 5 viewers at once are
// served while the control loop keeps its timing; Ctrl-C ends a served run in order; with a cue protocol the console
// prompts each movement and the recording it starts is labelled and ends with the protocol. Saves console.png and
// console_cues.png in OUT_DIR. Exit 0 = pass, 77 = skipped.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import puppeteer from "puppeteer-core";

const [myoexo, dataArg, outDir] = process.argv.slice(2);
const dataRoot = process.env.MYOEXO_DATA || dataArg;
const uci = path.join(dataRoot || "", "uci-lower-limb");
const chromium = "/usr/bin/chromium";
if (!fs.existsSync(path.join(uci, "A_TXT", "3Amar.txt"))) { console.log("SKIP: UCI data absent"); process.exit(77); }
if (!fs.existsSync(chromium)) { console.log("SKIP: chromium absent"); process.exit(77); }
fs.mkdirSync(outDir, { recursive: true });

const checks = [];
function check(ok, what) { checks.push([ok, what]); console.log((ok ? "ok   " : "FAIL ") + what); }
// Clicks through the DOM: puppeteer-core 22's synthetic mouse events (Input.dispatchMouseEvent) make Debian's
// Chromium 156 exit, while a DOM click runs the page's own handlers exactly as a user's click does.
const click = (p, sel) => p.$eval(sel, (b) => b.click());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const quantile = (v, q) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

// An lda_context model trained on the N subjects; the replayed recording is subject 3A's 43 s of gait.
const model = path.join(outDir, "model.json");
const replay = path.join(uci, "A_TXT", "3Amar.txt");
const tr = spawnSync(myoexo, ["-q", "run", "--replay", replay, "--seconds", "1", "--train-on",
  path.join(uci, "N_TXT"), "--lda-context", "750", "--save-model", model, "--no-plots", "--out", path.join(outDir, "train")]);
if (tr.status !== 0) { console.log("FAIL: training the model: " + tr.stderr); process.exit(1); }

function serve(out, seconds, extra = []) {
  const p = spawn(myoexo, ["serve", "--replay", replay, "--model", model,
    "--http-port", "0", "--seconds", String(seconds), "--no-plots", "--out", out].concat(extra));
  let text = "";
  const url = new Promise((resolve, reject) => {
    p.stdout.on("data", (d) => {
      text += d;
      const m = text.match(/console: (http:\/\/\S+)#token=([0-9a-f]+)/);
      if (m) resolve({ base: m[1], token: m[2] });
    });
    p.on("exit", (code) => reject(new Error("myoexo serve exited " + code + ": " + text)));
  });
  const done = new Promise((resolve) => p.on("exit", (code) => resolve(code)));
  return { proc: p, url, done };
}
const stats = async (base) => (await fetch(base + "api/stats")).json();

const browser = await puppeteer.launch({ executablePath: chromium, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"], dumpio: !!process.env.MYOEXO_BROWSER_DEBUG });
try {
  // ---- one operator -------------------------------------------------------------------------------------------
  const run1 = serve(path.join(outDir, "run1"), 40);
  const { base, token } = await run1.url;
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1250 });
  page.on("dialog", (d) => d.accept());  // the reset asks for confirmation
  await page.goto(base + "#token=" + token);
  await page.waitForFunction(() => window.myoexoConsole && window.myoexoConsole.emgT.length > 1500, { timeout: 15000 });
  const t1 = await page.evaluate(() => window.myoexoConsole.emgT.at(-1));
  await sleep(500);
  const t2 = await page.evaluate(() => window.myoexoConsole.emgT.at(-1));
  check(t2 > t1 + 0.3, `the EMG traces move (${t1.toFixed(2)} s -> ${t2.toFixed(2)} s)`);
  check(await page.evaluate(() => document.getElementById("mode").textContent !== "connecting"), "the supervisor mode is shown");
  await page.screenshot({ path: path.join(outDir, "console.png") });
  check(fs.statSync(path.join(outDir, "console.png")).size > 20000, "screenshot saved: " + path.join(outDir, "console.png"));

  // A viewer without the token cannot reset a latched stop.
  const viewer = await browser.newPage();
  viewer.on("dialog", (d) => d.accept());
  await viewer.goto(base);

  await page.bringToFront();  // a background tab gets no animation frames: the operator's tab is in front
  const latchMs = [], screenMs = [];
  for (let i = 0; i < 5; i++) {
    await page.evaluate(() => { window.__clickAt = performance.now(); });
    const t0 = Date.now();
    await click(page, "#estop");
    let latched = -1;
    while (Date.now() - t0 < 2000) { if ((await stats(base)).stop_latched) { latched = Date.now() - t0; break; } await sleep(1); }
    latchMs.push(latched);
    await page.waitForFunction(() => document.getElementById("mode").textContent === "EMERGENCY STOP", { timeout: 3000 });
    screenMs.push(await page.evaluate(() => performance.now() - window.__clickAt));
    if (i === 0) {
      await viewer.bringToFront();
      await click(viewer, "#reset");
      await sleep(300);
      const msg = await viewer.evaluate(() => document.getElementById("message").textContent);
      check((await stats(base)).stop_latched && /token/.test(msg), `a reset without the token is refused ("${msg}")`);
      await page.bringToFront();
    }
    await click(page, "#reset");
    await sleep(400);
    check(!(await stats(base)).stop_latched, `run ${i + 1}: the operator's reset (confirmed) clears the stop`);
  }
  check(latchMs.every((v) => v >= 0), "every click latched the supervisor");
  // Click -> torque cut = click -> the command's answer in the page (an upper bound of click -> server) + the server's
  // request -> the control tick that wrote zero torque (timed by that tick).
  const pageMs = (await page.evaluate(() => window.myoexoConsole.commands)).filter((c) => c.command === "estop").map((c) => c.ms);
  const serverMs = (await stats(base)).estop_to_torque_cut_ms;
  const cutMs = pageMs.map((v, i) => v + (serverMs[i] ?? Infinity));
  console.log(`click -> torque cut: p50 ${quantile(cutMs, 0.5).toFixed(1)} ms, max ${Math.max(...cutMs).toFixed(1)} ms ` +
              `(page -> answer p50 ${quantile(pageMs, 0.5).toFixed(1)} ms, request -> zero-torque tick p50 ${quantile(serverMs, 0.5).toFixed(1)} ms)`);
  console.log(`click -> "EMERGENCY STOP" drawn on screen: p50 ${quantile(screenMs, 0.5).toFixed(1)} ms, max ${Math.max(...screenMs).toFixed(1)} ms`);
  console.log(`(seen from the test driver, with its own round trips: click -> latched p50 ${quantile(latchMs, 0.5)} ms)`);
  // The server's part is bounded every time; the browser's part (its fetch) depends on how busy the machine is, so
  // the median is asserted and the maximum reported.
  check(serverMs.length === 5 && Math.max(...serverMs) < 50, "request -> zero-torque tick under 50 ms, every time");
  check(cutMs.length === 5 && quantile(cutMs, 0.5) < 50, "click -> torque cut: median under 50 ms");
  const pixel = await page.evaluate(() => window.myoexoConsole.pixelMs);
  console.log(`sample arrival -> screen: p50 ${quantile(pixel, 0.5).toFixed(1)} ms, p99 ${quantile(pixel, 0.99).toFixed(1)} ms (${pixel.length} frames)`);
  check(pixel.length > 20 && quantile(pixel, 0.99) < 150, "sample arrival -> screen p99 under 150 ms");
  // A raw recording started and stopped from the console: a CSV with the EMG of that second.
  await click(page, "#record_start");
  await page.waitForFunction(() => /recording/.test(document.getElementById("recording").textContent), { timeout: 3000 });
  await sleep(1000);
  await click(page, "#record_stop");
  await page.waitForFunction(() => document.getElementById("recording").textContent === "", { timeout: 3000 });
  const rec = path.join(outDir, "run1", "recording_1.csv");
  const rows = fs.existsSync(rec) ? fs.readFileSync(rec, "utf8").trim().split("\n").length - 1 : 0;
  check(rows > 800 && rows < 1600, `the console's recording holds about a second of EMG (${rows} rows)`);
  await viewer.close();
  await page.close();
  run1.proc.kill("SIGINT");  // Ctrl-C: the run ends in order and writes its files
  check((await run1.done) === 0, "Ctrl-C ends the served run cleanly");
  const s1 = JSON.parse(fs.readFileSync(path.join(outDir, "run1", "summary.json")));
  check(s1.session.stopped_by_user === true, "summary.json says the run was stopped by the user");

  // ---- no viewer, then five viewers at once, for the same 8 s of the same replay --------------------------------
  // MYOEXO_JITTER_ROUNDS=N repeats the pair N times (alternating) and reports each round's p99 ratio and their
  // median: on a shared VM one pair says little (two unwatched runs differ by more than viewers change them).
  const rounds = Math.max(1, Number(process.env.MYOEXO_JITTER_ROUNDS || 1));
  const ratios = [];
  let s0, s5;
  for (let round = 0; round < rounds; round++) {
    const suffix = round ? "_" + round : "";
    const run0 = serve(path.join(outDir, "run0" + suffix), 8);
    await run0.url;
    check((await run0.done) === 0, "a served run nobody watches ends by itself");
    s0 = JSON.parse(fs.readFileSync(path.join(outDir, "run0" + suffix, "summary.json")));
    const run5 = serve(path.join(outDir, "run5" + suffix), 8);
    const u5 = await run5.url;
    const pages = [];
    for (let i = 0; i < 5; i++) { const p = await browser.newPage(); await p.goto(u5.base); pages.push(p); }
    await sleep(3000);
    const st5 = await stats(u5.base);
    check(st5.viewers_now === 5, `5 viewers connected (${st5.viewers_now})`);
    check((await run5.done) === 0, "the watched run ends by itself with 5 viewers connected");
    for (const p of pages) await p.close();
    s5 = JSON.parse(fs.readFileSync(path.join(outDir, "run5" + suffix, "summary.json")));
    const j0 = s0.session.control_tick.jitter, j5 = s5.session.control_tick.jitter;
    ratios.push(j5.p99_us / j0.p99_us);
    if (rounds > 1) console.log(`round ${round + 1}: p99 jitter no viewer ${j0.p99_us.toFixed(0)} us, 5 viewers ` +
                                `${j5.p99_us.toFixed(0)} us, ratio ${ratios.at(-1).toFixed(2)}`);
  }
  if (rounds > 1) console.log(`p99 jitter ratio, 5 viewers / no viewer, median of ${rounds} rounds: ` +
                              `${quantile(ratios, 0.5).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})`);
  const j0 = s0.session.control_tick.jitter, j1 = s1.session.control_tick.jitter, j5 = s5.session.control_tick.jitter;
  const fmt = (j) => `${j.p50_us.toFixed(0)}/${j.p99_us.toFixed(0)}/${j.max_us.toFixed(0)} us`;
  console.log(`control-tick jitter p50/p99/max: no viewer ${fmt(j0)}, 1 viewer ${fmt(j1)}, 5 viewers ${fmt(j5)}; ` +
              `frames dropped for slow viewers ${s5.console.frames_dropped}`);
  // The comparison with the unwatched run is reported, not asserted: on a shared 2-core machine two unwatched runs
  // of the same replay already differ by more than 10 % at p99 (the browser's five tabs share those cores). What is
  // asserted: the loop keeps ticking (p99 jitter under 5 ms) and nothing the session hands the host was lost while
  // viewers watched (the server drops frames per viewer, never telemetry or decisions).
  console.log(`p99 jitter, 5 viewers / no viewer: ${(j5.p99_us / j0.p99_us).toFixed(2)}`);
  check(j5.p99_us < 5000, "with 5 viewers the control tick's p99 jitter stays under 5 ms");
  check(s5.session.telemetry_dropped === 0 && s5.session.decisions_dropped === 0,
        "with 5 viewers the session dropped no telemetry and no decision");
  const r0 = s0.session.process_cpu_s / s0.sim_time_s, r5 = s5.session.process_cpu_s / s5.sim_time_s;  // CPU s per s
  console.log(`server CPU: no viewer ${(1000 * r0).toFixed(0)} ms/s, 5 viewers ${(1000 * r5).toFixed(0)} ms/s ` +
              `(~${(1000 * (r5 - r0) / 5).toFixed(1)} ms/s per viewer), over ${s5.sim_time_s.toFixed(1)} s each`);
  check(s5.console.frames_published > 100, `the console published ${s5.console.frames_published} frames`);

  // ---- a labelled recording guided by a cue protocol in the console ---------------------------------------------
  // 1 s lead-in, "leg lift" 2 s, 1 s rest, "leg descent" 2 s, 1 s rest: 7 s.
  const cueFile = path.join(outDir, "cues.toml");
  fs.writeFileSync(cueFile, 'lead_in_s = 1\nrest_s = 1\nrandomise = false\n' +
    '[[movement]]\nname = "leg lift"\nprompt = "Lift the straight leg"\nrepetitions = 1\nduration_s = 2\n' +
    '[[movement]]\nname = "leg descent"\nprompt = "Lower the leg slowly"\nrepetitions = 1\nduration_s = 2\n');
  const runC = serve(path.join(outDir, "cues"), 16, ["--cues", cueFile]);
  const uc = await runC.url;
  const cp = await browser.newPage();
  await cp.goto(uc.base + "#token=" + uc.token);
  await cp.waitForFunction(() => /Press Record/.test(document.getElementById("cue_prompt").textContent), { timeout: 5000 });
  check(await cp.evaluate(() => getComputedStyle(document.getElementById("cue_panel")).display !== "none"),
        "with --cues the console shows the cue panel, waiting for Record");
  await click(cp, "#record_start");
  await cp.waitForFunction(() => document.getElementById("cue_prompt").textContent === "Lift the straight leg", { timeout: 5000 });
  const lift = await cp.evaluate(() => ({ time: document.getElementById("cue_time").textContent,
    next: document.getElementById("cue_next").textContent, title: document.getElementById("cue_title").textContent }));
  check(/^[12] s$/.test(lift.time) && lift.next === "next: rest, then Lower the leg slowly" && /cue 2 of 5/.test(lift.title),
        `the first movement is prompted with its countdown and what comes next (${lift.time}, "${lift.next}", "${lift.title}")`);
  await cp.screenshot({ path: path.join(outDir, "console_cues.png") });
  await cp.waitForFunction(() => document.getElementById("cue_prompt").textContent === "Lower the leg slowly", { timeout: 6000 });
  check(true, "the second movement follows on time");
  await cp.waitForFunction(() => /^Done/.test(document.getElementById("cue_prompt").textContent) &&
                                 document.getElementById("recording").textContent === "", { timeout: 8000 });
  check(true, "the recording ends by itself with the protocol");
  const events = fs.readFileSync(path.join(outDir, "cues", "recording_1_events.tsv"), "utf8").trim().split("\n").slice(1)
    .map((l) => l.split("\t"));
  const labels = events.map((e) => e[2]).join(",");
  const total = events.reduce((a, e) => a + Number(e[1]), 0);
  check(labels === "rest,leg lift,rest,leg descent,rest" && Math.abs(total - 7) < 0.01,
        `the recording's events are the protocol's (${labels}; ${total.toFixed(3)} s)`);
  check(["_channels.tsv", "_emg.json"].every((x) => fs.existsSync(path.join(outDir, "cues", "recording_1" + x))) &&
        JSON.parse(fs.readFileSync(path.join(outDir, "cues", "recording_1_emg.json"))).TaskName === "cues",
        "its BIDS _channels.tsv and _emg.json are beside it");
  const info = spawnSync(myoexo, ["info", path.join(outDir, "cues", "recording_1.edf")], { encoding: "utf8" });
  check(info.status === 0 && /leg lift/.test(info.stdout) && /leg descent/.test(info.stdout),
        "the EDF+ recording reads back with the cue labels (myoexo info)");
  await cp.close();
  runC.proc.kill("SIGINT");
  check((await runC.done) === 0, "the cue run ends cleanly");
} finally {
  await browser.close();
}
const failed = checks.filter(([ok]) => !ok).length;
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
