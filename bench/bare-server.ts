/**
 * The bare-HTTP floor for `bench:server`: a plain `node:http` handler that parses the same
 * step body and inserts it with better-sqlite3 (no framework, no validation, no diagnostics).
 * Prints `listening <port>` when ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';

const db = new Database(process.argv[2] ?? ':memory:');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`CREATE TABLE IF NOT EXISTS step (id INTEGER PRIMARY KEY, sessionId INTEGER, stepIndex INTEGER, loss TEXT, throughput TEXT,
  profiler TEXT, memory TEXT, system TEXT, layerHealth TEXT, sustainability TEXT, UNIQUE(sessionId, stepIndex))`);
const insert = db.prepare(
  'INSERT INTO step (sessionId, stepIndex, loss, throughput, profiler, memory, system, layerHealth, sustainability) VALUES (?,?,?,?,?,?,?,?,?)',
);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const s = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const session = Number(req.url!.split('/')[2]);
    const r = insert.run(session, s.step_index, JSON.stringify(s.loss), JSON.stringify(s.throughput), JSON.stringify(s.profiler),
      JSON.stringify(s.memory), JSON.stringify(s.system), JSON.stringify(s.layer_health), JSON.stringify(s.sustainability));
    const body = JSON.stringify({ id: Number(r.lastInsertRowid), session_id: session, step_index: s.step_index });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
