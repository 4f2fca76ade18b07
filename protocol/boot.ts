/**
 * The one line a launcher writes to a sandbox's stdin: who it is, where to
 * connect and, over SSH, its CURVE keys. It crosses from the trusted
 * dispatcher to the untrusted sandbox, which reads nothing else from its
 * environment and validates the line with the schema here.
 */
import { z } from 'zod'

export const sandboxBootSchema = z.object({
  /** Routing id the sandbox must use on its DEALER socket (ZeroMQ routing ids are 1 to 255 bytes). */
  id: z.string().min(1).max(255),
  /** Dispatcher endpoint to connect to, e.g. tcp://127.0.0.1:5556. */
  endpoint: z.string().min(1).max(1000),
  /** Jobs it may run at once (one isolate each). */
  slots: z.number().int().min(1).max(64),
  /**
   * Set by the SSH launcher: connect with CURVE using these keys (Z85, 40 characters each, as
   * zeromq's curveKeyPair() makes them): the dispatcher's public key as curveServerKey, and the
   * sandbox's own pair, issued for this sandbox only. Absent: plain TCP on loopback (local launcher).
   */
  curve: z.object({ serverKey: z.string().length(40), publicKey: z.string().length(40), secretKey: z.string().length(40) }).optional(),
})
export type SandboxBoot = z.infer<typeof sandboxBootSchema>
export type SandboxCurveKeys = NonNullable<SandboxBoot['curve']>

/** @example parseBoot('{"id":"sb-1","endpoint":"tcp://127.0.0.1:5556","slots":2}') */
export function parseBoot(line: string): SandboxBoot {
  return sandboxBootSchema.parse(JSON.parse(line))
}
