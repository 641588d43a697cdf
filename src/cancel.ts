// Cancellation, shared by every layer (a leaf module: it imports nothing). A cancelled computation
// rejects with a DOMException named 'AbortError', as fetch and other web APIs do.

export function cancelledError(): DOMException {
  return new DOMException('The computation was cancelled', 'AbortError');
}

/** Throws the AbortError when `signal` has been aborted: call between chunks of work. */
export function checkAborted(signal: AbortSignal | undefined | null): void {
  if (signal?.aborted) throw cancelledError();
}
