/**
 * The request behind the local host's LocalHttpRequest (./invocation.ts). A web `Request` costs
 * URL parsing, a body stream and an AbortSignal per request; most requests here only need the
 * method, URL, headers and body bytes, which this object answers directly. The body as a
 * stream, formData and blob are delegated to a real `Request` built on first use, so handlers
 * see the same behaviour either way.
 */
/** Like Body.text(): UTF-8, a leading byte order mark dropped. */
const utf8 = new TextDecoder();

export class LocalNativeRequest {
  private fullRequest: Request | undefined;
  private headerObject: Headers | undefined;
  private used = false;

  constructor(
    readonly url: string,
    readonly method: string,
    private readonly headerInit: Record<string, string>,
    private readonly bytes: Buffer | undefined,
  ) {}

  get headers(): Headers {
    this.headerObject ??= this.fullRequest?.headers ?? new Headers(this.headerInit);
    return this.headerObject;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.full().body;
  }

  get bodyUsed(): boolean {
    return this.used || (this.fullRequest?.bodyUsed ?? false);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this.fullRequest) return this.fullRequest.arrayBuffer();
    return this.consume((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  }

  text(): Promise<string> {
    if (this.fullRequest) return this.fullRequest.text();
    return this.consume((b) => utf8.decode(b));
  }

  json(): Promise<unknown> {
    if (this.fullRequest) return this.fullRequest.json();
    return this.consume((b) => JSON.parse(utf8.decode(b)) as unknown);
  }

  blob(): Promise<Blob> {
    return this.full().blob();
  }

  formData(): Promise<FormData> {
    // eslint-disable-next-line @typescript-eslint/no-deprecated -- LocalHttpRequest.formData() delegates here
    return this.full().formData();
  }

  /** The same request, unread (HttpRequest.clone); like a web Request, not once its body is read. */
  copy(): LocalNativeRequest {
    if (this.bodyUsed) throw new TypeError('Body is unusable: Body has already been read');
    return new LocalNativeRequest(this.url, this.method, this.headerInit, this.bytes);
  }

  /** Like a web Request: the body can be read once. */
  private consume<T>(read: (bytes: Buffer) => T): Promise<T> {
    if (this.used) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
    this.used = true;
    try {
      return Promise.resolve(read(this.bytes ?? Buffer.alloc(0)));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private full(): Request {
    if (this.used && !this.fullRequest) throw new TypeError('Body is unusable: Body has already been read');
    const hasBody = this.bytes !== undefined && this.method !== 'GET' && this.method !== 'HEAD';
    this.fullRequest ??= new Request(this.url, {
      method: this.method,
      headers: this.headerInit,
      ...(hasBody ? { body: this.bytes } : {}),
    });
    return this.fullRequest;
  }
}
