// The main job's report as a person opens it: report.html in Debian's headless Chromium (puppeteer-core).
// Usage: node report_browser_test.mjs MYOEXO DATA_ROOT OUT_DIR   ($MYOEXO_DATA overrides DATA_ROOT)
// Runs the quick main job (`myoexo report --quick`), opens OUT_DIR/report/report.html from disk and checks what a
// reader sees: every figure drawn (embedded, nothing fetched), a caption under each, tables rather than pasted JSON,
// the program version and the data used at the top, the per-evaluation pages reachable and drawn too, and none of
// the project's internal wording. Saves report.png (the top of the page). Exit 0 = pass, 77 = skipped.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const [myoexo, dataArg, outDir] = process.argv.slice(2);
const dataRoot = process.env.MYOEXO_DATA || dataArg;
const chromium = "/usr/bin/chromium";
if (!fs.existsSync(path.join(dataRoot || "", "uci-lower-limb", "A_TXT", "1Amar.txt"))) {
  console.log("SKIP: UCI data absent"); process.exit(77);
}
if (!fs.existsSync(chromium)) { console.log("SKIP: chromium absent"); process.exit(77); }
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });

const checks = [];
function check(ok, what) { checks.push([ok, what]); console.log((ok ? "ok   " : "FAIL ") + what); }

const reportDir = path.join(outDir, "report");
const t0 = Date.now();
const r = spawnSync(myoexo, ["-q", "--data", dataRoot, "report", "--quick", "--out", reportDir], { encoding: "utf8" });
if (r.status !== 0) { console.log("FAIL: the quick main job: " + r.stderr); process.exit(1); }
console.log(`quick main job: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// What a page shows: its figures (loaded or not), captions, tables, text and links.
async function inspect(page, file) {
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  return page.evaluate(() => {
    const imgs = [...document.images];
    return {
      images: imgs.length,
      drawn: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
      external: imgs.filter((i) => !i.src.startsWith("data:image/png;base64,")).map((i) => i.src),
      uncaptioned: imgs.filter((i) => {
        let next = i.closest("p") ? i.closest("p").nextElementSibling : null;
        return !(next && /^What this shows/.test(next.textContent.trim()));
      }).map((i) => i.alt),
      tables: document.querySelectorAll("table").length,
      text: document.body.innerText,
      links: [...document.querySelectorAll("a")].map((a) => a.getAttribute("href")),
      height: document.body.scrollHeight,
    };
  });
}

const browser = await puppeteer.launch({ executablePath: chromium, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--allow-file-access-from-files"] });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1600 });
  const top = await inspect(page, path.join(reportDir, "report.html"));
  check(top.images >= 8 && top.drawn === top.images, `report.html draws all of its ${top.images} figures (${top.drawn} drawn)`);
  check(top.external.length === 0, "every figure is embedded in the page (nothing to fetch): " + top.external.slice(0, 3).join(", "));
  check(top.uncaptioned.length === 0, "every figure has a 'What this shows' caption under it" +
        (top.uncaptioned.length ? ": missing for " + top.uncaptioned.join(", ") : ""));
  check(top.tables >= 4, `results are tables (${top.tables} tables)`);
  check(!/^\s*[{[]\s*"/m.test(top.text), "no JSON pasted into the page");
  check(/myoexo \d+\.\d+\.\d+/.test(top.text) && top.text.includes("uci-lower-limb"),
        "the top says which program version made it and from which data");
  check(/knee pathology/.test(top.text) && /normal/.test(top.text), "results are split by group (normal, knee pathology)");
  check(/lda_context/.test(top.text), "the best model on this data is evaluated too");
  const internal = top.text.match(/\b(issue|peers?|declared variant|seed Fig)\b/gi);
  check(!internal, "no internal wording in the report" + (internal ? ": " + [...new Set(internal)].join(", ") : ""));
  const evalLink = top.links.find((h) => h === "evaluation/summary.html");
  check(!!evalLink && fs.existsSync(path.join(reportDir, evalLink)), "the evaluation's own page is linked as HTML");
  await page.screenshot({ path: path.join(outDir, "report.png") });
  if (evalLink) {
    const ev = await inspect(page, path.join(reportDir, evalLink));
    check(ev.images >= 3 && ev.drawn === ev.images && ev.uncaptioned.length === 0,
          `the evaluation page draws its ${ev.images} figures, each captioned (${ev.drawn} drawn)`);
    const evInternal = ev.text.match(/\b(issue|peers?|declared variant|seed Fig)\b/gi);
    check(!evInternal, "no internal wording in the evaluation page" + (evInternal ? ": " + [...new Set(evInternal)].join(", ") : ""));
  }
} finally {
  await browser.close();
}
const failed = checks.filter(([ok]) => !ok).length;
console.log(`${checks.length - failed}/${checks.length} checks passed; screenshot ${path.join(outDir, "report.png")}`);
process.exit(failed ? 1 : 0);
