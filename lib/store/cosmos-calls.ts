import { ErrorResponse } from '@azure/cosmos';
import { ZodError } from 'zod';
import { AppError, dependencyUnavailable, isAppError } from '../errors.js';

/**
 * One Cosmos DB store call under one deadline (all its requests and the SDK's 429 retries);
 * every failure leaves as an AppError.
 */
export async function withDeadline<T>(
  what: string,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(dependencyUnavailable(`Cosmos DB ${what} did not complete within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), deadline]);
  } catch (e) {
    throw toAppError(what, e);
  } finally {
    clearTimeout(timer);
  }
}

/** 404 with substatus 1003 (the database or container does not exist) is an outage, not "no such record". */
export function absentUnlessOwnerMissing<T>(response: {
  statusCode: number;
  substatus?: number;
  resource?: T;
}): T | undefined {
  if (response.statusCode === 404 && response.substatus === 1003) {
    throw dependencyUnavailable('the Cosmos DB database or container does not exist');
  }
  return response.resource;
}

/** The SDK types the token as string; it is undefined (or empty) on the last page. */
export function continuationOf(page: { continuationToken?: string }): string | undefined {
  return page.continuationToken === '' ? undefined : page.continuationToken;
}

/** Cosmos DB ids: at most 255 characters, none of / \ ? #. */
export function isStorableId(id: string): boolean {
  return id.length > 0 && id.length <= 255 && !/[/\\?#]/.test(id);
}

export function invalidToken(cause?: unknown): AppError {
  return new AppError('BAD_REQUEST', 'the continuation token is not valid for this store', { cause });
}

export function statusOf(e: unknown): number | undefined {
  return e instanceof ErrorResponse && typeof e.code === 'number' ? e.code : undefined;
}

function toAppError(what: string, e: unknown): AppError {
  if (isAppError(e)) return e;
  if (e instanceof ZodError) {
    return new AppError('INTERNAL', 'a stored document is not a certificate record', { cause: e });
  }
  const detail: Record<string, unknown> = { operation: what };
  if (e instanceof ErrorResponse) {
    detail.status = e.code;
    detail.activityId = e.activityId;
  }
  return new AppError('DEPENDENCY_UNAVAILABLE', `Cosmos DB ${what} failed`, { cause: e, detail });
}
