// What the editor starts with for each language: something that runs and prints.

const WAT_HELLO = `(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "Hello from WASI\\n")
  (func (export "_start")
    ;; one iovec at 0: base 16, length 16; bytes written go to 8
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
`;

const SAMPLES: Record<string, { file: string; code: string }> = {
  python: { file: 'main.py', code: 'import sys\n\nname = sys.stdin.read().strip() or "world"\nprint(f"Hello, {name}!")\n' },
  javascript: { file: 'main.js', code: 'const name = stdin.trim() || "world";\nconsole.log(`Hello, ${name}!`);\n' },
  wasm: { file: 'main.wat', code: WAT_HELLO },
};

export function sampleFor(language: string): { file: string; code: string } {
  return SAMPLES[language] ?? { file: 'main.txt', code: '' };
}

export function isSample(code: string): boolean {
  return code === '' || Object.values(SAMPLES).some((s) => s.code === code);
}
