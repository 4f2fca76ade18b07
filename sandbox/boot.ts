/**
 * The one line a launcher writes to a sandbox's stdin: who it is, where
 * to connect and, over SSH, its CURVE keys. The sandbox reads nothing else
 * from its environment.
 */
import { z } from 'zod'
import type { SandboxBoot } from '../worker/launcher.ts'

export const sandboxBootSchema = z.object({
  // ZeroMQ routing ids are 1 to 255 bytes.
  id: z.string().min(1).max(255),
  endpoint: z.string().min(1).max(1000),
  slots: z.number().int().min(1).max(64),
  // Z85 keys are 40 characters. Sent by the SSH launcher: the link crosses hosts, so it is encrypted and authenticated.
  curve: z.object({ serverKey: z.string().length(40), publicKey: z.string().length(40), secretKey: z.string().length(40) }).optional(),
}) satisfies z.ZodType<SandboxBoot>

/** @example parseBoot('{"id":"sb-1","endpoint":"tcp://127.0.0.1:5556","slots":2}') */
export function parseBoot(line: string): SandboxBoot {
  return sandboxBootSchema.parse(JSON.parse(line))
}
