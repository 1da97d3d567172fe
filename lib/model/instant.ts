import { z } from 'zod';

/**
 * A point in time a caller types into a filter: an ISO 8601 date-time with its offset
 * (`2026-12-01T00:00:00Z`, `…+02:00`) or a calendar date (`2026-12-01`, midnight UTC), as the
 * console's date inputs send it. Dates that do not exist (`2026-02-30`) are refused rather than
 * rolled over into the next month. Answers the instant in UTC (toISOString).
 */
export const instant = z.iso
  .datetime({ offset: true })
  .or(z.iso.date())
  .transform((s) => new Date(s).toISOString());
