import { z } from 'zod';

/** Who owns endpoints, accounts and certificates; stored in `organizations` (id = name). */
export interface Organization {
  readonly id: string;
  readonly displayName: string;
  readonly departments: readonly Department[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface Department {
  readonly id: string;
  readonly displayName: string;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const departmentSchema = z.strictObject({
  id: z.string().regex(ID, 'must be 1-64 letters, digits, dots, underscores or hyphens'),
  displayName: z.string().min(1).max(200),
});

export const organizationInputSchema = z.strictObject({
  id: z.string().regex(ID, 'must be 1-64 letters, digits, dots, underscores or hyphens'),
  displayName: z.string().min(1).max(200),
  departments: z
    .array(departmentSchema)
    .refine((ds) => new Set(ds.map((d) => d.id)).size === ds.length, 'must not name a department twice')
    .default([]),
});
export type OrganizationInput = z.input<typeof organizationInputSchema>;
