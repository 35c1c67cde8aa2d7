#!/usr/bin/env node
// Browser test: the seed's example flow through the try-it page, in headless Chromium (Debian's
// package, driven by playwright-core; nothing is downloaded). Customer, provider and admin each
// use their own browser context against a local `wrangler dev`; every step asserts what each
// screen shows. Screenshots go to test-results/screenshots/ (untracked); `npm run screenshots`
// writes them to docs/screenshots/ instead, to refresh the README's pictures on purpose.
// Loopback only; stops by itself.
//   npm run test:browser         (needs /usr/bin/chromium: apt-get install -y chromium)
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
const hardStop = setTimeout(() => finish(new Error("timed out after 240 s")), 240_000);

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
  execFileSync(process.execPath, [`${ROOT}scripts/build-web.mjs`]);
  execFileSync(
    process.execPath,
    [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", state],
    {
      stdio: "ignore",
    },
  );
  server = spawn(process.execPath, [WRANGLER, "dev", "--port", String(PORT), "--persist-to", state], {
    stdio: process.env.BROWSER_TEST_LOG ? "inherit" : "ignore",
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
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

/** Opens the page in a fresh context (its own session storage). */
async function openPage(label, viewport = { width: 1100, height: 760 }, { quiet = false } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (error) => consoleErrors.push(`[${label}] page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !quiet) consoleErrors.push(`[${label}] ${message.text()}`);
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

async function expectText(locator, text, what) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: STEP_MS });
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
    await expectText(customer.getByTestId("booking-id"), bookingId, "the full booking id in the list");
    await expectText(
      customer.getByTestId("chat-state"),
      "Waiting for payment",
      "the customer waits for payment",
    );
  });

  await step("an admin who signs in later finds the booking, and is told to pick one first", async () => {
    admin = await signIn("admin", names.admin);
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
    await item.click();
    await provider.getByTestId("accept-button").click();
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

  await step("on a phone with five bookings the composer is on screen", async () => {
    await bookThroughApi(names.customer, `other-${suffix}`, 4);
    phone = await signIn("customer", names.customer, { width: 390, height: 844 });
    await expectText(phone.getByTestId("booking-item"), "", "the phone lists the bookings");
    await phone.waitForFunction(() => document.querySelectorAll('[data-testid="booking-item"]').length === 5);
    await phone.locator(`[data-booking-id="${bookingId}"]`).click();
    await expectText(phone.getByTestId("chat-state"), "Live", "the phone's chat is live");
    await phone.getByTestId("message-input").and(phone.locator(":enabled")).waitFor({ timeout: STEP_MS });
    await phone.screenshot({ path: `${SHOTS}/phone.png` });
    const box = await phone.getByTestId("message-input").boundingBox();
    if (!box || box.y + box.height > 844)
      throw new Error(`the composer is below the fold (${JSON.stringify(box)})`);
    await phone.getByTestId("message-input").fill("Sent from my phone");
    await phone.getByTestId("send-button").click();
    await expectText(
      provider.getByTestId("message"),
      "Sent from my phone",
      "the provider gets the phone's message",
    );
    await phone.screenshot({ path: `${SHOTS}/phone.png` });
  });

  await customer.screenshot({ path: `${SHOTS}/customer.png`, fullPage: true });
  await provider.screenshot({ path: `${SHOTS}/provider.png`, fullPage: true });
  await admin.screenshot({ path: `${SHOTS}/admin.png`, fullPage: true });

  await step("admin completes the job; every screen shows the chat closed, with no steps left", async () => {
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
