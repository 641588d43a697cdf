// Where jacobi-sweeps.wgsl keeps its matrix while rotating: workgroup memory (N² ≤ MAX_N² floats,
// indexed as in storage: row · N + column).
// Loaded from the storage buffer `a` at the start of a dispatch and written back at its end, so
// the next dispatch continues from it.

var<workgroup> local_matrix: array<f32, MAX_N * MAX_N>;  // the matrix, row-major with stride N

fn matrix_load(i: u32) -> f32 { return local_matrix[i]; }
fn matrix_store(i: u32, value: f32) { local_matrix[i] = value; }
fn matrix_barrier() { workgroupBarrier(); }
fn matrix_begin(thread: u32, n: u32) {  // n: the stride N; the whole N × N matrix
  for (var i = thread; i < n * n; i += WG) { local_matrix[i] = a[matrix_base + i]; }
}
fn matrix_end(thread: u32, n: u32) {
  workgroupBarrier();
  for (var i = thread; i < n * n; i += WG) { a[matrix_base + i] = local_matrix[i]; }
}
