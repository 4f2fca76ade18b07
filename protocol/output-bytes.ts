/**
 * How output counts toward a cell's outputBytes, the same way in the
 * sandbox (which stops the cell) and the dispatcher (which checks what a
 * sandbox sends): every output costs a fixed overhead plus its data's size
 * as JSON text, which is how every hop sends it (ZeroMQ frames, the store's
 * rows, Server-Sent Events). Counting raw UTF-8 instead let empty outputs be
 * free and let a control character, 1 byte, go out as `\u0001`, 6 bytes: a
 * stream could be many times what was counted. Counted this way, what is
 * sent for a cell stays within about 1.25 times its counted bytes (the
 * overhead is a little below the largest event framing).
 */

/** What one output costs beyond its data: its number, stream, mime and framing where it is stored and streamed. */
export const OUTPUT_OVERHEAD_BYTES = 100

/** Characters JSON.stringify writes as an escape (a lone surrogate, too). */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const ESCAPED = /["\\\x00-\x1f\ud800-\udfff]/

/**
 * UTF-8 bytes of `text` inside a JSON string, without the quotes. Text
 * with nothing to escape, the common case, costs one scan and a byte count.
 *
 * @example jsonBytes('a\u0001') // 7
 */
export function jsonBytes(text: string): number {
  return ESCAPED.test(text) ? Buffer.byteLength(JSON.stringify(text)) - 2 : Buffer.byteLength(text)
}

/**
 * What one output of `data` counts toward outputBytes.
 *
 * @example outputCost('') // 100
 */
export function outputCost(data: string): number {
  return OUTPUT_OVERHEAD_BYTES + jsonBytes(data)
}
