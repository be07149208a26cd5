/** Users, keys and the audit log: pure types (no I/O), shared by the gateway and its CLI. */

export const ROLES = ['admin', 'researcher', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
}

/** A stored API key: never the key itself, only its display prefix and hash. */
export interface ApiKeyRecord {
  id: string;
  userId: string;
  prefix: string;
  hash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface RefreshTokenRecord {
  id: string;
  familyId: string;
  userId: string;
  keyId: string;
  expiresAt: string;
  usedAt: string | null;
  revokedAt: string | null;
}

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditEntry {
  id: string;
  at: string;
  /** The user id acting, `operator` for the admin CLI, or null when nobody authenticated. */
  actor: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  ip: string | null;
  requestId: string | null;
  details?: Record<string, unknown> | null;
}
