// One reusable float64 work buffer per thread (module instance), for large temporaries that a
// synchronous computation makes and drops before it returns, such as SVCCA's centred copy of a
// representation (n neurons × m datapoints). Fresh large allocations are paid for in page faults on
// first touch (on this project's 2-core VM ~4 ms per MiB, more than centring the data itself), so
// reusing memory that is already mapped is the cheaper path. Contents are undefined on return;
// a caller must not keep the array or hand it out past its own return.

/** Above this many elements (128 MiB) a temporary is allocated per call and not kept. */
const MAX_KEPT_ELEMENTS = 16 * 1024 * 1024;

let kept: Float64Array | null = null;

/** A float64 array of exactly `length` elements, its contents undefined; valid until the next call. */
export function scratchFloat64(length: number): Float64Array {
  if (length > MAX_KEPT_ELEMENTS) return new Float64Array(length);
  if (!kept || kept.length < length) kept = new Float64Array(Math.max(length, Math.min(MAX_KEPT_ELEMENTS, kept ? 2 * kept.length : 0)));
  return kept.subarray(0, length);
}
