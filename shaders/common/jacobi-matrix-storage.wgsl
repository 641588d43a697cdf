// Where jacobi-sweeps.wgsl keeps its matrix while rotating: in place in the storage buffer `a`
// (matrices too large for workgroup memory). storageBarrier orders the threads' writes to it.

fn matrix_load(i: u32) -> f32 { return a[matrix_base + i]; }
fn matrix_store(i: u32, value: f32) { a[matrix_base + i] = value; }
fn matrix_barrier() { storageBarrier(); workgroupBarrier(); }
fn matrix_begin(thread: u32, n: u32) {}
fn matrix_end(thread: u32, n: u32) {}
