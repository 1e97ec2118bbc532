import { fileURLToPath } from "node:url";
import { assertEquals, assertOk, assertThrows } from "../assert.ts";
import { NativeMemory } from "../../ffi/native_memory.ts";

Deno.test("NativeMemory: zeroed calloc memory with a stable address, freed once on dispose", () => {
  const memory = new NativeMemory(64);
  const address = memory.address;
  assertOk(address !== 0n);
  assertEquals(memory.bytes(), new Uint8Array(64));
  // What the kernel does through the address a struct holds: write there; the bytes are read back from it.
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(address)!, 4)).set([
    1,
    2,
    3,
    4,
  ]);
  assertEquals([...memory.bytes().subarray(0, 5)], [1, 2, 3, 4, 0]);
  assertEquals(memory.address, address);
  memory[Symbol.dispose]();
  memory.free();
  assertThrows(() => memory.address, Error, "after free");
});

// Regression: ffi/vgem.ts and ffi/sync_file.ts put the address of a small Uint8Array (which V8 may keep on its
// moving heap) into an ioctl struct. A pointer that a struct holds comes from NativeMemory.
Deno.test("ffi/: no address of a JavaScript typed array is taken to be stored in a struct", async () => {
  const dir = fileURLToPath(new URL("../../ffi/", import.meta.url));
  const offenders: string[] = [];
  const scan = async (sub: string) => {
    for await (const entry of Deno.readDir(dir + sub)) {
      const name = sub + entry.name;
      if (entry.isDirectory) await scan(`${name}/`);
      if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
      const text = await Deno.readTextFile(dir + name);
      if (name !== "native_memory.ts" && /UnsafePointer\.of\(/.test(text)) offenders.push(name);
    }
  };
  await scan("");
  assertEquals(offenders, []);
});

Deno.test("NativeMemory.write: copies input in at an offset and refuses what does not fit", () => {
  using memory = new NativeMemory(8);
  memory.write(Uint8Array.of(7, 8), 3);
  assertEquals([...memory.bytes()], [0, 0, 0, 7, 8, 0, 0, 0]);
  assertThrows(() => memory.write(new Uint8Array(6), 3), RangeError, "Cannot write 6 bytes at 3 into 8");
  memory.free();
  assertThrows(() => memory.write(Uint8Array.of(1)), Error, "after free");
});
