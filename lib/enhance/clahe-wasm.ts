/**
 * CLAHE's loops over pixels and bins (tile histograms, clipped LUTs, bilinear interpolation) as a tiny
 * WebAssembly module, assembled here from its opcodes so the project needs no toolchain and no binary
 * file. In TypeScript, Node 20's optimiser repeats a map check, a length load and a bounds check on
 * every typed-array access inside these loops (it hoists none of them), which kept CLAHE at 2 to 3
 * times OpenCV's time however the loops were arranged; in WebAssembly they are plain loads, and the
 * interpolation does four pixels at a time.
 *
 * WebAssembly float32 arithmetic is IEEE single precision and never fused, so the interpolation is
 * OpenCV's own float32 sequence, exact with no float64 shortcut to check. The per-row and per-column
 * tables and the memory layout are clahe.ts's.
 */

// Opcodes used below (WebAssembly core + SIMD).
const BLOCK_VOID = 0x40;
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const OP = {
  block: 0x02, loop: 0x03, end: 0x0b, brIf: 0x0d, select: 0x1b,
  localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Load: 0x28, i32Load8U: 0x2d, i32Store: 0x36, i32Store8: 0x3a,
  i32Const: 0x41, i32Eqz: 0x45, i32LtS: 0x48, i32LtU: 0x49,
  i32Add: 0x6a, i32Sub: 0x6b, i32DivU: 0x6e, i32And: 0x71, i32Shl: 0x74, i32ShrU: 0x76,
  simd: 0xfd,
};
const SIMD = {
  v128Load: 0x00, v128Load8x8U: 0x02, v128Const: 0x0c, i8x16Shuffle: 0x0d,
  i32x4Splat: 0x11, f32x4Splat: 0x13, i32x4ExtractLane: 0x1b,
  v128Load8Lane: 0x54, v128Store32Lane: 0x5a,
  i32x4ExtendLowI16x8U: 0xa9, i32x4Add: 0xae,
  f32x4Add: 0xe4, f32x4Mul: 0xe6, f32x4ConvertI32x4S: 0xfa,
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

const get = (i: number) => [OP.localGet, ...uleb(i)];
const set = (i: number) => [OP.localSet, ...uleb(i)];
const tee = (i: number) => [OP.localTee, ...uleb(i)];
const i32 = (n: number) => [OP.i32Const, ...sleb(n)];
const simd = (op: number, ...imm: number[]) => [OP.simd, ...uleb(op), ...imm];
/** memarg: alignment exponent, then the constant offset. */
const mem = (align: number, offset = 0) => [align, ...uleb(offset)];
const addToLocal = (i: number, n: number) => [...get(i), ...i32(n), OP.i32Add, ...set(i)];

/**
 * histBand(p, rows, tileW, tilesX, hist): counts `rows` rows of `tilesX` tiles of `tileW` bytes each,
 * stored contiguously from p, into the int32 histograms at hist (1024 bytes per tile).
 */
function histBandBody(): number[] {
  const [p, rows, tileW, tilesX, hist, h, end, t, a] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  return [
    1, 4, I32, // locals h, end, t, a
    OP.loop, BLOCK_VOID,
    ...get(hist), ...set(h),
    ...get(tilesX), ...set(t),
    OP.loop, BLOCK_VOID,
    ...get(p), ...get(tileW), OP.i32Add, ...set(end),
    OP.loop, BLOCK_VOID,
    ...get(h), ...get(p), OP.i32Load8U, ...mem(0), ...i32(2), OP.i32Shl, OP.i32Add, ...tee(a),
    ...get(a), OP.i32Load, ...mem(2), ...i32(1), OP.i32Add, OP.i32Store, ...mem(2),
    ...get(p), ...i32(1), OP.i32Add, ...tee(p), ...get(end), OP.i32LtU, OP.brIf, 0,
    OP.end,
    ...addToLocal(h, 1024),
    ...get(t), ...i32(1), OP.i32Sub, ...tee(t), OP.brIf, 0,
    OP.end,
    ...get(rows), ...i32(1), OP.i32Sub, ...tee(rows), OP.brIf, 0,
    OP.end,
    OP.end,
  ];
}

/**
 * lutBand(hist, lut, tiles, clipLimit, scaled): for `tiles` consecutive int32 tile histograms at hist,
 * clips each at clipLimit (pass 2^31 - 1 for none), spreads the excess as OpenCV does (an even share to
 * every bin, one more to bins 0, step, 2·step… for the remainder) and writes its 256 LUT bytes,
 * consecutively from lut: scaled[cumulative count], `scaled` being OpenCV's rounding of count · scale.
 */
function lutBandBody(): number[] {
  const [hist, lut, tiles, clipLimit, scaled] = [0, 1, 2, 3, 4];
  const [i, h, c, clipped, batch, residual, step, sum, end] = [5, 6, 7, 8, 9, 10, 11, 12, 13];
  return [
    1, 9, I32,
    OP.loop, BLOCK_VOID,
    ...i32(0), ...set(clipped),
    ...get(hist), ...tee(i), ...i32(1024), OP.i32Add, ...set(end),
    OP.loop, BLOCK_VOID,
    // Branch-free min(h, clipLimit): whether a bin is clipped is data-dependent and mispredicts.
    ...get(i),
    ...get(i), OP.i32Load, ...mem(2), ...tee(h), ...get(clipLimit), ...get(h), ...get(clipLimit), OP.i32LtS, OP.select, ...tee(c),
    OP.i32Store, ...mem(2),
    ...get(clipped), ...get(h), OP.i32Add, ...get(c), OP.i32Sub, ...set(clipped),
    ...get(i), ...i32(4), OP.i32Add, ...tee(i), ...get(end), OP.i32LtU, OP.brIf, 0,
    OP.end,
    ...get(clipped), ...i32(8), OP.i32ShrU, ...set(batch),
    ...get(clipped), ...i32(255), OP.i32And, ...set(residual),
    OP.block, BLOCK_VOID,
    ...get(residual), OP.i32Eqz, OP.brIf, 0,
    ...i32(256), ...get(residual), OP.i32DivU, ...i32(2), OP.i32Shl, ...set(step),
    ...get(hist), ...set(i),
    OP.loop, BLOCK_VOID,
    ...get(i), ...get(i), OP.i32Load, ...mem(2), ...i32(1), OP.i32Add, OP.i32Store, ...mem(2),
    ...get(i), ...get(step), OP.i32Add, ...set(i),
    ...get(residual), ...i32(1), OP.i32Sub, ...tee(residual), OP.brIf, 0,
    OP.end,
    OP.end,
    // The running sum is kept as an address into `scaled`, which saves an add per bin.
    ...get(scaled), ...set(sum),
    ...get(hist), ...set(i),
    OP.loop, BLOCK_VOID,
    ...get(sum), ...get(i), OP.i32Load, ...mem(2), OP.i32Add, ...get(batch), OP.i32Add, ...tee(sum),
    OP.i32Load8U, ...mem(0), ...set(h),
    ...get(lut), ...get(h), OP.i32Store8, ...mem(0),
    ...addToLocal(lut, 1),
    ...get(i), ...i32(4), OP.i32Add, ...tee(i), ...get(end), OP.i32LtU, OP.brIf, 0,
    OP.end,
    ...get(end), ...set(hist),
    ...get(tiles), ...i32(1), OP.i32Sub, ...tee(tiles), OP.brIf, 0,
    OP.end,
    OP.end,
  ];
}

/**
 * interpRow(src, dst, groups, cols, top, planeStride, ya1, ya): one image row, four pixels a group.
 * `cols` holds 48 bytes a group: the four pixels' LUT column offsets (int32), their left weights and
 * their right weights (float32). The LUT is laid out with the edge tiles repeated around it, so a
 * pixel's four LUT entries are at top + column + value, +256 (right tile), +planeStride (lower tile).
 */
function interpRowBody(): number[] {
  const [src, dst, groups, cols, top, planeStride, ya1, ya] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [vTop, vStride, vYa1, vYa, b, bb, l11, l12, l21, l22, t] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const zero = simd(SIMD.v128Const, ...new Array(16).fill(0));
  // 2^23: adding it rounds a float32 in [0, 2^23) to an integer, half to even (OpenCV's cvRound), and
  // leaves that integer in the low mantissa bits, so its low byte is the 8-bit result.
  const magic = simd(SIMD.v128Const, ...[0, 0, 0, 0x4b, 0, 0, 0, 0x4b, 0, 0, 0, 0x4b, 0, 0, 0, 0x4b]);
  // Gathers the four LUT bytes of each pixel into the low byte of an int32 lane of four zeroed vectors,
  // which are then the int32 LUT values of the four pixels, top-left, top-right, bottom-left, bottom-right.
  const lanes: number[] = [];
  for (let k = 0; k < 4; k++) {
    lanes.push(
      ...get(b), ...simd(SIMD.i32x4ExtractLane, k), ...tee(t),
      ...get(l11), ...simd(SIMD.v128Load8Lane, ...mem(0), 4 * k), ...set(l11),
      ...get(t), ...get(l12), ...simd(SIMD.v128Load8Lane, ...mem(0, 256), 4 * k), ...set(l12),
      ...get(bb), ...simd(SIMD.i32x4ExtractLane, k), ...tee(t),
      ...get(l21), ...simd(SIMD.v128Load8Lane, ...mem(0), 4 * k), ...set(l21),
      ...get(t), ...get(l22), ...simd(SIMD.v128Load8Lane, ...mem(0, 256), 4 * k), ...set(l22),
    );
  }
  const weighted = (l: number, offset: number) => [
    ...get(l), ...simd(SIMD.f32x4ConvertI32x4S), ...get(cols), ...simd(SIMD.v128Load, ...mem(0, offset)), ...simd(SIMD.f32x4Mul),
  ];
  return [
    2, 10, V128, 1, I32, // locals: 10 v128, then t
    ...get(top), ...simd(SIMD.i32x4Splat), ...set(vTop),
    ...get(planeStride), ...simd(SIMD.i32x4Splat), ...set(vStride),
    ...get(ya1), ...simd(SIMD.f32x4Splat), ...set(vYa1),
    ...get(ya), ...simd(SIMD.f32x4Splat), ...set(vYa),
    OP.loop, BLOCK_VOID,
    ...get(src), ...simd(SIMD.v128Load8x8U, ...mem(0)), ...simd(SIMD.i32x4ExtendLowI16x8U),
    ...get(cols), ...simd(SIMD.v128Load, ...mem(0)), ...simd(SIMD.i32x4Add),
    ...get(vTop), ...simd(SIMD.i32x4Add), ...tee(b),
    ...get(vStride), ...simd(SIMD.i32x4Add), ...set(bb),
    ...zero, ...set(l11), ...zero, ...set(l12), ...zero, ...set(l21), ...zero, ...set(l22),
    ...lanes,
    ...get(dst),
    ...weighted(l11, 16), ...weighted(l12, 32), ...simd(SIMD.f32x4Add), ...get(vYa1), ...simd(SIMD.f32x4Mul),
    ...weighted(l21, 16), ...weighted(l22, 32), ...simd(SIMD.f32x4Add), ...get(vYa), ...simd(SIMD.f32x4Mul),
    ...simd(SIMD.f32x4Add),
    ...magic, ...simd(SIMD.f32x4Add),
    ...zero, ...simd(SIMD.i8x16Shuffle, 0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    ...simd(SIMD.v128Store32Lane, ...mem(0), 0),
    ...addToLocal(src, 4), ...addToLocal(dst, 4), ...addToLocal(cols, 48),
    ...get(groups), ...i32(1), OP.i32Sub, ...tee(groups), OP.brIf, 0,
    OP.end,
    OP.end,
  ];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

function assemble(): Uint8Array {
  const types = [
    [0x60, 5, I32, I32, I32, I32, I32, 0],
    [0x60, 8, I32, I32, I32, I32, I32, I32, F32, F32, 0],
  ];
  const bodies = [histBandBody(), lutBandBody(), interpRowBody()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [types.length, ...types.flat()]),
    ...section(3, [bodies.length, 0, 0, 1]), // each body's type
    ...section(5, [1, 0x00, 1]), // one memory, at least one page, grown by the caller
    ...section(7, [4, ...name('memory'), 0x02, 0, ...name('histBand'), 0x00, 0, ...name('lutBand'), 0x00, 1, ...name('interpRow'), 0x00, 2]),
    ...section(10, [bodies.length, ...bodies.flatMap((b) => [...uleb(b.length), ...b])]),
  ]);
}

/*
 * The slice of the WebAssembly JS API used here, declared locally: notebooks compile lib/ with tslab's
 * TypeScript 5.0, whose libraries lack WebAssembly.Memory and friends.
 */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

export interface ClaheKernels {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  histBand(p: number, rows: number, tileW: number, tilesX: number, hist: number): void;
  lutBand(hist: number, lut: number, tiles: number, clipLimit: number, scaled: number): void;
  interpRow(src: number, dst: number, groups: number, cols: number, top: number, planeStride: number, ya1: number, ya: number): void;
}

let kernels: ClaheKernels | null = null;

/** The kernels, compiled on first use (a few hundred bytes; synchronous compilation is fine). */
export function claheKernels(): ClaheKernels {
  if (!kernels) {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const instance = new wasm.Instance(new wasm.Module(assemble()));
    kernels = instance.exports as unknown as ClaheKernels;
  }
  return kernels;
}
