/** Processes as Linux shows them in /proc: who is whose child, and ending a whole tree. */
import { readdirSync, readFileSync } from 'node:fs'

/** Parent pid of every process now, read from /proc/<pid>/stat. */
function parents(): Map<number, number> {
  const parentOf = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The command name may hold spaces and parentheses: the fields after it (state, then the parent pid) start after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // the process ended while we looked
    }
  }
  return parentOf
}

/** @example childrenOf(dispatcherPid) // the sandbox processes it launched */
export function childrenOf(pid: number): number[] {
  return [...parents()].filter(([, ppid]) => ppid === pid).map(([child]) => child)
}

/** SIGKILLs a process and all its descendants, all found before any is killed. */
export function killTree(root: number): void {
  const children = new Map<number, number[]>()
  for (const [pid, ppid] of parents()) children.set(ppid, [...(children.get(ppid) ?? []), pid])
  const tree: number[] = []
  for (let queue = [root]; queue.length > 0; ) {
    const pid = queue.shift()!
    tree.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}
