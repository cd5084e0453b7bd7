// The demo end to end in a real browser: runs scripts/demo.sh (every process real,
// on 127.0.0.1), drives Debian's headless chromium with playwright-core and checks
// the page against the devices themselves (their logs) and an independent MQTT
// subscriber (mosquitto_sub). Screenshots go to the artefact directory.
//
//   node dashboard/tests/browser.test.mjs BUILD_DIR ARTEFACT_DIR
//
// Prints one line per check ("ok N - ..."), then "N passed, M failed"; exits 1 on a failure.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const require = createRequire(path.join(root, "dashboard/web/package.json"));
const { chromium } = require("playwright-core");

const build = path.resolve(process.argv[2] || "build/test-plain");
const out = path.resolve(process.argv[3] || path.join(build, "dashboard-e2e"));
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const work = path.join(out, "work");
const DEVICES = ["barn-1", "field-1", "gate-1", "greenhouse-1", "greenhouse-2", "tractor-1"];

let passed = 0, failed = 0, n = 0;
function check(cond, what, detail = "") {
  n++;
  if (cond) { passed++; console.log(`ok ${n} - ${what}`); }
  else { failed++; console.log(`not ok ${n} - ${what}${detail ? ": " + detail : ""}`); }
  return cond;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (id) => { try { return fs.readFileSync(path.join(work, "logs", id + ".log"), "utf8"); } catch { return ""; } };
const pidOf = (name) => +fs.readFileSync(path.join(work, "pids", name + ".pid"), "utf8").trim();
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
async function until(fn, ms, step = 100) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(step)) if (await fn()) return true;
  return !!(await fn());
}

// ---- start the demo (its own process group, as a terminal would run it)
const t0 = Date.now();
const demo = spawn(path.join(root, "scripts/demo.sh"), ["--build-dir", build, "--work", work],
  { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] });
let demoOut = "";
demo.stdout.on("data", (d) => { demoOut += d; });
demo.stderr.on("data", (d) => { demoOut += d; });
let demoExit = null;
demo.on("exit", (code, sig) => { demoExit = { code, sig }; });

let browser = null;
let status = 1;
try {
  const ready = await until(() => /demo: ready in/.test(demoOut) || demoExit, 240000, 200);
  const m = demoOut.match(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/);
  if (!check(ready && m && !demoExit, "the demo prints the dashboard's address", demoOut.slice(-2000))) throw new Error("no demo");
  const url = m[1];
  const readyLine = (demoOut.match(/demo: ready in [\d.]+ s[^\n]*/) || [""])[0];
  console.log(`# ${readyLine} (${((Date.now() - t0) / 1000).toFixed(1)} s measured by the test)`);
  const broker = (demoOut.match(/private mosquitto on 127\.0\.0\.1:(\d+)/) || [])[1];

  browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const tOpen = Date.now();
  await page.goto(url);

  // -- every device appears, online, within a few seconds
  const rowsOnline = async () => page.$$eval("#devices tbody tr[data-status=online]", (rs) => rs.map((r) => r.dataset.id));
  const allThere = await until(async () => (await rowsOnline()).length === DEVICES.length, 10000);
  check(allThere, `all ${DEVICES.length} devices listed online within 10 s (${((Date.now() - tOpen) / 1000).toFixed(1)} s)`,
    JSON.stringify(await rowsOnline()));
  const transports = await page.$$eval("#devices tbody tr td.transport", (tds) => tds.map((t) => t.textContent));
  check(["mqtt", "coaps", "http"].every((t) => transports.includes(t)), "the list shows the three transports", transports.join(","));

  // -- the filter box
  await page.fill("#filter", "coaps");
  const visible = await page.$$eval("#devices tbody tr:not([hidden])", (rs) => rs.map((r) => r.dataset.id));
  check(visible.length === 1 && visible[0] === "field-1", "the filter box keeps only the matching device", visible.join(","));
  await page.fill("#filter", "");

  // -- a chart's latest value changes
  await page.click('#devices tr[data-id="greenhouse-2"]');
  await until(async () => /points/.test(await page.textContent("#chart-latest")), 5000);
  const before = await page.textContent("#chart-latest");
  const changed = await until(async () => (await page.textContent("#chart-latest")) !== before, 10000);
  check(changed && (await page.$("#chart canvas")) !== null, "the chart's latest value changes live", before);
  await until(async () => (await page.$$("#events li")).length > 0, 15000);
  check((await page.$$("#events li")).length > 0, "edge rules' events show in the feed");
  await page.screenshot({ path: path.join(out, "dashboard.png") });

  // -- a command clicked in the page reaches the device, its response is shown
  await page.click('#devices tr[data-id="field-1"]');
  await page.selectOption("#command-name", "set_interval");
  await page.fill("#command-params", '{"interval_ms": 1300}');
  await page.click("#command-send");
  const answered = await until(async () => /response in/.test(await page.textContent("#command-result")), 15000);
  const res = await page.textContent("#command-result");
  check(answered && res.includes('"interval_ms":1300'), "a command's response is shown in the page", res);
  check(await until(() => /command [^:]+: interval_ms=1300/.test(log("field-1")), 5000),
    "the command reached the device (coaps://, its own log)");

  // -- a desired-state edit reaches the device
  await page.click('#devices tr[data-id="gate-1"]');
  await page.fill("#desired-editor", '{"interval_ms": 1100}');
  await page.click("#desired-apply");
  await until(async () => /published version/.test(await page.textContent("#desired-result")), 10000);
  const dres = await page.textContent("#desired-result");
  check(/published version \d+/.test(dres), "the page shows the published desired version", dres);
  check(await until(() => /desired version \d+: interval_ms=1100/.test(log("gate-1")), 15000),
    "the desired state reached the device (http://, its own log)");
  await page.screenshot({ path: path.join(out, "controls.png") });

  // -- bad input: invalid JSON in the desired-state editor: a clear error, nothing sent
  const desiredLines = () => (log("gate-1").match(/desired version \d+/g) || []).length;
  const verBefore = (await (await fetch(url + "api/devices/gate-1/desired")).json()).version;
  const linesBefore = desiredLines();
  await page.fill("#desired-editor", '{"interval_ms": 900,');
  await page.click("#desired-apply");
  const bad = await page.textContent("#desired-result");
  check(/not valid JSON/.test(bad) && /nothing sent/.test(bad) &&
    (await page.getAttribute("#desired-result", "class")).includes("error"), "invalid JSON in the editor: a clear error", bad);
  await page.fill("#desired-editor", "[1, 2]");
  await page.click("#desired-apply");
  check(/must be a JSON object/.test(await page.textContent("#desired-result")), "a JSON array in the editor: a clear error");
  await sleep(1500);
  const verAfter = (await (await fetch(url + "api/devices/gate-1/desired")).json()).version;
  check(verAfter === verBefore && desiredLines() === linesBefore, "and nothing was sent (same version, the device saw nothing)",
    `${verBefore} -> ${verAfter}`);

  // -- a device killed by the test turns offline in the page
  const victim = "tractor-1", vpid = pidOf(victim);
  process.kill(vpid, "SIGKILL");
  check(await until(() => !alive(vpid), 5000), `${victim} (pid ${vpid}) killed`);
  // Killed, it says nothing: the broker's last will comes after its keepalive (1.5 x), the fleet's
  // heartbeat (5 s) marks it stale first.
  const rowStatus = (id) => page.getAttribute(`#devices tr[data-id="${id}"]`, "data-status");
  check(await until(async () => (await rowStatus(victim)) !== "online", 20000), `${victim} turns stale in the page`,
    await rowStatus(victim));
  const offline = await until(async () => (await rowStatus(victim)) === "offline", 90000, 250);
  check(offline, `${victim} turns offline in the page (the broker's last will)`, await rowStatus(victim));
  await page.screenshot({ path: path.join(out, "offline.png") });

  // -- a command to an offline device: a clear error, nothing sent (checked on the broker)
  let sub = null, subOut = "";
  if (broker) {
    sub = spawn("mosquitto_sub", ["-h", "127.0.0.1", "-p", broker, "-v", "-t", `iotkit/v1/${victim}/commands/request`]);
    sub.stdout.on("data", (d) => { subOut += d; });
    await sleep(500);
  }
  await page.click(`#devices tr[data-id="${victim}"]`);
  await page.selectOption("#command-name", "ping");
  await page.fill("#command-params", "");
  await page.click("#command-send");
  await until(async () => /failed/.test(await page.textContent("#command-result")), 10000);
  const off = await page.textContent("#command-result");
  check(/offline/.test(off) && (await page.getAttribute("#command-result", "class")).includes("error"),
    "a command to an offline device: a clear error", off);
  if (sub) {
    await sleep(1000);
    sub.kill("SIGTERM");
    check(subOut === "", "and nothing was sent (no request on the broker)", subOut);
  }
  // -- a command with params that are not JSON: a clear error, nothing sent
  await page.click('#devices tr[data-id="barn-1"]');
  await page.selectOption("#command-name", "set_interval");
  await page.fill("#command-params", "{interval_ms: 5}");
  const barnBefore = (log("barn-1").match(/command [^:]+: interval_ms/g) || []).length;
  await page.click("#command-send");
  const pbad = await page.textContent("#command-result");
  await sleep(1000);
  check(/not valid JSON/.test(pbad) && /nothing sent/.test(pbad) &&
    (log("barn-1").match(/command [^:]+: interval_ms/g) || []).length === barnBefore, "command params that are not JSON: a clear error, nothing sent", pbad);

  // -- rollouts: started and watched, or visibly unavailable
  const info = await (await fetch(url + "api/info")).json();
  if (!info.rollouts) {
    const note = await page.textContent("#rollout-unavailable");
    check(await page.isVisible("#rollout-unavailable") && /not available/.test(note) && !(await page.isVisible("#rollout-start")),
      "OTA rollouts are shown as unavailable, with the reason", note);
  } else {
    check(false, "rollouts: the binding has them but this test does not drive them yet");
  }

  // -- the locations plot has every device's position
  if (info.locations) {
    const tracks = await Promise.all(DEVICES.map(async (id) => (await (await fetch(`${url}api/devices/${id}/track`)).json()).points.length));
    check(tracks.every((k) => k > 0), "every device has a position for the locations plot", tracks.join(","));
  } else {
    check(/not available/.test(await page.textContent("#map-note")), "the locations plot says it is unavailable");
  }
  check(pageErrors.length === 0, "no JavaScript error in the page", pageErrors.join("; "));
  await page.screenshot({ path: path.join(out, "final.png"), fullPage: true });
  status = 0;
} catch (e) {
  check(false, "the test ran to its end", String(e && e.stack || e));
} finally {
  if (browser) await browser.close();
  // ---- Ctrl-C: SIGINT to the demo's process group; then no process of it may be left
  const pids = fs.existsSync(path.join(work, "pids")) ? fs.readdirSync(path.join(work, "pids")).map((f) => [f, +fs.readFileSync(path.join(work, "pids", f), "utf8")]) : [];
  if (demoExit === null) {
    try { process.kill(-demo.pid, "SIGINT"); } catch { /* gone */ }
    const stopped = await until(() => demoExit !== null, 30000);
    check(stopped && (demoExit.code === 130 || demoExit.code === 0), "Ctrl-C stops the demo", JSON.stringify(demoExit));
    if (!stopped) try { process.kill(-demo.pid, "SIGKILL"); } catch { /* gone */ }
  }
  const left = pids.filter(([, p]) => alive(p)).map(([f, p]) => `${f}=${p}`);
  check(pids.length >= DEVICES.length + 2 && left.length === 0, "no process of the demo is left running", left.join(" ") || `${pids.length} pids`);
  const ps = spawnSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.includes(work) && !l.includes("ps -eo"));
  check(ps.length === 0, "no process refers to the demo's work directory", ps.join(" | "));
  fs.writeFileSync(path.join(out, "demo.log"), demoOut);
  console.log(`# artefacts: ${out}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed || status ? 1 : 0);
}
