/**
 * A minimal Protocol Buffers encoder: enough of the wire format (varints, packed repeated scalars,
 * length-delimited strings, bytes and sub-messages) to write TensorFlow's GraphDef and SavedModel
 * messages without a protobuf compiler. Messages are built bottom-up: each `Message` collects encoded
 * chunks and is embedded into its parent as bytes, so large tensor payloads are copied once per level.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LENGTH = 2;

function varint(value: number | bigint): Uint8Array {
  // Negative int64 values are sent as their 64-bit two's complement: 10 bytes.
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

function smallVarint(value: number): number[] {
  // Fast path for tags and lengths (non-negative, below 2^53).
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

const utf8 = new TextEncoder();

export class Message {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(chunk: Uint8Array): this {
    this.chunks.push(chunk);
    this.size += chunk.length;
    return this;
  }

  private tag(field: number, wire: number): this {
    return this.push(Uint8Array.from(smallVarint(field * 8 + wire)));
  }

  /** int32, int64, uint32, enum (negative values as 10-byte varints, as protobuf does). */
  int(field: number, value: number | bigint): this {
    return this.tag(field, WIRE_VARINT).push(varint(value));
  }

  bool(field: number, value: boolean): this {
    return this.int(field, value ? 1 : 0);
  }

  float(field: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    return this.tag(field, WIRE_FIXED32).push(b);
  }

  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, WIRE_LENGTH).push(Uint8Array.from(smallVarint(value.length))).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  message(field: number, value: Message): this {
    this.tag(field, WIRE_LENGTH).push(Uint8Array.from(smallVarint(value.size)));
    for (const c of value.chunks) this.push(c);
    return this;
  }

  /** A packed repeated int32/int64/enum field (protobuf 3's default for repeated scalars). */
  packedInts(field: number, values: readonly number[]): this {
    const body = new Message();
    for (const v of values) body.push(varint(v));
    return this.message(field, body);
  }

  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(4 * values.length);
    const view = new DataView(b.buffer);
    values.forEach((v, i) => view.setFloat32(4 * i, v, true));
    return this.bytes(field, b);
  }

  /** One entry of a `map<string, V>` field (maps are repeated key/value sub-messages). */
  mapEntry(field: number, key: string, value: Message): this {
    return this.message(field, new Message().string(1, key).message(2, value));
  }

  /** A `map<string, string>` entry. */
  mapStringEntry(field: number, key: string, value: string): this {
    return this.message(field, new Message().string(1, key).string(2, value));
  }

  get byteLength(): number {
    return this.size;
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
