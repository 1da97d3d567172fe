/** A page request and answer as the management API shapes them (`?top=&continuationToken=`). */
export interface PageRequest {
  readonly top?: number | undefined;
  readonly continuationToken?: string | undefined;
}

export interface Page<T> {
  readonly value: T[];
  readonly continuationToken?: string | undefined;
}

/** A representation and the etag that an If-Match must name to change it. */
export interface Versioned<T> {
  readonly value: T;
  readonly etag?: string | undefined;
}

/** The page options of a DocumentCollection.list call. */
export const docPage = (p: PageRequest): { top?: number; continuationToken?: string } => ({
  ...(p.top !== undefined ? { top: p.top } : {}),
  ...(p.continuationToken !== undefined ? { continuationToken: p.continuationToken } : {}),
});
