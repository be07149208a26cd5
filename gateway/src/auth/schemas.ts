import { ROLES } from '@crucible/storage';

/** Request and response schemas of the auth endpoints; they validate requests and feed /v1/openapi.json. */

export const CreateUserRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: {
    // Printable, no control characters: names end up in logs and the audit view.
    name: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f]+$' },
    role: { enum: ROLES },
  },
} as const;

export const User = {
  type: 'object',
  required: ['id', 'name', 'role', 'createdAt'],
  properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' }, role: { enum: ROLES }, createdAt: { type: 'string', format: 'date-time' } },
} as const;

export const CreatedKey = {
  type: 'object',
  required: ['id', 'key', 'prefix', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    key: { type: 'string', description: 'The API key; shown only in this response.' },
    prefix: { type: 'string', description: 'The first characters, for telling keys apart.' },
    userId: { type: 'string', format: 'uuid' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const RefreshRequest = {
  type: 'object',
  additionalProperties: false,
  required: ['refreshToken'],
  properties: { refreshToken: { type: 'string', minLength: 1, maxLength: 512 } },
} as const;

export const TokenPair = {
  type: 'object',
  required: ['accessToken', 'refreshToken', 'expiresIn'],
  properties: {
    accessToken: { type: 'string', description: 'JWT (HS256); send as Authorization: Bearer.' },
    refreshToken: { type: 'string', description: 'Opaque; works once.' },
    expiresIn: { type: 'integer', description: 'Seconds the access token is valid.' },
    tokenType: { const: 'Bearer' },
  },
} as const;

export const AuditPage = {
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'at', 'actor', 'action', 'target', 'outcome', 'ip', 'requestId'],
        properties: {
          id: { type: 'string' }, at: { type: 'string', format: 'date-time' }, actor: { type: ['string', 'null'] },
          action: { type: 'string' }, target: { type: ['string', 'null'] }, outcome: { enum: ['success', 'failure', 'denied'] },
          ip: { type: ['string', 'null'] }, requestId: { type: ['string', 'null'] }, details: {},
        },
      },
    },
    nextCursor: { type: ['string', 'null'] },
  },
} as const;

export const Me = {
  type: 'object',
  required: ['id', 'name', 'role', 'keyId'],
  properties: { id: { type: 'string' }, name: { type: 'string' }, role: { enum: ROLES }, keyId: { type: 'string' }, via: { enum: ['key', 'jwt'] } },
} as const;
