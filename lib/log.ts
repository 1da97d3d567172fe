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

export function jsonLogger(sink: Sink = (l) => process.stdout.write(`${l}\n`)): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>): void => {
    sink(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }));
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
