// The Jacobi rotation (c, s) that zeroes a_pq of the 2 × 2 block [[a_pp, a_pq], [a_pq, a_qq]]:
// J = [[c, s], [−s, c]], Jᵀ·block·J diagonal. Rotations that cannot change anything at f32
// precision are skipped (c = 1, s = 0). Shared by jacobi-rotate.wgsl and jacobi-sweeps.wgsl, so
// both drivers make the same rotations.
fn rotation_of(app: f32, aqq: f32, apq: f32) -> vec2f {
  if (!(abs(apq) > 1e-30 && abs(apq) > 1e-9 * sqrt(abs(app * aqq)))) { return vec2f(1.0, 0.0); }
  let theta = (aqq - app) / (2.0 * apq);
  var t: f32;
  if (abs(theta) > 1e15) {
    t = 0.5 / theta;  // tan of the angle ≈ 1/(2θ) for huge θ (θ² would overflow)
  } else {
    t = select(-1.0, 1.0, theta >= 0.0) / (abs(theta) + sqrt(theta * theta + 1.0));
  }
  let c = inverseSqrt(t * t + 1.0);
  return vec2f(c, t * c);
}
