/**
 * Tests that need a part the machine may lack (sshd, chromium, FerretDB)
 * ask for it here. Missing, the test is skipped with a printed reason;
 * under CI=true a missing part fails the run instead.
 */
import { describe } from 'vitest'

/**
 * @example
 *   const sshd = findSshd()
 *   describeWith(sshd ? null : 'sshd not installed (apt-get install openssh-server)', 'ssh launcher', () => { … })
 */
export function describeWith(missing: string | null, name: string, body: () => void): void {
  if (missing === null) {
    describe(name, body)
    return
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      throw new Error(`${name}: ${missing} (CI=true: a missing part is a failure)`)
    })
    return
  }
  console.warn(`skipping "${name}": ${missing}`)
  describe.skip(`${name} (skipped: ${missing})`, body)
}
