/**
 * The one line a launcher writes to a sandbox's stdin: who it is and where
 * to connect. The sandbox reads nothing else from its environment.
 */
import { z } from 'zod'
import type { SandboxBoot } from '../worker/launcher.ts'

export const sandboxBootSchema = z.object({
  // ZeroMQ routing ids are 1 to 255 bytes.
  id: z.string().min(1).max(255),
  endpoint: z.string().min(1).max(1000),
  slots: z.number().int().min(1).max(64),
}) satisfies z.ZodType<SandboxBoot>

/** @example parseBoot('{"id":"sb-1","endpoint":"tcp://127.0.0.1:5556","slots":2}') */
export function parseBoot(line: string): SandboxBoot {
  return sandboxBootSchema.parse(JSON.parse(line))
}
