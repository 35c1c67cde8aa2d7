#!/usr/bin/env node
// Browser test: the seed's example flow through the try-it page, in headless Chromium (Debian's
// package, driven by playwright-core; nothing is downloaded). Customer, provider and admin each
// use their own browser context against a local `wrangler dev`; every step asserts what each
// screen shows; screenshots go to docs/screenshots/. Loopback only; stops by itself.
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
const SHOTS = `${ROOT}docs/screenshots`;
const STEP_MS = 15_000;

if (!existsSync(CHROMIUM)) {
  console.error(`FAIL: ${CHROMIUM} is missing; install it with: apt-get install -y chromium`);
  process.exit(1);
}

const state = mkdtempSync(join(tmpdir(), "spana-browser-"));
let server = null;
let browser = null;
const hardStop = setTimeout(() => finish(new Error("timed out after 150 s")), 150_000);

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

/** Opens the page in a fresh context and signs in. */
async function signIn(role, userId, viewport = { width: 1100, height: 760 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`[${userId}] page error: ${error.message}`));
  await page.goto(BASE);
  await page.getByTestId("signin-role").selectOption(role);
  await page.getByTestId("signin-user").fill(userId);
  await page.getByTestId("signin-button").click();
  await expectText(page.getByTestId("whoami"), userId, `${userId} is signed in`);
  return page;
}

async function expectText(locator, text, what) {
  try {
    await locator.filter({ hasText: text }).first().waitFor({ timeout: STEP_MS });
  } catch {
    throw new Error(`expected ${what} (text "${text}")`);
  }
}

async function step(name, run) {
  const started = Date.now();
  await run();
  console.log(`ok  ${name} (${Date.now() - started} ms)`);
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
  const suffix = Math.random().toString(36).slice(2, 8);
  const names = { customer: `alice-${suffix}`, provider: `bob-${suffix}`, admin: `root-${suffix}` };
  let bookingId = "";
  let customer;
  let provider;
  let admin;

  await step("customer signs in and books the provider", async () => {
    customer = await signIn("customer", names.customer);
    await customer.getByTestId("new-booking-provider").fill(names.provider);
    await customer.getByTestId("new-booking-button").click();
    const item = customer.getByTestId("booking-item").first();
    await item.waitFor({ timeout: STEP_MS });
    bookingId = await item.getAttribute("data-booking-id");
    await expectText(
      customer.getByTestId("chat-state"),
      "Waiting for payment",
      "the customer waits for payment",
    );
  });

  await step("admin confirms payment and sees it on the live feed", async () => {
    admin = await signIn("admin", names.admin);
    await admin.getByTestId("admin-booking-id").fill(bookingId);
    await admin.getByTestId("admin-pay-button").click();
    await expectText(admin.getByTestId("feed-item"), "paid", "the feed shows the payment");
    await expectText(
      customer.getByTestId("booking-state"),
      "Waiting for provider",
      "the customer waits for the provider",
    );
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

  await step("admin watches the chat", async () => {
    await admin.getByTestId("admin-watch-button").click();
    await expectText(admin.getByTestId("chat-state"), "Live", "the admin watches a live chat");
    if (!(await admin.getByTestId("message-input").isDisabled()))
      throw new Error("the admin must not be able to write");
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
    for (const page of [admin]) {
      await expectText(page.getByTestId("message"), "Tomorrow at 9", "the admin's chat view shows the reply");
      await expectText(page.getByTestId("feed-item"), "Hi, when can you come?", "the feed shows the message");
    }
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

  mkdirSync(SHOTS, { recursive: true });
  await customer.screenshot({ path: `${SHOTS}/customer.png`, fullPage: true });
  await provider.screenshot({ path: `${SHOTS}/provider.png`, fullPage: true });
  await admin.screenshot({ path: `${SHOTS}/admin.png`, fullPage: true });

  await step("provider completes the job; every screen shows the chat closed", async () => {
    await provider.getByTestId("complete-button").click();
    for (const [who, page] of [
      ["customer", customer],
      ["provider", provider],
      ["admin", admin],
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
  });

  await step("the customer's chat on a phone", async () => {
    const phone = await signIn("customer", names.customer, { width: 390, height: 844 });
    await phone.locator(`[data-booking-id="${bookingId}"]`).click();
    await expectText(phone.getByTestId("message"), "Tomorrow at 9", "the phone shows the history");
    await expectText(phone.getByTestId("chat-state"), "Closed", "the phone shows the chat closed");
    await phone.screenshot({ path: `${SHOTS}/phone.png`, fullPage: true });
    await customer.screenshot({ path: `${SHOTS}/customer-closed.png`, fullPage: true });
  });
}

main().then(
  () => finish(null),
  (error) => finish(error),
);
