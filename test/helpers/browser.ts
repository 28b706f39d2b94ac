import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build, defaultClientConditions } from 'vite';

/**
 * Debian's Chromium (PLATFORM.md). Without it the browser suites fail in CI (CI=true), and on a
 * person's machine they are skipped with a loud warning saying how to install it.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const what = `Chromium is not at ${CHROMIUM}: the browser suites`;
  const how = 'Install it with `apt-get install chromium` (or set CHROMIUM_PATH).';
  if (process.env.CI) throw new Error(`${what} cannot run in CI. ${how}`);
  console.warn(`\n!!! ${what} are SKIPPED. ${how}\n`);
}

/**
 * Headless Chromium with real WebGPU (SwiftShader on these machines) and no background
 * traffic; `webgpu: false` leaves WebGPU off, as in a browser without it.
 */
export function launchChromium(opts: { webgpu?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(opts.webgpu === false ? ['--disable-features=WebGPU'] : ['--enable-unsafe-webgpu']),
    ],
  });
}

/** Builds one of the test pages under test/browser with Vite into `outDir`. */
export async function buildTestPage(page: string, outDir: string): Promise<void> {
  const root = path.resolve(import.meta.dirname, '../browser');
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    // `@observer/tfjs` (bench pages import it by name) from its sources, as in vite.config.ts.
    resolve: { conditions: ['@observer/source', ...defaultClientConditions] },
    build: { outDir, emptyOutDir: true, rollupOptions: { input: path.join(root, page) }, chunkSizeWarningLimit: 10_000 },
  });
}

/** Where browser tests keep screenshots (not committed). */
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
