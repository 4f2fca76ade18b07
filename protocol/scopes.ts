/**
 * The names rights are made of, shared by the server (server/principals)
 * and the clients that ask for keys: the actions a key may be given, and the
 * limits a key may cap. No scope implies another.
 */
export const SCOPES = [
  'cells:run',
  'sessions:use',
  'notebooks:read',
  'notebooks:write',
  'content:read',
  'content:write',
  'tasks:manage',
  'usage:read',
  'keys:manage',
  'admin',
] as const
export type Scope = (typeof SCOPES)[number]

/** Limits of a cell a key may cap (the names of protocol/limits.ts). */
export const CAP_NAMES = ['wallMs', 'cpuMs', 'memoryMb', 'outputBytes', 'outputs'] as const
export type CapName = (typeof CAP_NAMES)[number]
