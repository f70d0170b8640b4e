// Minimal protobuf wire-format writer: just what ONNX serialisation needs
// (varints, 32-bit floats, length-delimited bytes/strings/messages, packed
// repeated scalars). Pure: no TextEncoder/Buffer, so it type-checks under the
// ES2022-only lib of src/model.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** UTF-8 bytes of a JS string (surrogate pairs combined; lone surrogates become U+FFFD). */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        cp = 0xfffd;
      }
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
      cp = 0xfffd;
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return Uint8Array.from(out);
}

/** Little-endian bytes of a typed array (a view, without copying, on little-endian hosts). */
export function littleEndianBytes(data: Float32Array | Int32Array | BigInt64Array | Uint8Array): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i], true);
    else if (data instanceof Int32Array) view.setInt32(i * 4, data[i], true);
    else view.setBigInt64(i * 8, data[i], true);
  }
  return out;
}

/** Accumulates one message; nested messages are written separately and embedded as bytes. */
export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private pending: number[] = [];
  private size = 0;

  private flushPending(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.pending = [];
  }

  private pushByte(b: number): void {
    this.pending.push(b);
    this.size++;
  }

  private pushBytes(bytes: Uint8Array): void {
    if (bytes.length < 64) {
      for (const b of bytes) this.pushByte(b);
      return;
    }
    this.flushPending();
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  /** Unsigned varint of a non-negative safe integer or any int64 (negatives in two's complement, 10 bytes). */
  private rawVarint(value: number | bigint): void {
    let v: bigint;
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new RangeError(`varint needs a safe integer, got ${value}`);
      if (value >= 0 && value < 0x80000000) {
        let n = value;
        while (n >= 0x80) {
          this.pushByte((n & 0x7f) | 0x80);
          n >>>= 7;
        }
        this.pushByte(n);
        return;
      }
      v = BigInt(value);
    } else {
      v = value;
    }
    v = BigInt.asUintN(64, v);
    while (v >= 0x80n) {
      this.pushByte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.pushByte(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** int32/int64/enum/bool field. */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.pushBytes(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(value.length);
    this.pushBytes(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8Encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.rawVarint(values[i]);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: ArrayLike<number>): this {
    const data = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = values[i];
    return this.bytes(field, littleEndianBytes(data).slice());
  }

  get byteLength(): number {
    return this.size;
  }

  finish(): Uint8Array {
    this.flushPending();
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    this.chunks = [out];
    return out;
  }
}
