import { app } from '@azure/functions';

/**
 * Turn on HTTP streaming for the Functions worker, so a response whose body is a stream (the
 * audit export, `api/manage/audit?format=csv|json`) goes to the client as it is produced
 * instead of being gathered in memory first. Without it the Node.js worker reads the whole body
 * before answering. Streaming needs Functions host 4.28 or later ("HTTP streams" in the
 * @azure/functions v4 programming model docs); request bodies are then streams too, which
 * `readBody` already handles.
 *
 * `app.setup` may be called until the worker reports its capabilities, which happens after every
 * function file is loaded; this module is imported by the HTTP handler wrapper that every HTTP
 * function file uses, and module caching runs it once.
 */
app.setup({ enableHttpStream: true });
