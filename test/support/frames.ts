/**
 * Frames as a broken or hostile peer sends them: any JSON, not only the
 * protocol's messages that `encode()` accepts. For tests of the receivers'
 * validation.
 */

/** @example rawFrame({ type: 'nope' }) */
export function rawFrame(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value))
}
