#!/usr/bin/env node
// Browser test: the seed's example flow through the try-it page, in headless Chromium (Debian's
// package, driven by playwright-core; nothing is downloaded). Customer, provider and admin each
// use their own browser context against a local `wrangler dev` (with the contact guard masking);
// every step asserts what each screen shows: chatting, masked contact details and a report, an
// admin hiding a message and freezing the chat, a photo (its location stripped) and a PDF, a phone,
// and the chat closing. Screenshots go to test-results/screenshots/ (untracked); `npm run
// screenshots` writes them to docs/screenshots/ instead, to refresh the README's pictures on purpose.
// Loopback only; stops by itself.
//   npm run test:browser         (needs /usr/bin/chromium: apt-get install -y chromium)
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { transform } from "esbuild";
import { chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";
const PORT = 8796;
const BASE = `http://127.0.0.1:${PORT}`;
const ROOT = new URL("..", import.meta.url).pathname;
const WRANGLER = `${ROOT}node_modules/wrangler/bin/wrangler.js`;
const SHOTS = process.env.SCREENSHOTS_DIR
  ? new URL(process.env.SCREENSHOTS_DIR, `file://${process.cwd()}/`).pathname
  : `${ROOT}test-results/screenshots`;
const STEP_MS = 15_000;

if (!existsSync(CHROMIUM)) {
  console.error(`FAIL: ${CHROMIUM} is missing; install it with: apt-get install -y chromium`);
  process.exit(1);
}

const state = mkdtempSync(join(tmpdir(), "spana-browser-"));
let server = null;
let browser = null;
const hardStop = setTimeout(() => finish(new Error("timed out after 300 s")), 300_000);

async function finish(error) {
  clearTimeout(hardStop);
  await browser?.close().catch(() => {});
  if (server) killTree(server.pid);
  rmSync(state, { recursive: true, force: true });
  if (error) {
    console.error(`FAIL: ${error.message}`);
    process.exit(1);
  }
  console.log("PASS");
  process.exit(0);
}

/** Kills a process and everything it started (wrangler runs workerd as a grandchild). */
function killTree(pid) {
  let children = [];
  try {
    children = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .map((s) => Number(s.trim()))
      .filter(Boolean);
  } catch {
    // no children
  }
  for (const child of children) killTree(child);
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

async function startServer() {
  execFileSync(process.execPath, [`${ROOT}scripts/build-web.mjs`, "--page"]);
  execFileSync(
    process.execPath,
    [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", state],
    {
      stdio: "ignore",
    },
  );
  const args = ["dev", "--port", String(PORT), "--persist-to", state, "--var", "CONTACT_POLICY:mask"];
  server = spawn(process.execPath, [WRANGLER, ...args], {
    stdio: process.env.BROWSER_TEST_LOG ? "inherit" : "ignore",
    cwd: ROOT,
    // wrangler.toml's [build] rebuilds public/ as wrangler starts: with the try-it page.
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", TRY_IT_PAGE: "1" },
  });
  for (let i = 0; i < 120; i++) {
    if (
      await fetch(`${BASE}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error("server did not start");
}

/** Console errors of every page; the page's expected refusals must not log any. */
const consoleErrors = [];
/** Errors the browser itself logs for a refusal a step provokes on purpose, by page label. */
const expectedErrors = new Map();

/** Opens the page in a fresh context (its own session storage). */
/** A phone screen must not scroll sideways: nothing may be wider than the viewport. */
async function expectNoSidewaysScroll(page, screen) {
  const { scrollWidth, width } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  if (scrollWidth > width) throw new Error(`${screen} is ${scrollWidth} px wide on a ${width} px phone`);
}

async function openPage(label, viewport = { width: 1100, height: 760 }, { quiet = false } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (error) => consoleErrors.push(`[${label}] page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error" || quiet) return;
    if (expectedErrors.get(label)?.test(message.text())) return;
    consoleErrors.push(`[${label}] ${message.text()}`);
  });
  await page.goto(BASE);
  return page;
}

async function signIn(role, userId, viewport) {
  const page = await openPage(userId, viewport);
  await fillSignIn(page, role, userId);
  await expectText(page.getByTestId("whoami"), userId, `${userId} is signed in`);
  return page;
}

async function fillSignIn(page, role, userId) {
  await page.getByTestId("signin-role").selectOption(role);
  await page.getByTestId("signin-user").fill(userId);
  await page.getByTestId("signin-button").click();
}

async function expectText(locator, text, what, timeout = STEP_MS) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout });
  } catch {
    throw new Error(`expected ${what} (text "${text}")`);
  }
}

async function expectHidden(locator, what) {
  try {
    await locator.waitFor({ state: "hidden", timeout: STEP_MS });
  } catch {
    throw new Error(`expected ${what}`);
  }
}

/** The element is on screen and on top: not scrolled away, not under the sticky header. */
async function expectOnTop(page, testid, what) {
  const onTop = await page.getByTestId(testid).evaluate((node) => {
    const box = node.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) return false;
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return hit !== null && node.contains(hit);
  });
  if (!onTop) throw new Error(`expected ${what}`);
}

/** The message (a `message` item) holding `text`. */
const messageWith = (page, text) => page.getByTestId("message").filter({ hasText: text }).last();

/** Waits for a photo to be drawn (an <img> with pixels) in a message of the other party, or the viewer's. */
async function expectPhoto(page, what, { mine = false } = {}) {
  const selector = `[data-testid="message"]${mine ? ".mine" : ":not(.mine)"} [data-testid="attachment-image"]`;
  try {
    await page.waitForFunction(
      (images) => [...document.querySelectorAll(images)].some((img) => img.complete && img.naturalWidth > 0),
      selector,
      { timeout: STEP_MS },
    );
  } catch {
    throw new Error(`expected ${what}`);
  }
}

/** Accepts the next prompt (or confirm) on `page` with `answer`. */
const answerNextPrompt = (page, answer) => page.once("dialog", (dialog) => void dialog.accept(answer));

/** The unit tests' hand-built JPEG pieces (test/fixtures/jpeg.ts), loaded here as JavaScript. */
async function jpegFixtures() {
  const source = readFileSync(`${ROOT}test/fixtures/jpeg.ts`, "utf8");
  const { code } = await transform(source, { loader: "ts", format: "esm" });
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}

/** A photo of a leak, drawn by the browser and encoded as JPEG (so it surely decodes there). */
async function drawPhoto(page) {
  const bytes = await page.evaluate(async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 480;
    canvas.height = 360;
    const g = canvas.getContext("2d");
    g.fillStyle = "#dfe7ec";
    g.fillRect(0, 0, 480, 360);
    g.strokeStyle = "#c2cdd5";
    g.lineWidth = 3;
    for (let x = 0; x <= 480; x += 60) g.strokeRect(x, 0, 60, 270);
    for (let y = 0; y <= 270; y += 60) g.strokeRect(0, y, 480, 60);
    g.fillStyle = "#6d4c35";
    g.fillRect(0, 270, 480, 90);
    g.fillStyle = "#9aa4ab";
    g.fillRect(215, 0, 40, 170);
    g.beginPath();
    g.arc(275, 170, 60, Math.PI, 0, true);
    g.lineWidth = 38;
    g.strokeStyle = "#9aa4ab";
    g.stroke();
    g.fillStyle = "#9aa4ab";
    g.fillRect(316, 60, 38, 112);
    g.fillStyle = "#2f8fd8";
    for (const [x, y, r] of [
      [282, 245, 9],
      [276, 268, 7],
      [290, 288, 6],
    ]) {
      g.beginPath();
      g.arc(x, y, r, 0, Math.PI * 2);
      g.fill();
    }
    g.beginPath();
    g.ellipse(280, 318, 110, 22, 0, 0, Math.PI * 2);
    g.fill();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    return [...new Uint8Array(await blob.arrayBuffer())];
  });
  return Uint8Array.from(bytes);
}

/**
 * `jpeg` as a phone would send it, with an EXIF segment holding only a GPS position, after the JFIF
 * segment; also the latitude's bytes, which must not reach the other party.
 */
function withLocation(jpeg, { bytes, segment, tiffWriter }) {
  const w = tiffWriter("II");
  // Offsets count from the TIFF header (8 bytes): IFD0 with its one entry, then the GPS IFD, then
  // the two positions it points at.
  const gpsAt = 8 + 2 + 12 + 4;
  const latAt = gpsAt + 2 + 4 * 12 + 4;
  const ifd0 = w.ifd([{ tag: 0x8825, type: 4, count: 1, value: gpsAt }]);
  const gps = w.ifd([
    { tag: 0x0001, type: 2, count: 2, value: bytes("S\0") },
    { tag: 0x0002, type: 5, count: 3, value: latAt },
    { tag: 0x0003, type: 2, count: 2, value: bytes("E\0") },
    { tag: 0x0004, type: 5, count: 3, value: latAt + 24 },
  ]);
  const latitude = w.rationals([26, 1], [12, 1], [3456, 100]);
  const longitude = w.rationals([28, 1], [2, 1], [4321, 100]);
  const exif = segment(0xe1, bytes("Exif\0\0", "II", w.u16(42), w.u32(8), ifd0, gps, latitude, longitude));
  const jfifEnd = jpeg[3] === 0xe0 ? 4 + ((jpeg[4] << 8) | jpeg[5]) : 2;
  return { photo: bytes(jpeg.subarray(0, jfifEnd), exif, jpeg.subarray(jfifEnd)), latitude };
}

/** A one-page PDF, as small as a viewer takes it. */
const TINY_PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
    "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
);

async function step(name, run) {
  const started = Date.now();
  await run();
  console.log(`ok  ${name} (${Date.now() - started} ms)`);
}

/** Bookings made outside the page, through the API, as the given customer. */
async function bookThroughApi(customerId, providerId, count) {
  const post = async (path, body, token) => {
    const res = await fetch(`${BASE}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const { token } = await post("/dev/token", { role: "customer", userId: customerId });
  for (let i = 0; i < count; i++) await post("/bookings", { providerId }, token);
}

async function main() {
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
  const suffix = Math.random().toString(36).slice(2, 8);
  const names = { customer: `alice-${suffix}`, provider: `bob-${suffix}`, admin: `root-${suffix}` };
  let bookingId = "";
  let customer;
  let provider;
  let admin;
  let phone;

  await step("a visitor sees what the page is for, and why a sign-in is refused", async () => {
    // The refused sign-in is a real error, which the browser logs; the other pages must log none.
    const visitor = await openPage("visitor", undefined, { quiet: true });
    await expectText(visitor.getByTestId("intro"), "Try the booking chat", "the introduction");
    await visitor.screenshot({ path: `${SHOTS}/landing.png` });
    await fillSignIn(visitor, "customer", "al_ice");
    await expectText(
      visitor.getByTestId("notice"),
      "ids may contain only",
      "the server's reason for the 400",
    );
    const notice = await visitor.getByTestId("notice").textContent();
    if (notice.includes("disabled"))
      throw new Error(`a refused user id is not a disabled sign-in: ${notice}`);
    await visitor.context().close();
  });

  await step("customer signs in and books the provider", async () => {
    customer = await signIn("customer", names.customer);
    await customer.getByTestId("new-booking-provider").fill(names.provider);
    await customer.getByTestId("new-booking-button").click();
    const item = customer.getByTestId("booking-item").first();
    await item.waitFor({ timeout: STEP_MS });
    bookingId = await item.getAttribute("data-booking-id");
    await expectText(customer.getByTestId("booking-party"), names.provider, "the list names the provider");
    await expectText(
      customer.getByTestId("chat-title"),
      `Chat with ${names.provider}`,
      "the chat names the provider",
    );
    await customer.getByTestId("cancel-button").waitFor({ state: "visible", timeout: STEP_MS });
    await expectText(
      customer.getByTestId("chat-state"),
      "Waiting for payment",
      "the customer waits for payment",
    );
  });

  await step("an admin who signs in later finds the booking, and is told to pick one first", async () => {
    admin = await signIn("admin", names.admin);
    await expectText(admin.getByTestId("list-live"), "Live", "the admin's feed said to be live");
    await admin.getByTestId("admin-pay-button").click();
    await expectText(admin.getByTestId("notice"), "Pick a booking", "a hint instead of a dead button");
    const item = admin.locator(`[data-booking-id="${bookingId}"]`);
    // The admin list reads D1, which a room writes within seconds of a change.
    const deadline = Date.now() + STEP_MS;
    while (!(await item.isVisible()) && Date.now() < deadline) {
      await admin.getByTestId("refresh-button").click();
      await admin.waitForTimeout(500);
    }
    await item.click();
    const picked = await admin.getByTestId("admin-booking-id").inputValue();
    if (picked !== bookingId) throw new Error(`picking a booking must fill its id, got "${picked}"`);
    await expectText(
      admin.getByTestId("chat-state"),
      "Waiting for payment",
      "the admin sees the booking's state",
    );
  });

  await step("admin confirms payment and sees it on the live feed", async () => {
    await admin.getByTestId("admin-pay-button").click();
    await expectText(admin.getByTestId("feed-item"), "paid", "the feed shows the payment");
    await expectText(customer.getByTestId("booking-state"), "Waiting for provider", "the customer waits");
  });

  await step("provider sees the booking and accepts; both sides go live", async () => {
    provider = await signIn("service_provider", names.provider);
    const item = provider.locator(`[data-booking-id="${bookingId}"]`);
    await item.waitFor({ timeout: STEP_MS });
    await expectText(
      item.getByTestId("booking-party"),
      names.customer,
      "the provider's list names the customer",
    );
    await item.click();
    await provider.getByTestId("decline-button").waitFor({ state: "visible", timeout: STEP_MS });
    await provider.getByTestId("accept-button").click();
    await expectHidden(provider.getByTestId("decline-button"), "no Decline once accepted");
    await expectText(provider.getByTestId("chat-state"), "Live", "the provider's chat is live");
    await expectText(customer.getByTestId("chat-state"), "Live", "the customer's chat is live");
    await expectText(admin.getByTestId("feed-item"), "accepted", "the feed shows the acceptance");
  });

  await step("admin watches the chat, read-only and told so", async () => {
    await admin.getByTestId("admin-watch-button").click();
    await expectText(admin.getByTestId("chat-state"), "Live", "the admin watches a live chat");
    const input = admin.getByTestId("message-input");
    if (!(await input.isDisabled())) throw new Error("the admin must not be able to write");
    const placeholder = await input.getAttribute("placeholder");
    if (!placeholder.includes("read-only"))
      throw new Error(`the admin's composer must say why: "${placeholder}"`);
  });

  await step("each side sees the other online, and typing", async () => {
    await expectText(
      customer.getByTestId("presence"),
      `${names.provider} online`,
      "the customer sees the provider online",
    );
    await expectText(
      provider.getByTestId("presence"),
      `${names.customer} online`,
      "the provider sees the customer online",
    );
    await customer.getByTestId("message-input").pressSequentially("Hi");
    await expectText(
      provider.getByTestId("typing"),
      `${names.customer} is typing`,
      "the provider sees the customer typing",
    );
    await customer.getByTestId("message-input").fill("");
  });

  await step("customer and provider chat; the admin sees every message", async () => {
    await customer.getByTestId("message-input").fill("Hi, when can you come?");
    await customer.getByTestId("send-button").click();
    await expectText(
      provider.getByTestId("message"),
      "Hi, when can you come?",
      "the provider gets the message",
    );
    await provider.getByTestId("message-input").fill("Tomorrow at 9");
    await provider.getByTestId("send-button").click();
    await expectText(customer.getByTestId("message"), "Tomorrow at 9", "the customer gets the reply");
    await expectText(admin.getByTestId("message"), "Tomorrow at 9", "the admin's chat view shows the reply");
    await expectText(admin.getByTestId("feed-item"), "Hi, when can you come?", "the feed shows the message");
    const times = await customer.getByTestId("message-time").allTextContents();
    if (!times.every((t) => /\d{1,2}:\d{2}/.test(t)))
      throw new Error(`messages must show times, got ${times}`);
  });

  await step("read marks: the customer sees the provider read its message", async () => {
    const mine = customer.locator('[data-testid="message"].mine').first();
    try {
      await customer
        .locator('[data-testid="message"].mine[data-read="true"]')
        .first()
        .waitFor({ timeout: STEP_MS });
    } catch {
      throw new Error(`expected a read mark on "${await mine.textContent()}"`);
    }
  });

  await step("a reload keeps the customer signed in, with the chat and its history", async () => {
    await customer.reload();
    await expectText(customer.getByTestId("whoami"), names.customer, "still signed in after a reload");
    await customer.locator(`[data-booking-id="${bookingId}"]`).click();
    await expectText(customer.getByTestId("message"), "Tomorrow at 9", "the history after a reload");
    await expectText(customer.getByTestId("chat-state"), "Live", "the chat is live again after a reload");
  });

  await step("contact details are masked for the other party, who reports the message", async () => {
    await provider.getByTestId("message-input").fill("Or call me on 082 555 0199 and pay me directly");
    await provider.getByTestId("send-button").click();
    const seen = messageWith(customer, "pay me directly");
    await expectText(seen, "[hidden]", "the customer reads [hidden] in place of the number");
    if ((await seen.textContent()).includes("555 0199"))
      throw new Error("the customer must not see the number");
    await expectText(seen.getByTestId("message-masked"), "Contact details hidden", "a masked note");
    await expectText(
      messageWith(provider, "pay me directly").getByTestId("message-masked"),
      "hidden from the other party",
      "the sender is told the other party reads it masked",
    );
    if ((await messageWith(customer, "Hi, when can you come?").getByTestId("report-button").count()) > 0)
      throw new Error("a party can only report the other party's messages");
    answerNextPrompt(customer, "Asks me to pay outside the platform");
    await seen.getByTestId("report-button").click();
    await expectText(seen.getByTestId("report-button"), "Reported", "the report is acknowledged");
  });

  await step("an admin hides the message; the parties see it hidden, the admin still reads it", async () => {
    const watched = messageWith(admin, "555 0199");
    answerNextPrompt(admin, "Contact details after a report");
    await watched.getByTestId("hide-button").click();
    for (const [who, page] of [
      ["customer", customer],
      ["provider", provider],
    ]) {
      await expectText(page.getByTestId("message-hidden"), "Hidden by an admin", `the ${who} sees it hidden`);
      if ((await messageWith(page, "pay me directly").count()) > 0)
        throw new Error(`the ${who} still sees the hidden message's text`);
    }
    await expectText(watched.getByTestId("message-hidden"), "Hidden from the parties", "the admin's marker");
    await expectHidden(watched.getByTestId("hide-button"), "no Hide button on a hidden message");
  });

  await step("an admin freezes the chat: the parties cannot send until it is unfrozen", async () => {
    answerNextPrompt(admin, "Looking into a report");
    await admin.getByTestId("freeze-button").click();
    await expectText(admin.getByTestId("chat-frozen"), "Frozen", "the admin sees the chat frozen");
    for (const [who, page] of [
      ["customer", customer],
      ["provider", provider],
    ]) {
      await expectText(page.getByTestId("chat-frozen"), "paused", `the ${who} sees the frozen banner`);
      for (const control of ["message-input", "send-button", "file-input"])
        if (!(await page.getByTestId(control).isDisabled()))
          throw new Error(`the ${who}'s ${control} must be disabled while frozen`);
    }
    // Opened afresh, the chat says so from the booking itself.
    await provider.locator(`[data-booking-id="${bookingId}"]`).click();
    await expectText(provider.getByTestId("chat-state"), "Live", "the provider's chat reopens");
    await expectText(provider.getByTestId("chat-frozen"), "paused", "the banner from chatFrozenAt");
    if (!(await provider.getByTestId("message-input").isDisabled()))
      throw new Error("the reopened chat must stay read-only while frozen");
    answerNextPrompt(admin, "Sorted out");
    await admin.getByTestId("unfreeze-button").click();
    await expectHidden(customer.getByTestId("chat-frozen"), "the banner gone once unfrozen");
    await expectHidden(provider.getByTestId("chat-frozen"), "the reopened chat unfrozen too");
    await customer
      .getByTestId("message-input")
      .and(customer.locator(":enabled"))
      .waitFor({ timeout: STEP_MS });
    await customer.getByTestId("message-input").fill("Thanks, all sorted");
    await customer.getByTestId("send-button").click();
    await expectText(provider.getByTestId("message"), "Thanks, all sorted", "a message after unfreezing");
  });

  await step("a file the chat does not take is refused, and the page says why", async () => {
    // The browser logs the 415 it gets; that one is expected.
    expectedErrors.set(names.customer, /status of 415/);
    await customer.getByTestId("file-input").setInputFiles({
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("not a photo"),
    });
    await expectText(customer.getByTestId("notice"), "notes.txt was not attached", "the refusal, named");
    await expectText(customer.getByTestId("notice"), "only photos", "what may be sent");
    await expectHidden(customer.getByTestId("pending-files"), "nothing left pending");
    await customer.locator("#notice-close").click();
  });

  await step(
    "the customer sends a photo; the provider and the admin see it, without its location",
    async () => {
      const fixtures = await jpegFixtures();
      const { photo, latitude } = withLocation(await drawPhoto(customer), fixtures);
      if (fixtures.indexOf(photo, latitude) < 0)
        throw new Error("the photo must carry a location to begin with");
      await customer.getByTestId("file-input").setInputFiles({
        name: "leak.jpg",
        mimeType: "image/jpeg",
        buffer: Buffer.from(photo),
      });
      await customer
        .locator('[data-testid="pending-file"][data-state="ready"]')
        .waitFor({ timeout: STEP_MS });
      await customer.getByTestId("message-input").fill("This is the leak under the sink");
      await customer.getByTestId("send-button").click();
      await expectHidden(customer.getByTestId("pending-files"), "the sent photo leaves the pending list");
      await expectText(
        provider.getByTestId("message"),
        "leak under the sink",
        "the provider gets the message",
      );
      await expectPhoto(provider, "the provider sees the photo drawn");
      await expectPhoto(admin, "the admin sees the photo drawn");
      const received = await provider.evaluate(async () => {
        const img = document.querySelector(
          '[data-testid="message"]:not(.mine) [data-testid="attachment-image"]',
        );
        return [...new Uint8Array(await (await fetch(img.src)).arrayBuffer())];
      });
      if (received.length !== photo.length)
        throw new Error(`${received.length} bytes arrived of ${photo.length}`);
      if (fixtures.indexOf(Uint8Array.from(received), latitude) >= 0)
        throw new Error("the photo reached the provider with its location");
    },
  );

  await step("the provider sends a PDF without text; the customer downloads it", async () => {
    await provider.getByTestId("file-input").setInputFiles({
      name: "quote.pdf",
      mimeType: "application/pdf",
      buffer: TINY_PDF,
    });
    await provider.locator('[data-testid="pending-file"][data-state="ready"]').waitFor({ timeout: STEP_MS });
    await provider.getByTestId("send-button").click();
    const chip = customer.getByTestId("attachment-file").filter({ hasText: "quote.pdf" });
    await chip.waitFor({ timeout: STEP_MS });
    const [download] = await Promise.all([
      customer.waitForEvent("download", { timeout: STEP_MS }),
      chip.click(),
    ]);
    if (download.suggestedFilename() !== "quote.pdf")
      throw new Error(`the download is named ${download.suggestedFilename()}`);
    await expectText(
      customer.getByTestId("booking-item"),
      "Sent a file",
      "the list names a file-only message",
    );
  });

  await step("on a phone with five bookings the composer is on screen", async () => {
    await bookThroughApi(names.customer, `other-${suffix}`, 4);
    const signInScreen = await openPage("phone sign-in", { width: 390, height: 844 });
    await expectNoSidewaysScroll(signInScreen, "the sign-in screen");
    await signInScreen.context().close();
    phone = await signIn("customer", names.customer, { width: 390, height: 844 });
    await expectText(phone.getByTestId("booking-item"), "", "the phone lists the bookings");
    await phone.waitForFunction(() => document.querySelectorAll('[data-testid="booking-item"]').length === 5);
    await expectNoSidewaysScroll(phone, "the list of bookings");
    await phone.locator(`[data-booking-id="${bookingId}"]`).click();
    await expectText(phone.getByTestId("chat-state"), "Live", "the phone's chat is live");
    await phone.getByTestId("message-input").and(phone.locator(":enabled")).waitFor({ timeout: STEP_MS });
    await expectPhoto(phone, "the phone shows the customer's photo from history", { mine: true });
    await phone.screenshot({ path: `${SHOTS}/phone.png` });
    const box = await phone.getByTestId("message-input").boundingBox();
    if (!box || box.y + box.height > 844)
      throw new Error(`the composer is below the fold (${JSON.stringify(box)})`);
    const widths = await phone.evaluate(() => {
      const messages = document.getElementById("messages");
      return {
        page: document.documentElement.scrollWidth,
        list: messages.scrollWidth - messages.clientWidth,
      };
    });
    if (widths.page > 390 || widths.list > 0)
      throw new Error(`the phone's chat overflows sideways (${JSON.stringify(widths)})`);
    await phone.getByTestId("message-input").fill("Sent from my phone");
    await phone.getByTestId("send-button").click();
    await expectText(
      provider.getByTestId("message"),
      "Sent from my phone",
      "the provider gets the phone's message",
    );
    await phone.screenshot({ path: `${SHOTS}/phone.png` });
  });

  await step(
    "with the server down the phone says so and keeps a message as sending; back, it goes once",
    async () => {
      // The browsers log the refused connections of the outage; those are expected.
      const outage = /ERR_CONNECTION_REFUSED|WebSocket connection to|Failed to load resource/;
      for (const label of [names.customer, names.provider, names.admin]) expectedErrors.set(label, outage);
      await expectText(customer.getByTestId("list-live"), "Live", "the customer's list said to be live");
      killTree(server.pid);
      server = null;
      await expectText(phone.getByTestId("chat-state"), "Reconnecting", "the phone says it is reconnecting");
      await expectText(customer.getByTestId("list-live"), "Reconnecting", "the customer's list says so too");
      await expectText(admin.getByTestId("list-live"), "Reconnecting", "the admin's list says so too");
      // Admins list on demand only; the feed does not replay what it missed, so its return re-reads.
      const adminCatchesUp = admin.waitForResponse(
        (response) => response.url().includes("/chat/admin/bookings") && response.ok(),
        { timeout: 120_000 },
      );
      await phone.getByTestId("message-input").fill("Written while offline");
      await phone.getByTestId("send-button").click();
      const line = messageWith(phone, "Written while offline");
      await expectText(line.getByTestId("message-sending"), "Sending", "the message shown as sending");
      await expectText(phone.getByTestId("chat-state"), "Offline, 1 waiting", "what waits, counted");
      // The list's refresh fails: the error shows, on top of the page however it is scrolled.
      await expectText(phone.getByTestId("notice"), "Could not load the list", "the list's error");
      await expectOnTop(phone, "notice", "the error in view on the phone");
      await phone.screenshot({ path: `${SHOTS}/phone-offline.png` });
      // In a window short enough to scroll, scrolled to the bottom, the error is still on top.
      await expectText(customer.getByTestId("notice"), "Could not load the list", "the desktop's error");
      await customer.setViewportSize({ width: 1100, height: 420 });
      const scrolled = await customer.evaluate(() => {
        window.scrollTo(0, document.documentElement.scrollHeight);
        return window.scrollY;
      });
      if (scrolled < 100)
        throw new Error(`the short window must scroll to test this (scrolled ${scrolled} px)`);
      await expectOnTop(customer, "notice", "the error in view, not under the header, when scrolled");
      await customer.setViewportSize({ width: 1100, height: 760 });
      await startServer();
      await expectText(phone.getByTestId("chat-state"), "Live", "the phone live again", 40_000);
      await expectHidden(line.getByTestId("message-sending"), "the message no longer sending");
      await expectText(
        provider.getByTestId("message"),
        "Written while offline",
        "the provider gets it",
        40_000,
      );
      await expectText(admin.getByTestId("chat-state"), "Live", "the admin watching again", 40_000);
      await expectText(admin.getByTestId("list-live"), "Live", "the admin's feed live again", 40_000);
      await adminCatchesUp.catch(() => {
        throw new Error("expected the admin's list read again once its feed is back");
      });
      await expectText(customer.getByTestId("list-live"), "Live", "the customer's list live again");
      // An old error does not outstay the next success.
      await expectHidden(phone.getByTestId("notice"), "the list's error cleared once the list loads");
      await expectHidden(customer.getByTestId("notice"), "the other tab's error cleared too");
      const copies = await messageWith(provider, "Written while offline").count();
      if (copies !== 1) throw new Error(`the provider sees the message ${copies} times`);
    },
  );

  await customer.screenshot({ path: `${SHOTS}/customer.png`, fullPage: true });
  await provider.screenshot({ path: `${SHOTS}/provider.png`, fullPage: true });
  await admin.screenshot({ path: `${SHOTS}/admin.png`, fullPage: true });

  await step("admin completes the job; every screen shows the chat closed, with no steps left", async () => {
    // Closing a chat for good is asked about first.
    answerNextPrompt(admin);
    await admin.getByTestId("admin-complete-button").click();
    for (const [who, page] of [
      ["customer", customer],
      ["provider", provider],
      ["admin", admin],
      ["phone", phone],
    ]) {
      await expectText(
        page.getByTestId("chat-closed"),
        "Chat has been terminated as the job is completed",
        `the ${who} sees the chat closed`,
      );
      await expectText(page.getByTestId("chat-state"), "Closed", `the ${who}'s state says closed`);
      if (!(await page.getByTestId("message-input").isDisabled()))
        throw new Error(`the ${who} can still type`);
    }
    await expectHidden(provider.getByTestId("start-button"), "no Start job on a completed booking");
    await expectHidden(provider.getByTestId("complete-button"), "no Complete job on a completed booking");
    await customer.screenshot({ path: `${SHOTS}/customer-closed.png`, fullPage: true });
  });

  await step("sign out returns to the introduction", async () => {
    await customer.getByTestId("signout-button").click();
    await expectText(
      customer.getByTestId("intro"),
      "Try the booking chat",
      "the introduction after signing out",
    );
    await customer.reload();
    await expectText(
      customer.getByTestId("intro"),
      "Try the booking chat",
      "still signed out after a reload",
    );
  });

  if (consoleErrors.length > 0) throw new Error(`the pages logged errors:\n${consoleErrors.join("\n")}`);
}

main().then(
  () => finish(null),
  (error) => finish(error),
);
