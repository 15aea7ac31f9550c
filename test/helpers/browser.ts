// Headless Chromium (Debian's `chromium`) driven by playwright-core, for the flame graph and live page tests.
import { existsSync } from "node:fs";

export const CHROMIUM_BIN = "/usr/bin/chromium";

/** Why a browser test cannot run here, or false. */
export async function browserSkipReason(): Promise<string | false> {
  if (!existsSync(CHROMIUM_BIN)) return "Debian's chromium package is not installed (scripts/setup.sh installs it)";
  try {
    await import("playwright-core");
  } catch {
    return "playwright-core (a devDependency) is not installed";
  }
  return false;
}

export async function launchChromium(): Promise<import("playwright-core").Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM_BIN,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
}
