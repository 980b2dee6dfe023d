;; The fast model-JSON reader's weights loop (models/model-json-reader.ts): one
;; "weights" array of a model file, from its text's bytes to int8 values. Built
;; by `npm run build` (sim/kernels/build-wasm.mjs, wabt's wat2wasm).
;;
;; The text's bytes are at [0, len) of this memory with a zero byte after them
;; (so every scan stops there); values are written from $out on. Only what the
;; reader takes is accepted: integers without a leading zero, fraction or
;; exponent, -0 excluded, in [-128, 127], separated by commas and JSON
;; whitespace. Anything else returns -1 and the array is left to JSON.parse.
(module
  (memory (export "memory") 1 65536)
  ;; byte offset just past the ']' of the last array read
  (global $end (export "end") (mut i32) (i32.const 0))

  ;; Values of the array whose '[' is at $open, written from $out; returns their count, or -1.
  (func (export "weights") (param $open i32) (param $out i32) (result i32)
    (local $i i32) (local $c i32) (local $v i32) (local $neg i32) (local $n i32)
    (local.set $i (i32.add (local.get $open) (i32.const 1)))
    (loop $value
      (block $ws_donea
        (loop $wsa
          (local.set $c (i32.load8_u (local.get $i)))
          ;; JSON whitespace: 32, 10, 13, 9 (all <= 32; nothing else below 33 is legal here)
          (br_if $ws_donea
            (i32.eqz
              (i32.or
                (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 10)))
                (i32.or (i32.eq (local.get $c) (i32.const 13)) (i32.eq (local.get $c) (i32.const 9))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $wsa)))
      (local.set $neg (i32.eq (local.get $c) (i32.const 45)))
      (if (local.get $neg)
        (then
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (local.set $c (i32.load8_u (local.get $i)))))
      (if (i32.eqz (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))) (then (return (i32.const -1))))
      (local.set $v (i32.sub (local.get $c) (i32.const 48)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $c (i32.load8_u (local.get $i)))
      (if (i32.eqz (local.get $v))
        (then
          ;; a leading zero, or -0
          (if (i32.or (local.get $neg) (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))) (then (return (i32.const -1)))))
        (else
          (block $digits_done
            (loop $digits
              (br_if $digits_done
                (i32.or (i32.eqz (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))) (i32.ge_u (local.get $v) (i32.const 1000))))
              (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (local.set $c (i32.load8_u (local.get $i)))
              (br $digits)))))
      (if (local.get $neg) (then (local.set $v (i32.sub (i32.const 0) (local.get $v)))))
      ;; a fraction, an exponent, more digits, or beyond 8 bits
      (if (i32.or
            (i32.or (i32.eq (local.get $c) (i32.const 46)) (i32.eq (i32.or (local.get $c) (i32.const 32)) (i32.const 101)))
            (i32.or (i32.lt_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10)) (i32.gt_u (i32.add (local.get $v) (i32.const 128)) (i32.const 255))))
        (then (return (i32.const -1))))
      (i32.store8 (i32.add (local.get $out) (local.get $n)) (local.get $v))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (block $ws_doneb
        (loop $wsb
          (local.set $c (i32.load8_u (local.get $i)))
          ;; JSON whitespace: 32, 10, 13, 9 (all <= 32; nothing else below 33 is legal here)
          (br_if $ws_doneb
            (i32.eqz
              (i32.or
                (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 10)))
                (i32.or (i32.eq (local.get $c) (i32.const 13)) (i32.eq (local.get $c) (i32.const 9))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $wsb)))
      (if (i32.eq (local.get $c) (i32.const 93))
        (then
          (global.set $end (i32.add (local.get $i) (i32.const 1)))
          (return (local.get $n))))
      (if (i32.ne (local.get $c) (i32.const 44)) (then (return (i32.const -1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $value))
    (unreachable))
)
