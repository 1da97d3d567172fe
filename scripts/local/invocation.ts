import type {
  EffectiveFunctionOptions,
  HttpRequest,
  HttpRequestParams,
  InvocationContext,
  InvocationContextExtraInputs,
  InvocationContextExtraOutputs,
} from '@azure/functions';
import { LocalNativeRequest } from './request.js';

/**
 * The request and context objects the local host hands an HTTP function: the public surface of
 * @azure/functions' HttpRequest and InvocationContext (TypeScript checks every member).
 *
 * Why not the library's own classes: they keep their private state in module-level WeakMaps
 * (TypeScript's emulation of private fields), three entries per HttpRequest and three per
 * InvocationContext. V8 has to trace such entries (ephemerons) in every young-generation
 * collection, and keeps what they point to alive through it. Under OCSP load on the local host
 * each collection took 4–11 ms instead of under 1 ms and carried about 1 MB of finished
 * requests into the old generation, which set the tail latency. The Functions host's own worker
 * builds the library's objects; these behave the same for everything the functions here use
 * (test/unit/local-request.test.ts compares the two side by side).
 */
export class LocalHttpRequest implements HttpRequest {
  readonly user = null; // App Service authentication headers: nothing stands in front of the local host

  /** `query`: the search parameters of the URL the host already parsed to route the request. */
  constructor(
    private readonly native: LocalNativeRequest,
    readonly params: HttpRequestParams,
    readonly query: URLSearchParams,
  ) {}

  get method(): string {
    return this.native.method;
  }
  get url(): string {
    return this.native.url;
  }
  get headers(): Headers {
    return this.native.headers;
  }
  get body(): ReadableStream<Uint8Array> | null {
    return this.native.body;
  }
  get bodyUsed(): boolean {
    return this.native.bodyUsed;
  }
  readonly arrayBuffer = (): Promise<ArrayBuffer> => this.native.arrayBuffer();
  readonly text = (): Promise<string> => this.native.text();
  readonly json = (): Promise<unknown> => this.native.json();
  readonly blob = (): Promise<Blob> => this.native.blob();
  readonly formData = (): Promise<FormData> => this.native.formData();
  readonly clone = (): HttpRequest => {
    const copy = new LocalHttpRequest(
      this.native.copy(),
      { ...this.params },
      new URLSearchParams(this.query),
    );
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- the point of this class (see above)
    return copy;
  };
}

class Bindings implements InvocationContextExtraInputs, InvocationContextExtraOutputs {
  private readonly values = new Map<string, unknown>();
  get(inputOrName: { name: string } | string): unknown {
    return this.values.get(typeof inputOrName === 'string' ? inputOrName : inputOrName.name);
  }
  set(inputOrName: { name: string } | string, value: unknown): void {
    this.values.set(typeof inputOrName === 'string' ? inputOrName : inputOrName.name, value);
  }
}

/** Logs as the library's context does when no worker is attached: to the console. */
export class LocalInvocationContext implements InvocationContext {
  readonly extraInputs = new Bindings();
  readonly extraOutputs = new Bindings();
  readonly options: EffectiveFunctionOptions = {
    trigger: { name: 'request', type: 'httpTrigger' },
    extraInputs: [],
    extraOutputs: [],
  };

  constructor(
    readonly functionName: string,
    readonly invocationId: string,
  ) {}

  log(...args: unknown[]): void {
    console.info(...args);
  }
  trace(...args: unknown[]): void {
    console.trace(...args);
  }
  debug(...args: unknown[]): void {
    console.debug(...args);
  }
  info(...args: unknown[]): void {
    console.info(...args);
  }
  warn(...args: unknown[]): void {
    console.warn(...args);
  }
  error(...args: unknown[]): void {
    console.error(...args);
  }
}
