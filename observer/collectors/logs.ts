import { nodeProcess } from './environment.ts';

/** One captured line, as `pushLogs` takes it (seed §6 `/log`). */
export interface LogLine {
  ts: string;
  level: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
  msg: string;
  module: string;
  kind: 'console' | 'error';
}

const CONSOLE_LEVELS = { debug: 'DEBUG', log: 'INFO', info: 'INFO', warn: 'WARNING', error: 'ERROR' } as const;
type ConsoleMethod = keyof typeof CONSOLE_LEVELS;
const MAX_MSG = 8000;

function text(args: unknown[]): string {
  const s = args
    .map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.name}: ${a.message}` : safeJson(a)))
    .join(' ');
  return s.length > MAX_MSG ? `${s.slice(0, MAX_MSG)}…` : s;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Captures console output and errors while open: console.* (passed through unchanged), and in
 * a browser uncaught errors and unhandled rejections (in Node only through the monitor
 * event, which leaves Node's own handling as it is). `stop()` restores the originals.
 */
export class LogCapture {
  private lines: LogLine[] = [];
  private readonly originals = new Map<ConsoleMethod, (...args: unknown[]) => void>();
  private readonly undo: (() => void)[] = [];
  /** Lines dropped because the buffer was full. */
  dropped = 0;

  constructor(
    private readonly opts: { console: boolean; errors: boolean; maxBuffered: number },
  ) {}

  start(): void {
    for (const method of Object.keys(CONSOLE_LEVELS) as ConsoleMethod[]) {
      const level = CONSOLE_LEVELS[method];
      const isError = level === 'WARNING' || level === 'ERROR';
      if (isError ? !this.opts.errors : !this.opts.console) continue;
      const original = console[method] as (...args: unknown[]) => void;
      this.originals.set(method, original);
      console[method] = (...args: unknown[]) => {
        this.push(level, text(args), isError ? 'error' : 'console');
        original.apply(console, args);
      };
    }
    if (!this.opts.errors) return;
    const g = globalThis as { addEventListener?: (t: string, f: (e: unknown) => void) => void; removeEventListener?: (t: string, f: (e: unknown) => void) => void };
    if (nodeProcess) {
      const p = nodeProcess as unknown as { on(e: string, f: (err: unknown) => void): void; off(e: string, f: (err: unknown) => void): void };
      const onError = (err: unknown) => this.push('CRITICAL', `Uncaught ${text([err])}`, 'error');
      p.on('uncaughtExceptionMonitor', onError);
      this.undo.push(() => p.off('uncaughtExceptionMonitor', onError));
    } else if (g.addEventListener) {
      const onError = (e: unknown) => this.push('CRITICAL', `Uncaught ${text([(e as { error?: unknown; message?: string }).error ?? (e as { message?: string }).message])}`, 'error');
      const onRejection = (e: unknown) => this.push('ERROR', `Unhandled rejection: ${text([(e as { reason?: unknown }).reason])}`, 'error');
      g.addEventListener('error', onError);
      g.addEventListener('unhandledrejection', onRejection);
      this.undo.push(() => {
        g.removeEventListener?.('error', onError);
        g.removeEventListener?.('unhandledrejection', onRejection);
      });
    }
  }

  /** Records a line of the observer's own (not echoed to the console twice). */
  push(level: LogLine['level'], msg: string, kind: LogLine['kind'], module = 'user'): void {
    if (this.lines.length >= this.opts.maxBuffered) {
      this.lines.shift();
      this.dropped++;
    }
    this.lines.push({ ts: new Date().toISOString(), level, msg, module, kind });
  }

  /** The lines captured since the last call. */
  take(): LogLine[] {
    const out = this.lines;
    this.lines = [];
    return out;
  }

  /** Writes to the real console, bypassing the capture. */
  write(method: ConsoleMethod, ...args: unknown[]): void {
    (this.originals.get(method) ?? (console[method] as (...a: unknown[]) => void)).apply(console, args);
  }

  stop(): void {
    for (const [method, original] of this.originals) console[method] = original as never;
    this.originals.clear();
    for (const u of this.undo.splice(0)) u();
  }
}
