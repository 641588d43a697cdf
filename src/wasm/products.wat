;; float64 kernels of the CPU path, WebAssembly SIMD (f64x2): the products A·Bᵀ and A·B, and the
;; O(n³) loops of the tridiagonal eigensolver (tred2, the QL rotations and the top-k back-transformation, at the end of the file). Source of the binaries in
;; src/math/wasmProducts.generated.ts, assembled by scripts/build-wasm.mjs with wabt (npm): twice,
;; once as written (relaxed-SIMD FMA: f64x2.relaxed_madd) and once with every
;; `(f64x2.relaxed_madd X Y Z)` rewritten to `(f64x2.add (f64x2.mul X Y) Z)` for engines without
;; relaxed SIMD (Node 20). The operands of relaxed_madd are always plain (local.get $x) so that the
;; rewrite is a textual one.
;;
;; Layout: row-major float64 matrices in linear memory, addresses in bytes. A representation is
;; neurons × datapoints with each row contiguous, so C = A·Bᵀ contracts two contiguous rows: the
;; f64x2 lanes run along the shared dimension (even and odd elements), and the two lanes are added
;; once per dot product at the end.
;;
;; A·B (the `ab` export, for W·Xc and U_kᵀ·Xc where B's rows are the contiguous datapoints): the lanes
;; run along C's columns instead, 4 rows × 4 columns of C in registers, A's entries splat.
;;
;; Blocking of A·Bᵀ: a register block of 4 rows of A × 2 rows of B (8 f64x2 accumulators, 2 B vectors and
;; one A vector live: 11 of x86-64's 16 vector registers); cache tiles of KT = 256 elements of the
;; shared dimension (4 A rows = 8 KiB in L1) × JT = 64 rows of B (128 KiB in L2), the A rows swept
;; against the whole B tile before moving on.
(module
  (memory (export "memory") 1)

  ;; C[i..i+4, j..j+2] += A[i..i+4, t0..t0+len] · B[j..j+2, t0..t0+len]ᵀ
  ;; $a: address of A[i, t0]; $b: of B[j, t0]; $c: of C[i, j]; $rowA, $rowB, $rowC: row strides in bytes.
  (func $block4x2 (param $a i32) (param $b i32) (param $c i32) (param $rowA i32) (param $rowB i32) (param $rowC i32) (param $len i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $b1 i32) (local $end i32) (local $t i32)
    (local $x v128) (local $y0 v128) (local $y1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $rowA)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $rowA)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $rowA)))
    (local.set $b1 (i32.add (local.get $b) (local.get $rowB)))
    ;; bytes covered by whole f64x2 pairs
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $t) (local.get $end)))
        (local.set $y0 (v128.load (i32.add (local.get $b) (local.get $t))))
        (local.set $y1 (v128.load (i32.add (local.get $b1) (local.get $t))))
        (local.set $x (v128.load (i32.add (local.get $a) (local.get $t))))
        (local.set $c00 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c00)))
        (local.set $c01 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c01)))
        (local.set $x (v128.load (i32.add (local.get $a1) (local.get $t))))
        (local.set $c10 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c10)))
        (local.set $c11 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c11)))
        (local.set $x (v128.load (i32.add (local.get $a2) (local.get $t))))
        (local.set $c20 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c20)))
        (local.set $c21 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c21)))
        (local.set $x (v128.load (i32.add (local.get $a3) (local.get $t))))
        (local.set $c30 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c30)))
        (local.set $c31 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c31)))
        (local.set $t (i32.add (local.get $t) (i32.const 16)))
        (br $pairs)))
    ;; an odd last element: one more step with the upper lanes zero (v128.load64_zero)
    (if (i32.and (local.get $len) (i32.const 1))
      (then
        (local.set $y0 (v128.load64_zero (i32.add (local.get $b) (local.get $t))))
        (local.set $y1 (v128.load64_zero (i32.add (local.get $b1) (local.get $t))))
        (local.set $x (v128.load64_zero (i32.add (local.get $a) (local.get $t))))
        (local.set $c00 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c00)))
        (local.set $c01 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c01)))
        (local.set $x (v128.load64_zero (i32.add (local.get $a1) (local.get $t))))
        (local.set $c10 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c10)))
        (local.set $c11 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c11)))
        (local.set $x (v128.load64_zero (i32.add (local.get $a2) (local.get $t))))
        (local.set $c20 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c20)))
        (local.set $c21 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c21)))
        (local.set $x (v128.load64_zero (i32.add (local.get $a3) (local.get $t))))
        (local.set $c30 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c30)))
        (local.set $c31 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c31)))))
    (call $addLanes (local.get $c) (local.get $c00))
    (call $addLanes (i32.add (local.get $c) (i32.const 8)) (local.get $c01))
    (local.set $c (i32.add (local.get $c) (local.get $rowC)))
    (call $addLanes (local.get $c) (local.get $c10))
    (call $addLanes (i32.add (local.get $c) (i32.const 8)) (local.get $c11))
    (local.set $c (i32.add (local.get $c) (local.get $rowC)))
    (call $addLanes (local.get $c) (local.get $c20))
    (call $addLanes (i32.add (local.get $c) (i32.const 8)) (local.get $c21))
    (local.set $c (i32.add (local.get $c) (local.get $rowC)))
    (call $addLanes (local.get $c) (local.get $c30))
    (call $addLanes (i32.add (local.get $c) (i32.const 8)) (local.get $c31)))

  ;; memory[$at] += lane 0 + lane 1 of $v
  (func $addLanes (param $at i32) (param $v v128)
    (f64.store (local.get $at)
      (f64.add (f64.load (local.get $at))
        (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))))

  ;; memory[$c] += A row · B row over $len elements ($a, $b: addresses of the first elements)
  (func $dot1 (param $a i32) (param $b i32) (param $c i32) (param $len i32)
    (local $end i32) (local $t i32) (local $x v128) (local $y v128) (local $s v128)
    (local.set $end (i32.shl (i32.and (local.get $len) (i32.const -2)) (i32.const 3)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $t) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $a) (local.get $t))))
        (local.set $y (v128.load (i32.add (local.get $b) (local.get $t))))
        (local.set $s (f64x2.relaxed_madd (local.get $x) (local.get $y) (local.get $s)))
        (local.set $t (i32.add (local.get $t) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $len) (i32.const 1))
      (then
        (local.set $x (v128.load64_zero (i32.add (local.get $a) (local.get $t))))
        (local.set $y (v128.load64_zero (i32.add (local.get $b) (local.get $t))))
        (local.set $s (f64x2.relaxed_madd (local.get $x) (local.get $y) (local.get $s)))))
    (call $addLanes (local.get $c) (local.get $s)))

  ;; C += A·Bᵀ: A is p × k at $A, B is q × k at $B (row stride k·8 bytes both), C is p × q at $C.
  ;; $symmetric ≠ 0 (A and B the same rows): only blocks that reach the upper triangle (j ≥ i) are
  ;; computed; the caller mirrors the upper triangle into the lower.
  (func (export "abt") (param $A i32) (param $B i32) (param $C i32) (param $p i32) (param $q i32) (param $k i32) (param $symmetric i32)
    (local $rowAB i32) (local $rowC i32) (local $t0 i32) (local $len i32) (local $j0 i32) (local $j1 i32)
    (local $i i32) (local $j i32) (local $jStart i32) (local $r i32)
    (local.set $rowAB (i32.shl (local.get $k) (i32.const 3)))
    (local.set $rowC (i32.shl (local.get $q) (i32.const 3)))
    (block $kDone
      (loop $kTiles
        (br_if $kDone (i32.ge_s (local.get $t0) (local.get $k)))
        (local.set $len (select (i32.const 256) (i32.sub (local.get $k) (local.get $t0))
          (i32.lt_s (i32.const 256) (i32.sub (local.get $k) (local.get $t0)))))
        (local.set $j0 (i32.const 0))
        (block $jTilesDone
          (loop $jTiles
            (br_if $jTilesDone (i32.ge_s (local.get $j0) (local.get $q)))
            (local.set $j1 (select (i32.add (local.get $j0) (i32.const 64)) (local.get $q)
              (i32.lt_s (i32.add (local.get $j0) (i32.const 64)) (local.get $q))))
            ;; rows of A four at a time
            (local.set $i (i32.const 0))
            (block $iDone
              (loop $iBlocks
                (br_if $iDone (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $p)))
                (local.set $jStart (local.get $j0))
                (if (i32.and (local.get $symmetric) (i32.gt_s (local.get $i) (local.get $j0)))
                  (then (local.set $jStart (local.get $i))))
                (local.set $j (local.get $jStart))
                (block $jDone
                  (loop $jBlocks
                    (br_if $jDone (i32.gt_s (i32.add (local.get $j) (i32.const 2)) (local.get $j1)))
                    (call $block4x2
                      (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $t0)) (i32.const 3)))
                      (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $k)) (local.get $t0)) (i32.const 3)))
                      (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $q)) (local.get $j)) (i32.const 3)))
                      (local.get $rowAB) (local.get $rowAB) (local.get $rowC) (local.get $len))
                    (local.set $j (i32.add (local.get $j) (i32.const 2)))
                    (br $jBlocks)))
                ;; one column of the tile left: four single dot products
                (if (i32.lt_s (local.get $j) (local.get $j1))
                  (then
                    (local.set $r (i32.const 0))
                    (block $rDone
                      (loop $rows
                        (br_if $rDone (i32.ge_s (local.get $r) (i32.const 4)))
                        (call $dot1
                          (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $k)) (local.get $t0)) (i32.const 3)))
                          (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $k)) (local.get $t0)) (i32.const 3)))
                          (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $q)) (local.get $j)) (i32.const 3)))
                          (local.get $len))
                        (local.set $r (i32.add (local.get $r) (i32.const 1)))
                        (br $rows)))))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $iBlocks)))
            ;; the last p mod 4 rows: single dot products
            (block $tailDone
              (loop $tailRows
                (br_if $tailDone (i32.ge_s (local.get $i) (local.get $p)))
                (local.set $j (local.get $j0))
                (if (i32.and (local.get $symmetric) (i32.gt_s (local.get $i) (local.get $j0)))
                  (then (local.set $j (local.get $i))))
                (block $colsDone
                  (loop $cols
                    (br_if $colsDone (i32.ge_s (local.get $j) (local.get $j1)))
                    (call $dot1
                      (i32.add (local.get $A) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $k)) (local.get $t0)) (i32.const 3)))
                      (i32.add (local.get $B) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $k)) (local.get $t0)) (i32.const 3)))
                      (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $q)) (local.get $j)) (i32.const 3)))
                      (local.get $len))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))
                    (br $cols)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $tailRows)))
            (local.set $j0 (local.get $j1))
            (br $jTiles)))
        (local.set $t0 (i32.add (local.get $t0) (i32.const 256)))
        (br $kTiles))))

  ;; C[i..i+4, j..j+4] += A[i..i+4, 0..len] · B[0..len, j..j+4]: the A·B product, B's rows contiguous,
  ;; so the f64x2 lanes run along C's columns and A's entry is splat. $a: address of A[i, 0]; $b: of
  ;; B[0, j]; $c: of C[i, j]; $rowA, $rowB, $rowC: row strides in bytes.
  (func $block4x4 (param $a i32) (param $b i32) (param $c i32) (param $rowA i32) (param $rowB i32) (param $rowC i32) (param $len i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $end i32) (local $t i32)
    (local $x v128) (local $y0 v128) (local $y1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $a1 (i32.add (local.get $a) (local.get $rowA)))
    (local.set $a2 (i32.add (local.get $a1) (local.get $rowA)))
    (local.set $a3 (i32.add (local.get $a2) (local.get $rowA)))
    (local.set $end (i32.shl (local.get $len) (i32.const 3)))
    (block $done
      (loop $steps
        (br_if $done (i32.ge_u (local.get $t) (local.get $end)))
        (local.set $y0 (v128.load (local.get $b)))
        (local.set $y1 (v128.load offset=16 (local.get $b)))
        (local.set $x (f64x2.splat (f64.load (i32.add (local.get $a) (local.get $t)))))
        (local.set $c00 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c00)))
        (local.set $c01 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c01)))
        (local.set $x (f64x2.splat (f64.load (i32.add (local.get $a1) (local.get $t)))))
        (local.set $c10 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c10)))
        (local.set $c11 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c11)))
        (local.set $x (f64x2.splat (f64.load (i32.add (local.get $a2) (local.get $t)))))
        (local.set $c20 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c20)))
        (local.set $c21 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c21)))
        (local.set $x (f64x2.splat (f64.load (i32.add (local.get $a3) (local.get $t)))))
        (local.set $c30 (f64x2.relaxed_madd (local.get $x) (local.get $y0) (local.get $c30)))
        (local.set $c31 (f64x2.relaxed_madd (local.get $x) (local.get $y1) (local.get $c31)))
        (local.set $b (i32.add (local.get $b) (local.get $rowB)))
        (local.set $t (i32.add (local.get $t) (i32.const 8)))
        (br $steps)))
    (call $addVector (local.get $c) (local.get $c00))
    (call $addVector (i32.add (local.get $c) (i32.const 16)) (local.get $c01))
    (local.set $c (i32.add (local.get $c) (local.get $rowC)))
    (call $addVector (local.get $c) (local.get $c10))
    (call $addVector (i32.add (local.get $c) (i32.const 16)) (local.get $c11))
    (local.set $c (i32.add (local.get $c) (local.get $rowC)))
    (call $addVector (local.get $c) (local.get $c20))
    (call $addVector (i32.add (local.get $c) (i32.const 16)) (local.get $c21))
    (local.set $c (i32.add (local.get $c) (local.get $rowC)))
    (call $addVector (local.get $c) (local.get $c30))
    (call $addVector (i32.add (local.get $c) (i32.const 16)) (local.get $c31)))

  ;; memory[$at .. $at+16] += $v (two float64)
  (func $addVector (param $at i32) (param $v v128)
    (v128.store (local.get $at) (f64x2.add (v128.load (local.get $at)) (local.get $v))))

  ;; memory[$c] += Σ_t A[t] · B[t·rowB] over $len steps: one entry of A·B ($a: A row, $b: B column top)
  (func $dotColumn (param $a i32) (param $b i32) (param $c i32) (param $rowB i32) (param $len i32)
    (local $t i32) (local $s f64)
    (block $done
      (loop $steps
        (br_if $done (i32.ge_s (local.get $t) (local.get $len)))
        (local.set $s (f64.add (local.get $s)
          (f64.mul (f64.load (i32.add (local.get $a) (i32.shl (local.get $t) (i32.const 3)))) (f64.load (local.get $b)))))
        (local.set $b (i32.add (local.get $b) (local.get $rowB)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $steps)))
    (f64.store (local.get $c) (f64.add (f64.load (local.get $c)) (local.get $s))))

  ;; C += A·B: A is p × k at $A, B is k × q at $B, C is p × q at $C (row-major). Column tiles of
  ;; 64 (B's k × 64 strip stays in L2 while every 4-row block of A passes over it).
  (func (export "ab") (param $A i32) (param $B i32) (param $C i32) (param $p i32) (param $q i32) (param $k i32)
    (local $rowA i32) (local $rowBC i32) (local $j0 i32) (local $j1 i32) (local $i i32) (local $j i32) (local $r i32)
    (local.set $rowA (i32.shl (local.get $k) (i32.const 3)))
    (local.set $rowBC (i32.shl (local.get $q) (i32.const 3)))
    (block $jTilesDone
      (loop $jTiles
        (br_if $jTilesDone (i32.ge_s (local.get $j0) (local.get $q)))
        (local.set $j1 (select (i32.add (local.get $j0) (i32.const 64)) (local.get $q)
          (i32.lt_s (i32.add (local.get $j0) (i32.const 64)) (local.get $q))))
        (local.set $i (i32.const 0))
        (block $iDone
          (loop $iBlocks
            (br_if $iDone (i32.gt_s (i32.add (local.get $i) (i32.const 4)) (local.get $p)))
            (local.set $j (local.get $j0))
            (block $jDone
              (loop $jBlocks
                (br_if $jDone (i32.gt_s (i32.add (local.get $j) (i32.const 4)) (local.get $j1)))
                (call $block4x4
                  (i32.add (local.get $A) (i32.mul (local.get $i) (local.get $rowA)))
                  (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 3)))
                  (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $q)) (local.get $j)) (i32.const 3)))
                  (local.get $rowA) (local.get $rowBC) (local.get $rowBC) (local.get $k))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $jBlocks)))
            ;; the last q mod 4 columns of the tile: single entries
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.ge_s (local.get $j) (local.get $j1)))
                (local.set $r (i32.const 0))
                (block $rDone
                  (loop $rows
                    (br_if $rDone (i32.ge_s (local.get $r) (i32.const 4)))
                    (call $dotColumn
                      (i32.add (local.get $A) (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $rowA)))
                      (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 3)))
                      (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (i32.add (local.get $i) (local.get $r)) (local.get $q)) (local.get $j)) (i32.const 3)))
                      (local.get $rowBC) (local.get $k))
                    (local.set $r (i32.add (local.get $r) (i32.const 1)))
                    (br $rows)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $cols)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $iBlocks)))
        ;; the last p mod 4 rows: single entries
        (block $tailDone
          (loop $tailRows
            (br_if $tailDone (i32.ge_s (local.get $i) (local.get $p)))
            (local.set $j (local.get $j0))
            (block $tailColsDone
              (loop $tailCols
                (br_if $tailColsDone (i32.ge_s (local.get $j) (local.get $j1)))
                (call $dotColumn
                  (i32.add (local.get $A) (i32.mul (local.get $i) (local.get $rowA)))
                  (i32.add (local.get $B) (i32.shl (local.get $j) (i32.const 3)))
                  (i32.add (local.get $C) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $q)) (local.get $j)) (i32.const 3)))
                  (local.get $rowBC) (local.get $k))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $tailCols)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tailRows)))
        (local.set $j0 (local.get $j1))
        (br $jTiles))))

;; dst (n × len float64, row-major: neurons × datapoints) ← a block of a stored layer minus each
  ;; neuron's mean ($means: n float64): $src holds datapoints t0..t0+len of the layer as stored,
  ;; neurons-first (n rows of $len elements) or datapoints-first ($len rows of n); $wide: float64
  ;; elements, else float32 (widened exactly). The subtraction is centerRows's: x − mean in float64.
  (func (export "centreBlock") (param $src i32) (param $means i32) (param $dst i32) (param $n i32) (param $len i32) (param $neuronsFirst i32) (param $wide i32)
    (local $elementBytes i32) (local $tStep i32) (local $iStep i32) (local $i i32) (local $mean f64) (local $from i32) (local $to i32) (local $end i32)
    (local.set $elementBytes (select (i32.const 8) (i32.const 4) (local.get $wide)))
    ;; bytes between consecutive datapoints of one neuron, and between neurons at the block's first datapoint
    (local.set $tStep (i32.mul (select (i32.const 1) (local.get $n) (local.get $neuronsFirst)) (local.get $elementBytes)))
    (local.set $iStep (i32.mul (select (local.get $len) (i32.const 1) (local.get $neuronsFirst)) (local.get $elementBytes)))
    (block $neuronsDone
      (loop $neurons
        (br_if $neuronsDone (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $mean (f64.load (i32.add (local.get $means) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $from (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $iStep))))
        (local.set $to (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $i) (local.get $len)) (i32.const 3))))
        (local.set $end (i32.add (local.get $to) (i32.shl (local.get $len) (i32.const 3))))
        (if (local.get $wide)
          (then
            (block $done64
              (loop $row64
                (br_if $done64 (i32.ge_u (local.get $to) (local.get $end)))
                (f64.store (local.get $to) (f64.sub (f64.load (local.get $from)) (local.get $mean)))
                (local.set $from (i32.add (local.get $from) (local.get $tStep)))
                (local.set $to (i32.add (local.get $to) (i32.const 8)))
                (br $row64))))
          (else
            (block $done32
              (loop $row32
                (br_if $done32 (i32.ge_u (local.get $to) (local.get $end)))
                (f64.store (local.get $to) (f64.sub (f64.promote_f32 (f32.load (local.get $from))) (local.get $mean)))
                (local.set $from (i32.add (local.get $from) (local.get $tStep)))
                (local.set $to (i32.add (local.get $to) (i32.const 8)))
                (br $row32)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $neurons))))

  ;; ---- Householder tridiagonalisation (tred2 on W = Vᵀ, src/math/eigen.ts) and QL rotations ----
  ;; W is n × n row-major at $W, d and e are n-vectors at $d and $e (all addresses in bytes).

  ;; The symmetric product of step i: for j < i: f = d[j]; W[i, j] = f; g = e[j] + W[j, j]·f;
  ;; for k in (j, i): g += W[j, k]·d[k], e[k] += W[j, k]·f; e[j] = g.
  (func (export "tredProduct") (param $W i32) (param $d i32) (param $e i32) (param $n i32) (param $i i32)
    (local $j i32) (local $row i32) (local $f f64) (local $g f64) (local $k i32) (local $w f64)
    (local $fv v128) (local $gv v128) (local $wv v128) (local $at i32)
    (block $jDone
      (loop $rows
        (br_if $jDone (i32.ge_s (local.get $j) (local.get $i)))
        (local.set $row (i32.add (local.get $W) (i32.shl (i32.mul (local.get $j) (local.get $n)) (i32.const 3))))
        (local.set $f (f64.load (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))))
        (f64.store (i32.add (local.get $W) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3))) (local.get $f))
        (local.set $g (f64.add (f64.load (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3))))
          (f64.mul (f64.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))) (local.get $f))))
        (local.set $fv (f64x2.splat (local.get $f)))
        (local.set $gv (v128.const i64x2 0 0))
        (local.set $k (i32.add (local.get $j) (i32.const 1)))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_s (i32.add (local.get $k) (i32.const 2)) (local.get $i)))
            (local.set $at (i32.shl (local.get $k) (i32.const 3)))
            (local.set $wv (v128.load (i32.add (local.get $row) (local.get $at))))
            (local.set $gv (f64x2.add (local.get $gv) (f64x2.mul (local.get $wv) (v128.load (i32.add (local.get $d) (local.get $at))))))
            (v128.store (i32.add (local.get $e) (local.get $at))
              (f64x2.add (v128.load (i32.add (local.get $e) (local.get $at))) (f64x2.mul (local.get $wv) (local.get $fv))))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_s (local.get $k) (local.get $i))
          (then
            (local.set $at (i32.shl (local.get $k) (i32.const 3)))
            (local.set $w (f64.load (i32.add (local.get $row) (local.get $at))))
            (local.set $g (f64.add (local.get $g) (f64.mul (local.get $w) (f64.load (i32.add (local.get $d) (local.get $at))))))
            (f64.store (i32.add (local.get $e) (local.get $at))
              (f64.add (f64.load (i32.add (local.get $e) (local.get $at))) (f64.mul (local.get $w) (local.get $f))))))
        (f64.store (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3)))
          (f64.add (local.get $g) (f64.add (f64x2.extract_lane 0 (local.get $gv)) (f64x2.extract_lane 1 (local.get $gv)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rows))))

  ;; The rank-2 update of step i: for j < i: W[j, k] −= d[j]·e[k] + e[j]·d[k] for k in [j, i);
  ;; then d[j] = W[j, i − 1] and W[j, i] = 0.
  (func (export "tredRank2") (param $W i32) (param $d i32) (param $e i32) (param $n i32) (param $i i32)
    (local $j i32) (local $row i32) (local $f f64) (local $g f64) (local $k i32) (local $at i32)
    (local $fv v128) (local $gv v128)
    (block $jDone
      (loop $rows
        (br_if $jDone (i32.ge_s (local.get $j) (local.get $i)))
        (local.set $row (i32.add (local.get $W) (i32.shl (i32.mul (local.get $j) (local.get $n)) (i32.const 3))))
        (local.set $f (f64.load (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $g (f64.load (i32.add (local.get $e) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $fv (f64x2.splat (local.get $f)))
        (local.set $gv (f64x2.splat (local.get $g)))
        (local.set $k (local.get $j))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_s (i32.add (local.get $k) (i32.const 2)) (local.get $i)))
            (local.set $at (i32.shl (local.get $k) (i32.const 3)))
            (v128.store (i32.add (local.get $row) (local.get $at))
              (f64x2.sub (v128.load (i32.add (local.get $row) (local.get $at)))
                (f64x2.add (f64x2.mul (local.get $fv) (v128.load (i32.add (local.get $e) (local.get $at))))
                  (f64x2.mul (local.get $gv) (v128.load (i32.add (local.get $d) (local.get $at)))))))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_s (local.get $k) (local.get $i))
          (then
            (local.set $at (i32.shl (local.get $k) (i32.const 3)))
            (f64.store (i32.add (local.get $row) (local.get $at))
              (f64.sub (f64.load (i32.add (local.get $row) (local.get $at)))
                (f64.add (f64.mul (local.get $f) (f64.load (i32.add (local.get $e) (local.get $at))))
                  (f64.mul (local.get $g) (f64.load (i32.add (local.get $d) (local.get $at)))))))))
        (f64.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 3)))
          (f64.load (i32.add (local.get $row) (i32.shl (i32.sub (local.get $i) (i32.const 1)) (i32.const 3)))))
        (f64.store (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 3))) (f64.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rows))))

  ;; The accumulation of step i: for j ≤ i: g = Σ_{k ≤ i} W[i + 1, k]·W[j, k]; W[j, k] −= g·d[k].
  (func (export "tredAccumulate") (param $W i32) (param $d i32) (param $n i32) (param $i i32)
    (local $j i32) (local $row i32) (local $next i32) (local $k i32) (local $at i32) (local $g f64) (local $gv v128) (local $len i32)
    (local.set $next (i32.add (local.get $W) (i32.shl (i32.mul (i32.add (local.get $i) (i32.const 1)) (local.get $n)) (i32.const 3))))
    (local.set $len (i32.add (local.get $i) (i32.const 1)))
    (block $jDone
      (loop $rows
        (br_if $jDone (i32.gt_s (local.get $j) (local.get $i)))
        (local.set $row (i32.add (local.get $W) (i32.shl (i32.mul (local.get $j) (local.get $n)) (i32.const 3))))
        ;; $dot1 adds the dot product to memory[0..8) (scratch: the callers keep W, d and e above it)
        (f64.store (i32.const 0) (f64.const 0))
        (call $dot1 (local.get $next) (local.get $row) (i32.const 0) (local.get $len))
        (local.set $g (f64.load (i32.const 0)))
        (local.set $gv (f64x2.splat (local.get $g)))
        (local.set $k (i32.const 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.gt_s (i32.add (local.get $k) (i32.const 2)) (local.get $len)))
            (local.set $at (i32.shl (local.get $k) (i32.const 3)))
            (v128.store (i32.add (local.get $row) (local.get $at))
              (f64x2.sub (v128.load (i32.add (local.get $row) (local.get $at))) (f64x2.mul (local.get $gv) (v128.load (i32.add (local.get $d) (local.get $at))))))
            (local.set $k (i32.add (local.get $k) (i32.const 2)))
            (br $pairs)))
        (if (i32.lt_s (local.get $k) (local.get $len))
          (then
            (local.set $at (i32.shl (local.get $k) (i32.const 3)))
            (f64.store (i32.add (local.get $row) (local.get $at))
              (f64.sub (f64.load (i32.add (local.get $row) (local.get $at))) (f64.mul (local.get $g) (f64.load (i32.add (local.get $d) (local.get $at))))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rows))))

  ;; The back-transformation of k eigenvectors (src/math/eigenTop.ts): for i = 1 … n − 1 with
  ;; h[i] ≠ 0, and each row z of Z (rows × n): g = (u_i · z[0..i)) / h[i]; z[0..i) −= g·u_i, where u_i
  ;; is the first i entries of row i of R (n × n). Each reflector is applied to every row while it is in cache.
  (func (export "reflectRows") (param $R i32) (param $h i32) (param $Z i32) (param $rows i32) (param $n i32)
    (local $i i32) (local $r i32) (local $u i32) (local $row i32) (local $hi f64) (local $g f64) (local $gv v128)
    (local $at i32) (local $end i32)
    (local.set $i (i32.const 1))
    (block $iDone
      (loop $reflectors
        (br_if $iDone (i32.ge_s (local.get $i) (local.get $n)))
        (local.set $hi (f64.load (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 3)))))
        (if (f64.ne (local.get $hi) (f64.const 0))
          (then
            (local.set $u (i32.add (local.get $R) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
            (local.set $end (i32.shl (i32.and (local.get $i) (i32.const -2)) (i32.const 3)))
            (local.set $r (i32.const 0))
            (block $rDone
              (loop $rowsLoop
                (br_if $rDone (i32.ge_s (local.get $r) (local.get $rows)))
                (local.set $row (i32.add (local.get $Z) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 3))))
                ;; $dot1 adds the dot product to memory[0..8) (scratch: the caller keeps R, h and Z above it)
                (f64.store (i32.const 0) (f64.const 0))
                (call $dot1 (local.get $u) (local.get $row) (i32.const 0) (local.get $i))
                (local.set $g (f64.div (f64.load (i32.const 0)) (local.get $hi)))
                (local.set $gv (f64x2.splat (local.get $g)))
                (local.set $at (i32.const 0))
                (block $pairsDone
                  (loop $pairs
                    (br_if $pairsDone (i32.ge_u (local.get $at) (local.get $end)))
                    (v128.store (i32.add (local.get $row) (local.get $at))
                      (f64x2.sub (v128.load (i32.add (local.get $row) (local.get $at))) (f64x2.mul (local.get $gv) (v128.load (i32.add (local.get $u) (local.get $at))))))
                    (local.set $at (i32.add (local.get $at) (i32.const 16)))
                    (br $pairs)))
                (if (i32.and (local.get $i) (i32.const 1))
                  (then
                    (f64.store (i32.add (local.get $row) (local.get $at))
                      (f64.sub (f64.load (i32.add (local.get $row) (local.get $at))) (f64.mul (local.get $g) (f64.load (i32.add (local.get $u) (local.get $at))))))))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rowsLoop)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $reflectors))))

  ;; One QL rotation of two rows of Vt: (v_i, v_{i+1}) ← (c·v_i − s·v_{i+1}, s·v_i + c·v_{i+1}).
  (func (export "rotateRows") (param $ri i32) (param $rj i32) (param $n i32) (param $c f64) (param $s f64)
    (local $t i32) (local $end i32) (local $cv v128) (local $sv v128) (local $vi v128) (local $vh v128)
    (local.set $cv (f64x2.splat (local.get $c)))
    (local.set $sv (f64x2.splat (local.get $s)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -2)) (i32.const 3)))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $t) (local.get $end)))
        (local.set $vi (v128.load (i32.add (local.get $ri) (local.get $t))))
        (local.set $vh (v128.load (i32.add (local.get $rj) (local.get $t))))
        (v128.store (i32.add (local.get $rj) (local.get $t)) (f64x2.add (f64x2.mul (local.get $sv) (local.get $vi)) (f64x2.mul (local.get $cv) (local.get $vh))))
        (v128.store (i32.add (local.get $ri) (local.get $t)) (f64x2.sub (f64x2.mul (local.get $cv) (local.get $vi)) (f64x2.mul (local.get $sv) (local.get $vh))))
        (local.set $t (i32.add (local.get $t) (i32.const 16)))
        (br $pairs)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $vi (v128.load64_zero (i32.add (local.get $ri) (local.get $t))))
        (local.set $vh (v128.load64_zero (i32.add (local.get $rj) (local.get $t))))
        (f64.store (i32.add (local.get $rj) (local.get $t)) (f64x2.extract_lane 0 (f64x2.add (f64x2.mul (local.get $sv) (local.get $vi)) (f64x2.mul (local.get $cv) (local.get $vh)))))
        (f64.store (i32.add (local.get $ri) (local.get $t)) (f64x2.extract_lane 0 (f64x2.sub (f64x2.mul (local.get $cv) (local.get $vi)) (f64x2.mul (local.get $sv) (local.get $vh))))))))
)
