import * as schemas from './schemas.js';

/** The auth endpoints' part of /v1/openapi.json (openapi.ts merges it), from the validating schemas. */
const json = (schema: object) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const error = (description: string) => ({ description, content: json(ref('Error')) });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const denied = { '401': error('No valid credential.'), '403': error('The role does not allow it.'), '429': error('Rate limited (Retry-After).') };

export const authSchemas = {
  CreateUserRequest: schemas.CreateUserRequest,
  User: schemas.User,
  CreatedKey: schemas.CreatedKey,
  RefreshRequest: schemas.RefreshRequest,
  TokenPair: schemas.TokenPair,
  AuditPage: schemas.AuditPage,
  Me: schemas.Me,
};

export const authPaths = {
  '/v1/users': {
    post: {
      summary: 'Create a user (admin)',
      requestBody: { required: true, content: json(ref('CreateUserRequest')) },
      responses: { '201': { description: 'The user.', content: json(ref('User')) }, '400': error('Invalid request.'), ...denied },
    },
  },
  '/v1/users/{id}/keys': {
    post: {
      summary: 'Create an API key for a user (admin, or the user itself); the key is shown only in this response',
      parameters: [idParam],
      responses: { '201': { description: 'The new key.', content: json(ref('CreatedKey')) }, '404': error('No such user, or not yours.'), ...denied },
    },
  },
  '/v1/keys/{id}': {
    delete: {
      summary: 'Revoke an API key (admin, or its owner); it and tokens made from it stop working at once',
      parameters: [idParam],
      responses: { '204': { description: 'Revoked.' }, '404': error('No such key, or not yours.'), ...denied },
    },
  },
  '/v1/auth/token': {
    post: {
      summary: 'Exchange the API key in Authorization for an access token (JWT) and a refresh token',
      responses: { '200': { description: 'A token pair.', content: json(ref('TokenPair')) }, ...denied },
    },
  },
  '/v1/auth/refresh': {
    post: {
      summary: 'Spend a refresh token for a new pair; reusing a spent one revokes its family (no Authorization needed)',
      security: [],
      requestBody: { required: true, content: json(ref('RefreshRequest')) },
      responses: { '200': { description: 'A new token pair.', content: json(ref('TokenPair')) }, '400': error('Invalid request.'), '401': error('Invalid, expired, reused or revoked.') },
    },
  },
  '/v1/auth/me': {
    get: { summary: 'Who the credential belongs to', responses: { '200': { description: 'The caller.', content: json(ref('Me')) }, ...denied } },
  },
  '/v1/audit': {
    get: {
      summary: 'The security audit log, newest first (admin)',
      parameters: [
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 } },
        { name: 'cursor', in: 'query', schema: { type: 'string' } },
        { name: 'action', in: 'query', schema: { type: 'string' } },
      ],
      responses: { '200': { description: 'A page.', content: json(ref('AuditPage')) }, '400': error('Invalid request.'), ...denied },
    },
  },
};

/** Bearer auth for every operation except those that say `security: []`. */
export const securitySchemes = {
  bearer: { type: 'http', scheme: 'bearer', description: 'An API key (crk_...) or a JWT access token from POST /v1/auth/token.' },
};
