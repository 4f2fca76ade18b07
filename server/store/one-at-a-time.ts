/**
 * Runs tasks one after the other, in the order they were given: each starts
 * once the one before it has settled, whether it resolved or failed. The
 * MongoDB adapter keeps one per operation whose reads must not change under
 * it because of this process's own writes (FerretDB's updates are not atomic).
 */
export class OneAtATime {
  #tail: Promise<unknown> = Promise.resolve()

  /**
   * @example
   *   const serial = new OneAtATime()
   *   const result = await serial.run(() => readThenWrite())
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task)
    this.#tail = run.catch(() => undefined)
    return run
  }
}
