import { readFile } from 'node:fs/promises'

/** The parts of the Emscripten module (prebuilt/espeak-ng.mjs, built from native/glue.c) used here. */
export interface EspeakNgWasmModule {
  HEAP16: Int16Array
  /** Read by the C callback after every chunk of audio; see native/glue.c. */
  shouldStop: (() => boolean) | undefined
  _malloc(size: number): number
  _free(pointer: number): void
  _init(dataPathPointer: number): number
  _set_voice(namePointer: number): number
  _set_params(rate: number, volume: number, pitch: number): number
  _synth(textPointer: number): number
  _get_samples_ptr(): number
  _get_samples_length(): number
  _was_stopped(): number
  _get_sample_rate(): number
  lengthBytesUTF8(text: string): number
  stringToUTF8(text: string, pointer: number, maxBytes: number): void
}

interface ModuleOptions {
  print: (line: string) => void
  printErr: (line: string) => void
  instantiateWasm: (
    imports: WebAssembly.Imports,
    receive: (instance: WebAssembly.Instance) => void,
  ) => Record<string, never>
}

type ModuleFactory = (options: ModuleOptions) => Promise<EspeakNgWasmModule>

// Both files sit next to the bundled index.js in dist/ (copied there from prebuilt/).
const loaderUrl = new URL('./espeak-ng.mjs', import.meta.url)
const wasmUrl = new URL('./espeak-ng.wasm', import.meta.url)

/** Compiles espeak-ng.wasm. */
export async function compileWasm(): Promise<WebAssembly.Module> {
  return WebAssembly.compile(await readFile(wasmUrl))
}

/**
 * Instantiates one independent copy of espeak-ng (its own memory and state) from a compiled
 * module. Everything espeak-ng prints goes to `print` instead of the process's stdout/stderr.
 */
export async function instantiate(
  wasmModule: WebAssembly.Module,
  print: (line: string) => void,
): Promise<EspeakNgWasmModule> {
  // A variable URL keeps the bundler from inlining the GPL loader; it is loaded only when needed.
  const { default: factory } = (await import(loaderUrl.href)) as { default: ModuleFactory }
  let rejectInstantiation: (reason: unknown) => void = () => {}
  // Emscripten 3.1.6 would fetch(file://…) the .wasm, which Node 20 cannot do: hand it the module.
  // Its ready promise never settles when instantiation fails, hence the separate rejection.
  const failed = new Promise<never>((_resolve, reject) => {
    rejectInstantiation = reject
  })
  const ready = factory({
    print,
    printErr: print,
    instantiateWasm(imports, receive) {
      // receive() throws when the module lacks espeak-ng's exports: that is a failure too.
      WebAssembly.instantiate(wasmModule, imports)
        .then((instance) => receive(instance))
        .catch(rejectInstantiation)
      return {}
    },
  })
  return Promise.race([ready, failed])
}
