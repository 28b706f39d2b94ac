import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ARTIFACTS, buildTestPage, hasChromium, launchChromium } from './helpers/browser.ts';
import { loadMnist } from './helpers/mnist.ts';
import { ADMIN_TOKEN, bearer, createKey, gqlAs } from './helpers/auth.ts';
import { disposeAll, gql, post, startTestServer, tempDir } from './helpers/server.ts';

afterEach(disposeAll);

/** 200 real MNIST digits as bytes: a label then 784 pixels each. */
async function writeMnistSample(dir: string) {
  const { xs, ys, count } = loadMnist(20, 200);
  const x = await xs.data();
  const y = await ys.argMax(1).data();
  const bytes = new Uint8Array(count * 785);
  for (let i = 0; i < count; i++) {
    bytes[i * 785] = y[i]!;
    for (let p = 0; p < 784; p++) bytes[i * 785 + 1 + p] = Math.round(x[i * 784 + p]! * 255);
  }
  writeFileSync(path.join(dir, 'mnist-sample.bin'), bytes);
}

describe.runIf(hasChromium)('Observer in headless Chromium', () => {
  it('trains on the webgpu backend, pauses on a planted NaN, resumes, and stops on the second', async () => {
    const out = tempDir();
    await buildTestPage('observer.html', out);
    await writeMnistSample(out);
    const s = await startTestServer({ webRoot: out });
    await post(`${s.url}/projects`, { name: 'browser' });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      // localhost, not 127.0.0.1: WebGPU needs a secure context.
      await page.goto(`${s.url.replace('127.0.0.1', 'localhost')}/observer.html?backend=webgpu`);
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 120_000 });
      const result = (await page.evaluate(() => window.__result)) as Record<string, any>;
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'observer-webgpu.png') });
      expect(result.fatal).toBeUndefined();
      expect(errors).toEqual([]);
      expect(result.backend).toBe('webgpu');
      expect(result.prompts).toHaveLength(2);
      expect(result.prompts[0].issues).toContain('Loss is NaN');
      expect(result.error).toBe('SessionStoppedError');
      const { data } = await gql<{ session: { status: string; metadata: any; steps: { stepIndex: number; memory: { numTensors: number }; system: { backend: string } }[] } }>(
        s.url,
        'query($id: Int!) { session(id: $id) { status metadata steps { stepIndex memory { numTensors } system { backend } } } }',
        { id: result.sessionId },
      );
      expect(data!.session.status).toBe('stopped');
      expect(data!.session.steps.map((x) => x.stepIndex)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(data!.session.steps[0]!.system.backend).toBe('webgpu');
      expect(data!.session.metadata.webgpu_adapter).toMatchObject({ vendor: expect.any(String) });
    } finally {
      await browser.close();
    }
  }, 180_000);

  it('trains against a server that requires keys, with the write key in its config', async () => {
    const out = tempDir();
    await buildTestPage('observer.html', out);
    await writeMnistSample(out);
    const s = await startTestServer({ webRoot: out, auth: 'required', adminToken: ADMIN_TOKEN });
    await post(`${s.url}/projects`, { name: 'browser' }, bearer(ADMIN_TOKEN));
    const key = await createKey(s.url, 1, 'write');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${s.url.replace('127.0.0.1', 'localhost')}/observer.html?backend=cpu&apiKey=${encodeURIComponent(key.secret)}`);
      await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 120_000 });
      const result = (await page.evaluate(() => window.__result)) as Record<string, any>;
      expect(errors).toEqual([]);
      expect(result.prompts).toHaveLength(2);
      expect(result.error).toBe('SessionStoppedError');
      const r = await gqlAs<{ session: { status: string; steps: { stepIndex: number }[] } }>(s.url, key.secret, 'query($id: Int!) { session(id: $id) { status steps { stepIndex } } }', { id: result.sessionId });
      expect(r.data!.session.status).toBe('stopped');
      expect(r.data!.session.steps.map((x) => x.stepIndex)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
