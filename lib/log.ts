/**
 * Structured logging. In Azure, console output of a Functions worker becomes trace telemetry
 * in Application Insights; one JSON object per line keeps every field queryable.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

type Sink = (line: string) => void;

/** Longest string a field may log; strings a client chooses get less (transactionID, subject). */
const MAX_FIELD = 2048;
const CLIENT_FIELDS: Readonly<Record<string, number>> = {
  transactionId: 128,
  requester: 256,
  subject: 256,
};
/** Fields a caller may not set: they are the line's own. */
const RESERVED = new Set(['time', 'level', 'message']);

/**
 * The fields of one line: reserved names moved aside (`field.message`), strings capped, so a
 * client-controlled value can neither forge a line's level or message nor flood the log.
 */
export function safeFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields ?? {})) {
    const key = RESERVED.has(k) ? `field.${k}` : k;
    const max = CLIENT_FIELDS[k] ?? MAX_FIELD;
    out[key] = typeof v === 'string' && v.length > max ? `${v.slice(0, max)}…(${v.length} chars)` : v;
  }
  return out;
}

export function jsonLogger(sink: Sink = (l) => process.stdout.write(`${l}\n`)): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>): void => {
    sink(JSON.stringify({ ...safeFields(fields), time: new Date().toISOString(), level, message }));
  };
  return {
    info: (m, f) => {
      emit('info', m, f);
    },
    warn: (m, f) => {
      emit('warn', m, f);
    },
    error: (m, f) => {
      emit('error', m, f);
    },
  };
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A logger that keeps entries in memory (tests, and the audit of the local host). */
export function memoryLogger(): Logger & {
  entries: { level: string; message: string; fields: Record<string, unknown> }[];
} {
  const entries: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const push = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    entries.push({ level, message, fields: fields ?? {} });
  };
  return { entries, info: push('info'), warn: push('warn'), error: push('error') };
}
