// A finished run reviewed in the console, in a real browser (Debian's headless Chromium, puppeteer-core).
// Usage: node review_browser_test.mjs MYOEXO DATA_ROOT OUT_DIR   ($MYOEXO_DATA overrides DATA_ROOT)
// Replays a UCI recording with an injected sensor fault (so the supervisor holds and resumes), then opens the run
// with `myoexo review` and checks what a person scrubbing it sees: at a moment of the hold the page says HOLD and
// draws the leg at the logged angles, the events after the cursor are dimmed, Play moves the cursor; the review
// cannot command; a run killed mid-write opens (its cut-short line left out) and a corrupt log is refused with its
// file and line. The run's model also estimates the knee angle from EMG: the angle plot shows it beside the
// goniometer. Saves review.png in OUT_DIR. Exit 0 = pass, 77 = skipped.
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
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });

const checks = [];
function check(ok, what) { checks.push([ok, what]); console.log((ok ? "ok   " : "FAIL ") + what); }
const click = (p, sel) => p.$eval(sel, (b) => b.click());  // DOM clicks (see console_browser_test.mjs)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The run: subject 3A's gait through an LDA trained on the N subjects, a flat line on RF from 3 s to 5 s.
const run = path.join(outDir, "run");
const r = spawnSync(myoexo, ["-q", "run", "--replay", path.join(uci, "A_TXT", "3Amar.txt"), "--seconds", "9",
  "--train-on", path.join(uci, "N_TXT"), "--lda-context", "750", "--knee-angle", "--fault", "flat_line:3:2.5:0",
  "--no-plots", "--out", run]);
if (r.status !== 0) { console.log("FAIL: the run: " + r.stderr); process.exit(1); }

// The log as the page should show it.
const log = fs.readFileSync(path.join(run, "run_log.csv"), "utf8").trim().split("\n");
const head = log[0].split(",");
const col = (n) => head.indexOf(n);
const rows = log.slice(1).map((l) => l.split(","));
const holdRow = rows.find((x) => Number(x[col("time_s")]) > 3 && x[col("supervisor_mode")] === "hold");
check(!!holdRow, "the injected flat line made the supervisor hold (" + (holdRow ? holdRow[col("time_s")] + " s" : "never") + ")");
const events = fs.readFileSync(path.join(run, "events.csv"), "utf8").trim().split("\n").slice(1).map((l) => Number(l.split(",")[0]));

function review(dir) {
  const p = spawn(myoexo, ["review", dir, "--http-port", "0", "--seconds", "60"]);
  let text = "";
  const url = new Promise((resolve, reject) => {
    p.stdout.on("data", (d) => { text += d; const m = text.match(/review: (http:\/\/\S+)/); if (m) resolve(m[1]); });
    p.on("exit", (code) => reject(new Error("myoexo review exited " + code + ": " + text)));
  });
  return { proc: p, url, done: new Promise((resolve) => p.on("exit", resolve)), text: () => text };
}

const browser = await puppeteer.launch({ executablePath: chromium, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"], dumpio: !!process.env.MYOEXO_BROWSER_DEBUG });
try {
  const rv = review(run);
  const base = await rv.url;
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1100 });
  await page.goto(base);
  await page.waitForFunction(() => window.myoexoConsole && window.myoexoConsole.review, { timeout: 15000 });
  check(await page.evaluate(() => getComputedStyle(document.getElementById("estop")).display === "none"),
        "review mode hides the controls (nothing to command)");
  // Scrub as a person drags the slider: before the fault (events after the cursor dimmed), then into the hold.
  const scrubTo = async (t) => {
    await page.evaluate((t) => {
      const tk = window.myoexoConsole.review.data.ticks, s = document.getElementById("scrub");
      s.value = String(Math.round((t - tk.t[0]) / (tk.t.at(-1) - tk.t[0]) * 10000));
      s.dispatchEvent(new Event("input"));
    }, t);
    const seen = await page.evaluate(() => {
      const r = window.myoexoConsole.review, tk = r.data.ticks;
      return { mode: document.getElementById("mode").textContent, t: r.cursorT, knee: tk.knee_q[r.index],
               est: tk.knee_est ? tk.knee_est[r.index] : null,
               hip: tk.hip_q[r.index], dimmed: document.querySelectorAll("#events .after").length,
               label: document.getElementById("scrub_t").textContent };
    });
    let at = rows[0];  // the logged row at the cursor: the last one at or before it
    for (const x of rows) if (Number(x[col("time_s")]) <= seen.t + 1e-9) at = x;
    check(seen.mode === at[col("supervisor_mode")].toUpperCase(),
          `at ${seen.t.toFixed(3)} s the page says ${seen.mode} (log: ${at[col("supervisor_mode")]})`);
    check(Math.abs(seen.knee - Number(at[col("knee_deg")])) < 1e-3 && Math.abs(seen.hip - Number(at[col("hip_deg")])) < 1e-3,
          `the leg is drawn at the logged angles (hip ${seen.hip.toFixed(2)}, knee ${seen.knee.toFixed(2)} deg)`);
    const logged = at[col("knee_estimate_deg")];
    check(logged !== "" && seen.est !== null && Math.abs(seen.est - Number(logged)) < 1e-3,
          `the knee angle estimated from EMG is the logged one (${seen.est} vs ${logged} deg)`);
    const after = events.filter((e) => e > seen.t).length;
    return { seen, after };
  };
  check(await page.evaluate(() => document.getElementById("angles").textContent.includes("knee from EMG")),
        "the angle plot has the knee angle from EMG beside the goniometer");
  const before = await scrubTo(1.5);
  check(before.after > 0 && before.seen.dimmed === before.after,
        `at ${before.seen.t.toFixed(2)} s the ${before.after} safety events still to come are dimmed (${before.seen.dimmed})`);
  const tHold = Number(holdRow[col("time_s")]);
  const hold = await scrubTo(tHold + 0.5);
  check(hold.seen.mode === "HOLD", "half a second into the hold the page says HOLD");
  check(hold.seen.dimmed === hold.after, `then ${hold.after} events after the cursor are dimmed (${hold.seen.dimmed})`);
  check(/t = \d/.test(hold.seen.label), `the cursor's time is shown ("${hold.seen.label}")`);
  await page.screenshot({ path: path.join(outDir, "review.png") });
  check(fs.statSync(path.join(outDir, "review.png")).size > 20000, "screenshot saved: " + path.join(outDir, "review.png"));
  // Play moves the cursor at the run's pace.
  const t0 = await page.evaluate(() => window.myoexoConsole.review.cursorT);
  await click(page, "#play");
  await sleep(800);
  await click(page, "#play");
  const t1 = await page.evaluate(() => window.myoexoConsole.review.cursorT);
  check(t1 - t0 > 0.3 && t1 - t0 < 2.0, `Play moves the cursor (${t0.toFixed(2)} -> ${t1.toFixed(2)} s in 0.8 s)`);
  const cmd = await fetch(base + "api/command", { method: "POST", headers: { "Content-Type": "application/json" },
                                                  body: JSON.stringify({ command: "estop" }) });
  check(cmd.status === 409, `a command to a review is refused (${cmd.status})`);
  await page.close();
  rv.proc.kill("SIGINT");
  check((await rv.done) === 0, "Ctrl-C ends the review");

  // A run killed mid-write: the last line cut short, no summary.json. It opens; the cut line is left out, said so.
  const killed = path.join(outDir, "killed");
  fs.mkdirSync(killed, { recursive: true });
  const text = fs.readFileSync(path.join(run, "run_log.csv"), "utf8");
  fs.writeFileSync(path.join(killed, "run_log.csv"), text.slice(0, Math.floor(text.length / 2)).replace(/\n[^\n]*$/, "\n0.5,re"));
  fs.copyFileSync(path.join(run, "events.csv"), path.join(killed, "events.csv"));
  const rk = review(killed);
  const kbase = await rk.url;
  const kj = await (await fetch(kbase + "api/review")).json();
  check(kj.truncated_lines === 1 && kj.ticks.t.length > 100 && /cut-short/.test(rk.text()),
        `a killed run's log opens (${kj.ticks.t.length} ticks, ${kj.truncated_lines} cut-short line left out)`);
  rk.proc.kill("SIGINT");
  await rk.done;

  // A corrupt log is refused with the file and line.
  const bad = path.join(outDir, "corrupt");
  fs.mkdirSync(bad, { recursive: true });
  const lines = text.split("\n");
  lines[5] = lines[5].replace(/^[^,]*/, "zero");
  fs.writeFileSync(path.join(bad, "run_log.csv"), lines.join("\n"));
  const rb = spawnSync(myoexo, ["review", bad, "--http-port", "0", "--seconds", "1"]);
  const err = String(rb.stderr);
  check(rb.status !== 0 && /run_log\.csv:6/.test(err), `a corrupt log is refused with its file and line ("${err.trim()}")`);
} finally {
  await browser.close();
}
const failed = checks.filter(([ok]) => !ok).length;
console.log(`${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
