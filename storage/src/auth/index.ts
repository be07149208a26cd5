export * from './types.js';
export { UserRepository } from './user-repository.js';
export { RefreshTokenRepository, type SpendResult } from './refresh-token-repository.js';
export { AuditRepository, type NewAuditEntry } from './audit-repository.js';
export { SecretRepository } from './secret-repository.js';
