import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom, textBatch } from '../web/src/features/trainer/data.ts';
import { gptParameters, MiniGpt } from '../web/src/features/trainer/minigpt.ts';

const DATA = path.resolve(import.meta.dirname, '../web/public/data');
let tokens: Uint8Array;
let vocabulary: string[];

beforeAll(async () => {
  await tf.setBackend('cpu');
  await import('../scripts/build-data.ts');
  tokens = new Uint8Array(readFileSync(path.join(DATA, 'moby-dick.bin')));
  vocabulary = (JSON.parse(readFileSync(path.join(DATA, 'moby-dick.json'), 'utf8')) as { vocabulary: string[] }).vocabulary;
});

describe('MiniGPT on Moby Dick', () => {
  it('the build-time files hold the whole book, character by character', () => {
    expect(tokens.length).toBeGreaterThan(1_000_000);
    const text = Array.from(tokens.subarray(0, 40_000), (t) => vocabulary[t]).join('');
    expect(text).toContain('Call me Ishmael.');
    expect(text.startsWith('CONTENTS')).toBe(true);
  });

  it('attends only to the past: changing a later character leaves earlier predictions alone', () => {
    const gpt = new MiniGpt({ vocab: vocabulary.length, context: 16, dim: 16, heads: 2, layers: 2 }, 3);
    const a = Array.from({ length: 16 }, (_, i) => i % vocabulary.length);
    const b = [...a];
    b[10] = 40;
    const [la, lb] = [a, b].map((t) => gpt.logits(tf.tensor2d([t], [1, 16], 'int32')).arraySync()[0]!);
    for (let t = 0; t < 10; t++) for (let v = 0; v < vocabulary.length; v++) expect(lb![t]![v]).toBeCloseTo(la![t]![v]!, 5);
    expect(lb![10]![0]).not.toBeCloseTo(la![10]![0]!, 5);
    gpt.dispose();
  });

  it('describes itself with a parameter count, and a graph whose residuals reach the head', () => {
    const config = { vocab: vocabulary.length, context: 32, dim: 32, heads: 4, layers: 2 };
    const gpt = new MiniGpt(config);
    const d = gpt.describe();
    const params = Object.values(d.layers).reduce((n, l) => n + l.variables.reduce((m, v) => m + v.size, 0), 0);
    expect(params).toBe(gptParameters(config));
    expect(d.edges).toContainEqual({ source: 'embed', target: 'h0.add1' });
    // Every layer is reachable from the token embedding.
    const reach = new Set(['token_embedding', 'position_embedding']);
    for (const e of d.edges!) if (reach.has(e.source)) reach.add(e.target);
    expect([...reach].sort()).toEqual(Object.keys(d.layers).sort());
    gpt.dispose();
  });

  it('starts near ln(vocabulary) and learns the characters of the book in 60 steps', () => {
    // Small enough for the cpu backend (about 0.15 s a step here).
    const config = { vocab: vocabulary.length, context: 16, dim: 32, heads: 4, layers: 2 };
    const gpt = new MiniGpt(config, 7);
    const optimizer = tf.train.adam(1e-2);
    const random = seededRandom(1);
    const split = Math.floor(tokens.length * 0.9);
    const val = textBatch(tokens, split, tokens.length, 32, config.context, seededRandom(2));
    const initial = gpt.loss(val.x, val.y).dataSync()[0]!;
    expect(Math.abs(initial - Math.log(config.vocab))).toBeLessThan(0.3);
    for (let step = 0; step < 60; step++) {
      const { x, y } = textBatch(tokens, 0, split, 8, config.context, random);
      tf.dispose([optimizer.minimize(() => gpt.loss(x, y), true, gpt.variables)!, x, y]);
    }
    const after = gpt.loss(val.x, val.y).dataSync()[0]!;
    // Better than the unigram frequencies of English text (about 3.1 nats a character).
    expect(after).toBeLessThan(3.1);
    tf.dispose([val.x, val.y]);
    gpt.dispose();
    optimizer.dispose();
  });
});
