import { cloneElement, type ComponentChildren, type VNode } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';

/**
 * A load that re-runs when `deps` change; `reload` runs it again. Only the latest load's answer
 * is shown: an earlier one that comes back later (a slow search, then another) is dropped.
 */
export function useLoad<T>(fn: () => Promise<T>, deps: unknown[]) {
  const [state, set] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const latest = useRef(0);
  const run = useCallback(fn, deps);
  const reload = useCallback(() => {
    const n = ++latest.current;
    set((s) => ({ ...s, loading: true }));
    run().then(
      (data) => {
        if (n === latest.current) set({ data, loading: false });
      },
      (e: unknown) => {
        if (n === latest.current) set({ error: message(e), loading: false });
      },
    );
  }, [run]);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/** What useLoad returns, for components handed a load made by their page. */
export type Load<T> = ReturnType<typeof useLoad<T>>;

export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function ErrorBox({ error }: { error: string | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

/** A labelled control; the hint is its description (aria-describedby), not part of its name. */
export function Field(p: { label: string; children: VNode; hint?: string }) {
  const id = useId();
  const control = cloneElement(p.children, { id, ...(p.hint ? { 'aria-describedby': `${id}-hint` } : {}) });
  return (
    <div class="field">
      <label for={id}>{p.label}</label>
      {control}
      {p.hint && <small id={`${id}-hint`}>{p.hint}</small>}
    </div>
  );
}

/** Runs `action`, shows its error, and disables the button while it runs. */
export function ActionButton(p: {
  label: string;
  action: () => Promise<unknown>;
  confirm?: string;
  kind?: 'danger' | 'primary';
  onDone?: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const click = () => {
    if (p.confirm !== undefined && !window.confirm(p.confirm)) return;
    setBusy(true);
    setError(undefined);
    p.action().then(
      () => {
        setBusy(false);
        p.onDone?.();
      },
      (e: unknown) => {
        setBusy(false);
        setError(message(e));
      },
    );
  };
  return (
    <span>
      <button type="button" class={p.kind} disabled={busy} onClick={click}>
        {p.label}
      </button>
      {error && (
        <span class="error" role="alert">
          {' '}
          {error}
        </span>
      )}
    </span>
  );
}

export function Table<T>(p: {
  caption: string;
  rows: readonly T[] | undefined;
  /**
   * What identifies a row: a row's actions (an error shown next to a button) stay with it when
   * the rows above it change, instead of passing to whatever row takes its place.
   */
  rowKey: (row: T) => string;
  columns: readonly [string, (row: T) => ComponentChildren][];
  empty?: string;
}) {
  if (p.rows && p.rows.length === 0) return <p>{p.empty ?? 'Nothing here yet.'}</p>;
  return (
    <div class="scroll">
      <table>
        <caption class="sr-only">{p.caption}</caption>
        <thead>
          <tr>
            {p.columns.map(([h]) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {(p.rows ?? []).map((r) => (
            <tr key={p.rowKey(r)}>
              {p.columns.map(([h, cell]) => (
                <td key={h} data-label={h}>
                  {cell(r)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export const date = (iso: string | undefined): string => (iso ? iso.slice(0, 19).replace('T', ' ') : '');

/** A text field of a submitted form ('' when absent). */
export const formText = (f: FormData, name: string): string => {
  const v = f.get(name);
  return typeof v === 'string' ? v.trim() : '';
};

/** The non-empty values of `keys`, read with `get` (URL parameters, form fields). */
export function pick(keys: readonly string[], get: (k: string) => string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = get(k)?.trim() ?? '';
    if (v !== '') out[k] = v;
  }
  return out;
}

/**
 * A list page's filter form (role=search): on submit, the non-empty values of `keys` go to
 * `search`, and paging starts over at the first page.
 */
export function FilterForm(p: {
  keys: readonly string[];
  setTokens: (t: string[]) => void;
  search: (filters: Record<string, string>) => void;
  children: ComponentChildren;
}) {
  return (
    <form
      class="filters"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        p.setTokens([]);
        p.search(pick(p.keys, (k) => formText(f, k)));
      }}
    >
      {p.children}
    </form>
  );
}

/** `contoso, fabrikam/retail` → organization/department pairs (delegations and scopes). */
export const parseOrgs = (s: string): { organization: string; department?: string }[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => {
      const [organization = '', department] = x.split('/');
      return department ? { organization, department } : { organization };
    });

/** Server-side paging: a stack of continuation tokens (previous = pop, next = push). */
export function Pager(p: { tokens: string[]; next: string | null | undefined; set: (t: string[]) => void }) {
  const { tokens, next, set } = p;
  return (
    <nav class="pager" aria-label="Pages">
      <button
        type="button"
        disabled={tokens.length === 0}
        onClick={() => {
          set(tokens.slice(0, -1));
        }}
      >
        Previous page
      </button>
      <button
        type="button"
        disabled={!next}
        onClick={() => {
          if (next) set([...tokens, next]);
        }}
      >
        Next page
      </button>
    </nav>
  );
}
