;; Scans of a layer's int8 weights for the model checks (models/weight-scan.ts):
;; the range check and the per-row sums behind the static accumulator bound.
;; Plain JavaScript loops over a model's millions of weights run mostly before
;; V8 has optimized them in a short `nibble compile` process; this runs at
;; full speed from the first call. Built by `npm run build`
;; (sim/kernels/build-wasm.mjs, wabt's wat2wasm).
;;
;; The weights are at [0, len) of this memory; rowSums writes from $out on.
(module
  (memory (export "memory") 1 65536)

  ;; Index of the first value outside [$lo, $hi] in [0, $len), or -1.
  (func (export "firstOutside") (param $len i32) (param $lo i32) (param $hi i32) (result i32)
    (local $i i32) (local $v i32) (local $vlo v128) (local $vhi v128) (local $x v128)
    (local.set $vlo (i8x16.splat (local.get $lo)))
    (local.set $vhi (i8x16.splat (local.get $hi)))
    (block $simd_done
      (loop $simd
        (br_if $simd_done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $len)))
        (local.set $x (v128.load (local.get $i)))
        ;; a block with a value outside: its first one is found by the scalar loop below
        (br_if $simd_done
          (v128.any_true
            (v128.or (i8x16.lt_s (local.get $x) (local.get $vlo)) (i8x16.gt_s (local.get $x) (local.get $vhi)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $simd)))
    (block $done
      (loop $scalar
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $v (i32.load8_s (local.get $i)))
        (if (i32.or (i32.lt_s (local.get $v) (local.get $lo)) (i32.gt_s (local.get $v) (local.get $hi)))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scalar)))
    (i32.const -1))

  ;; For each of $rows rows of $rowLength values: sum and sum of absolute values,
  ;; as two i32 at $out + 8 * row (the caller keeps 128 * rowLength below 2^31).
  (func (export "rowSums") (param $rows i32) (param $rowLength i32) (param $out i32)
    (local $r i32) (local $i i32) (local $end i32) (local $v i32)
    (local $sum i32) (local $abs i32) (local $vsum v128) (local $vabs v128) (local $x v128)
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $end (i32.add (local.get $i) (local.get $rowLength)))
        (local.set $vsum (v128.const i32x4 0 0 0 0))
        (local.set $vabs (v128.const i32x4 0 0 0 0))
        (block $simd_done
          (loop $simd
            (br_if $simd_done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $end)))
            (local.set $x (v128.load (local.get $i)))
            (local.set $vsum
              (i32x4.add (local.get $vsum)
                (i32x4.extadd_pairwise_i16x8_s (i16x8.extadd_pairwise_i8x16_s (local.get $x)))))
            ;; |-128| is 128 as an unsigned byte
            (local.set $vabs
              (i32x4.add (local.get $vabs)
                (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (i8x16.abs (local.get $x))))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $simd)))
        (local.set $sum
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $vsum)) (i32x4.extract_lane 1 (local.get $vsum)))
            (i32.add (i32x4.extract_lane 2 (local.get $vsum)) (i32x4.extract_lane 3 (local.get $vsum)))))
        (local.set $abs
          (i32.add
            (i32.add (i32x4.extract_lane 0 (local.get $vabs)) (i32x4.extract_lane 1 (local.get $vabs)))
            (i32.add (i32x4.extract_lane 2 (local.get $vabs)) (i32x4.extract_lane 3 (local.get $vabs)))))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $v (i32.load8_s (local.get $i)))
            (local.set $sum (i32.add (local.get $sum) (local.get $v)))
            (local.set $abs
              (i32.add (local.get $abs)
                (select (i32.sub (i32.const 0) (local.get $v)) (local.get $v) (i32.lt_s (local.get $v) (i32.const 0)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3))) (local.get $sum))
        (i32.store offset=4 (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 3))) (local.get $abs))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row)))
  )
)
