/**
 * Takes out of a fresh context what would run a cell's code outside the
 * host's calls into the isolate, where no limit and no job boundary holds:
 * FinalizationRegistry callbacks (run by V8 whenever it likes, even during a
 * later job) and Atomics.waitAsync (which also aborts isolated-vm's process)
 * are removed; WebAssembly.compile and .instantiate, which V8 finishes on
 * background threads, are replaced by versions that do the work at once.
 */
export function harden(global: typeof globalThis): void {
  Reflect.deleteProperty(global, 'FinalizationRegistry')
  Reflect.deleteProperty(global.Atomics, 'waitAsync')
  const wasm = global.WebAssembly
  const { Module, Instance } = wasm
  type Source = ConstructorParameters<typeof Module>[0]
  type Imports = WebAssembly.Imports | undefined
  // The executor runs synchronously: the promise is settled before the call returns.
  wasm.compile = (bytes: Source) => new Promise((resolve) => resolve(new Module(bytes)))
  wasm.instantiate = ((source: Source | WebAssembly.Module, imports: Imports) =>
    new Promise<unknown>((resolve) => {
      if (source instanceof Module) return resolve(new Instance(source, imports))
      const module = new Module(source)
      resolve({ module, instance: new Instance(module, imports) })
    })) as typeof wasm.instantiate
}
