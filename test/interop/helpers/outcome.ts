/**
 * What one client run produced: its exit and output, the decoded PKIOperation exchanges it had
 * with the server, and a diagnostic text (client log + HTTP transcript) to attach to assertions.
 */
import { clientLog, type ClientRun } from './clients.js';
import { pkiExchanges, transcript, type Exchange, type PkiExchange } from './recorder.js';

export interface Outcome {
  run: ClientRun;
  exchanges: readonly Exchange[];
  pki: PkiExchange[];
  diag: string;
}

export function outcome(run: ClientRun, exchanges: readonly Exchange[]): Outcome {
  const diag = `${clientLog(run)}\n--- HTTP exchanges (client <-> local host) ---\n${transcript(exchanges)}`;
  try {
    return { run, exchanges, pki: pkiExchanges(exchanges), diag };
  } catch (e) {
    throw new Error(`cannot decode a PKIOperation exchange: ${String(e)}\n${diag}`, { cause: e });
  }
}
