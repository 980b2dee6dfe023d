;; nibble's GEMM kernel: one GEMM instruction (a whole convolution tile: kernel
;; window, stride, padding, input-channel blocks) in WebAssembly SIMD, for the
;; fast engine. Built by `npm run build` (sim/kernels/build-wasm.mjs, wabt's
;; wat2wasm); loaded by sim/kernels/gemm-kernel.ts, which lays out the memory
;; and is the only caller.
;;
;; Arithmetic: i32x4.dot_i16x8_s multiplies two (activation, weight) pairs per
;; i32 lane and adds them, so a pair of weight rows (2j, 2j+1) is packed as
;; interleaved i16 [w(2j,c), w(2j+1,c)] and the activation pair of those rows is
;; one i32 (a(2j) | a(2j+1) << 16) splatted over the four lanes. All sums are
;; exact i32 sums: the caller runs this kernel only when a bound proves that no
;; accumulator value can leave the accumulator range in any pass (the fast
;; engine's unchecked path), so the order of the additions does not matter.
;;
;; Lanes: n is a multiple of 16 (the caller pads smaller arrays); the output
;; lanes are done in chunks of 16 (four i32x4 accumulators), two output pixels
;; at a time (eight accumulators), so each weight vector loaded feeds two dots.
;;
;; Memory layout (byte offsets chosen by the caller):
;;   inp      u8 lanes, entry e at inp + e*n (the INP region of the GEMM)
;;   acc      i32 lanes, pixel k at acc + k*n*4
;;   wgt      i8 weights, pass p row r at wgt + (p*n + r)*n
;;   pstart   i32[passes+1]: nonzero row pairs of pass p are z in [pstart[p], pstart[p+1])
;;   pact     i32 per nonzero pair z: its pass p and pair j as p*2n + j*4 (gemm turns
;;            these into pdir for the GEMM's geometry)
;;   packed   4n bytes per nonzero pair z: n/4 v128 of interleaved i16 weights
;;   wide     the INP region widened to i16 lanes (2n bytes per entry) in a zero-bordered
;;            hp x wp image per input-channel block (the tile's padding as zero entries)
;;   pdir     i32 per nonzero pair z: byte offset of its activation pair from a pixel's
;;            window origin in `wide`
(module
  ;; shared, so a worker thread's instance can run GEMMs on the memory the main thread fills
  (import "env" "memory" (memory 1 16384 shared))

  ;; Pack the nonzero row pairs of every pass; returns how many there are.
  ;; A pair whose two weight rows are all zero (padded input channels) is left out.
  (func (export "pack")
    (param $wgt i32) (param $passes i32) (param $n i32)
    (param $pstart i32) (param $pact i32) (param $packed i32)
    (result i32)
    (local $p i32) (local $j i32) (local $c i32) (local $z i32)
    (local $row0 i32) (local $dst i32) (local $a v128) (local $b v128) (local $any v128)
    (local.set $z (i32.const 0))
    (local.set $p (i32.const 0))
    (block $passes_done
      (loop $pass
        (br_if $passes_done (i32.ge_u (local.get $p) (local.get $passes)))
        (i32.store
          (i32.add (local.get $pstart) (i32.shl (local.get $p) (i32.const 2)))
          (local.get $z))
        (local.set $j (i32.const 0))
        (block $pairs_done
          (loop $pair
            (br_if $pairs_done (i32.ge_u (i32.shl (local.get $j) (i32.const 1)) (local.get $n)))
            ;; rows 2j and 2j+1 of pass p
            (local.set $row0
              (i32.add (local.get $wgt)
                (i32.mul
                  (i32.add (i32.mul (local.get $p) (local.get $n)) (i32.shl (local.get $j) (i32.const 1)))
                  (local.get $n))))
            (local.set $dst (i32.add (local.get $packed) (i32.mul (local.get $z) (i32.shl (local.get $n) (i32.const 2)))))
            (local.set $any (v128.const i32x4 0 0 0 0))
            (local.set $c (i32.const 0))
            (block $cols_done
              (loop $cols
                (br_if $cols_done (i32.ge_u (local.get $c) (local.get $n)))
                (local.set $a (v128.load8x8_s (i32.add (local.get $row0) (local.get $c))))
                (local.set $b (v128.load8x8_s (i32.add (i32.add (local.get $row0) (local.get $n)) (local.get $c))))
                (local.set $any (v128.or (local.get $any) (v128.or (local.get $a) (local.get $b))))
                ;; columns c..c+3 and c+4..c+7 as (row 2j, row 2j+1) i16 pairs
                (v128.store (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
                  (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $a) (local.get $b)))
                (v128.store offset=16 (i32.add (local.get $dst) (i32.shl (local.get $c) (i32.const 2)))
                  (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $a) (local.get $b)))
                (local.set $c (i32.add (local.get $c) (i32.const 8)))
                (br $cols)))
            (if (v128.any_true (local.get $any))
              (then
                (i32.store
                  (i32.add (local.get $pact) (i32.shl (local.get $z) (i32.const 2)))
                  (i32.add
                    (i32.mul (local.get $p) (i32.shl (local.get $n) (i32.const 1)))
                    (i32.shl (local.get $j) (i32.const 2))))
                (local.set $z (i32.add (local.get $z) (i32.const 1)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $pair)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $pass)))
    (i32.store
      (i32.add (local.get $pstart) (i32.shl (local.get $passes) (i32.const 2)))
      (local.get $z))
    (local.get $z))

  ;; The GEMM's INP region widened once to i16 lanes (sign-extended from `bits`
  ;; when sext = 16 - bits, unchanged when sext = 0) into a zero-bordered image of
  ;; hp x wp entries per input-channel block: the tile's padding becomes real zero
  ;; entries, so every pixel's window is read the same way, without a test.
  (func $widen
    (param $src i32) (param $n i32) (param $in_h i32) (param $in_w i32) (param $ci_blocks i32)
    (param $pt i32) (param $pl i32) (param $hp i32) (param $wp i32) (param $sext i32) (param $dst i32)
    (local $cb i32) (local $y i32) (local $i i32) (local $row i32) (local $to i32) (local $lanes i32)
    (memory.fill (local.get $dst) (i32.const 0)
      (i32.mul (i32.mul (local.get $ci_blocks) (i32.mul (local.get $hp) (local.get $wp)))
        (i32.shl (local.get $n) (i32.const 1))))
    (local.set $lanes (i32.mul (local.get $in_w) (local.get $n)))
    (local.set $row (local.get $src))
    (local.set $cb (i32.const 0))
    (block $cb_done
      (loop $cb_loop
        (br_if $cb_done (i32.ge_u (local.get $cb) (local.get $ci_blocks)))
        (local.set $y (i32.const 0))
        (block $y_done
          (loop $y_loop
            (br_if $y_done (i32.ge_u (local.get $y) (local.get $in_h)))
            (local.set $to
              (i32.add (local.get $dst)
                (i32.mul
                  (i32.add
                    (i32.mul
                      (i32.add (i32.mul (local.get $cb) (local.get $hp)) (i32.add (local.get $y) (local.get $pt)))
                      (local.get $wp))
                    (local.get $pl))
                  (i32.shl (local.get $n) (i32.const 1)))))
            (local.set $i (i32.const 0))
            (block $i_done
              (loop $i_loop
                (br_if $i_done (i32.ge_u (local.get $i) (local.get $lanes)))
                (v128.store (i32.add (local.get $to) (i32.shl (local.get $i) (i32.const 1)))
                  (i16x8.shr_s
                    (i16x8.shl (v128.load8x8_u (i32.add (local.get $row) (local.get $i))) (local.get $sext))
                    (local.get $sext)))
                (local.set $i (i32.add (local.get $i) (i32.const 8)))
                (br $i_loop)))
            (local.set $row (i32.add (local.get $row) (local.get $lanes)))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $y_loop)))
        (local.set $cb (i32.add (local.get $cb) (i32.const 1)))
        (br $cb_loop))))

  ;; Activation offsets of every nonzero pair from a pixel's window origin in the
  ;; widened image: pair z of pass (cb, ky, kx) reads entry (cb*hp + ky)*wp + kx
  ;; from the origin (pact holds p*2n + j*4; the pass offset is replaced).
  (func $offsets
    (param $pstart i32) (param $pact i32) (param $pdir i32) (param $n i32)
    (param $hp i32) (param $wp i32) (param $ci_blocks i32) (param $kh i32) (param $kw i32)
    (local $p i32) (local $cb i32) (local $ky i32) (local $kx i32) (local $z i32) (local $ze i32)
    (local $delta i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 1)))
    (local.set $p (i32.const 0))
    (local.set $cb (i32.const 0))
    (block $cb_done
      (loop $cb_loop
        (br_if $cb_done (i32.ge_u (local.get $cb) (local.get $ci_blocks)))
        (local.set $ky (i32.const 0))
        (block $ky_done
          (loop $ky_loop
            (br_if $ky_done (i32.ge_u (local.get $ky) (local.get $kh)))
            (local.set $kx (i32.const 0))
            (block $kx_done
              (loop $kx_loop
                (br_if $kx_done (i32.ge_u (local.get $kx) (local.get $kw)))
                (local.set $delta
                  (i32.sub
                    (i32.mul
                      (i32.add
                        (i32.mul (i32.add (i32.mul (local.get $cb) (local.get $hp)) (local.get $ky)) (local.get $wp))
                        (local.get $kx))
                      (local.get $bytes))
                    (i32.mul (local.get $p) (local.get $bytes))))
                (local.set $z (i32.load (i32.add (local.get $pstart) (i32.shl (local.get $p) (i32.const 2)))))
                (local.set $ze (i32.load offset=4 (i32.add (local.get $pstart) (i32.shl (local.get $p) (i32.const 2)))))
                (block $z_done
                  (loop $z_loop
                    (br_if $z_done (i32.ge_u (local.get $z) (local.get $ze)))
                    (i32.store (i32.add (local.get $pdir) (i32.shl (local.get $z) (i32.const 2)))
                      (i32.add (i32.load (i32.add (local.get $pact) (i32.shl (local.get $z) (i32.const 2))))
                        (local.get $delta)))
                    (local.set $z (i32.add (local.get $z) (i32.const 1)))
                    (br $z_loop)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                (br $kx_loop)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $ky_loop)))
        (local.set $cb (i32.add (local.get $cb) (i32.const 1)))
        (br $cb_loop))))

  ;; Store one pixel's 16-lane chunk: ACC = sum << pshift, or ACC += sum << pshift.
  (func $emit
    (param $addr i32) (param $accumulate i32) (param $pshift i32)
    (param $s0 v128) (param $s1 v128) (param $s2 v128) (param $s3 v128)
    (local.set $s0 (i32x4.shl (local.get $s0) (local.get $pshift)))
    (local.set $s1 (i32x4.shl (local.get $s1) (local.get $pshift)))
    (local.set $s2 (i32x4.shl (local.get $s2) (local.get $pshift)))
    (local.set $s3 (i32x4.shl (local.get $s3) (local.get $pshift)))
    (if (local.get $accumulate)
      (then
        (local.set $s0 (i32x4.add (local.get $s0) (v128.load offset=0 (local.get $addr))))
        (local.set $s1 (i32x4.add (local.get $s1) (v128.load offset=16 (local.get $addr))))
        (local.set $s2 (i32x4.add (local.get $s2) (v128.load offset=32 (local.get $addr))))
        (local.set $s3 (i32x4.add (local.get $s3) (v128.load offset=48 (local.get $addr))))))
    (v128.store offset=0 (local.get $addr) (local.get $s0))
    (v128.store offset=16 (local.get $addr) (local.get $s1))
    (v128.store offset=32 (local.get $addr) (local.get $s2))
    (v128.store offset=48 (local.get $addr) (local.get $s3)))

  ;; Byte offset of output pixel k's window origin in the widened image.
  (func $origin (param $k i32) (param $n i32) (param $wp i32) (param $sh i32) (param $sw i32) (param $out_w i32)
    (result i32)
    (i32.mul
      (i32.add
        (i32.mul (i32.mul (i32.div_u (local.get $k) (local.get $out_w)) (local.get $sh)) (local.get $wp))
        (i32.mul (i32.rem_u (local.get $k) (local.get $out_w)) (local.get $sw)))
      (i32.shl (local.get $n) (i32.const 1))))

  ;; One GEMM instruction over all out_h x out_w pixels (pack must have run on its
  ;; weights). hp x wp is the zero-bordered image (the caller sizes it to cover
  ;; every window: hp >= (out_h - 1)*sh + kh, wp >= (out_w - 1)*sw + kw).
  (func (export "gemm")
    (param $inp i32) (param $in_h i32) (param $in_w i32) (param $ci_blocks i32)
    (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (param $out_h i32) (param $out_w i32) (param $n i32) (param $sext i32)
    (param $acc i32) (param $accumulate i32) (param $pshift i32)
    (param $pstart i32) (param $pact i32) (param $packed i32)
    (param $wide i32) (param $hp i32) (param $wp i32) (param $pdir i32)
    (local $passes i32) (local $npairs i32) (local $pixels i32) (local $k i32)
    (local $baseA i32) (local $baseB i32) (local $two i32) (local $chunk i32)
    (local $pa i32) (local $pe i32) (local $pw i32) (local $wstride i32) (local $addr i32)
    (local $sa v128) (local $sb v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $passes (i32.mul (local.get $ci_blocks) (i32.mul (local.get $kh) (local.get $kw))))
    (local.set $pixels (i32.mul (local.get $out_h) (local.get $out_w)))
    (local.set $npairs (i32.load (i32.add (local.get $pstart) (i32.shl (local.get $passes) (i32.const 2)))))
    (local.set $wstride (i32.shl (local.get $n) (i32.const 2)))
    (call $widen (local.get $inp) (local.get $n) (local.get $in_h) (local.get $in_w) (local.get $ci_blocks)
      (local.get $pt) (local.get $pl) (local.get $hp) (local.get $wp) (local.get $sext) (local.get $wide))
    (call $offsets (local.get $pstart) (local.get $pact) (local.get $pdir) (local.get $n)
      (local.get $hp) (local.get $wp) (local.get $ci_blocks) (local.get $kh) (local.get $kw))
    (local.set $k (i32.const 0))
    (block $pixels_done
      (loop $pixel
        (br_if $pixels_done (i32.ge_u (local.get $k) (local.get $pixels)))
        (local.set $two (i32.lt_u (i32.add (local.get $k) (i32.const 1)) (local.get $pixels)))
        (local.set $baseA
          (i32.add (local.get $wide)
            (call $origin (local.get $k) (local.get $n) (local.get $wp) (local.get $sh) (local.get $sw) (local.get $out_w))))
        ;; without a second pixel, B repeats A (its sums are not stored)
        (local.set $baseB
          (select
            (i32.add (local.get $wide)
              (call $origin (i32.add (local.get $k) (i32.const 1)) (local.get $n) (local.get $wp)
                (local.get $sh) (local.get $sw) (local.get $out_w)))
            (local.get $baseA)
            (local.get $two)))
        (local.set $chunk (i32.const 0))
        (block $chunks_done
          (loop $chunk_loop
            (br_if $chunks_done (i32.ge_u (local.get $chunk) (local.get $n)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $b0 (v128.const i32x4 0 0 0 0))
            (local.set $b1 (v128.const i32x4 0 0 0 0))
            (local.set $b2 (v128.const i32x4 0 0 0 0))
            (local.set $b3 (v128.const i32x4 0 0 0 0))
            ;; every nonzero weight pair of every pass, for both pixels
            (local.set $pw (i32.add (local.get $packed) (i32.shl (local.get $chunk) (i32.const 2))))
            (local.set $pa (local.get $pdir))
            (local.set $pe (i32.add (local.get $pdir) (i32.shl (local.get $npairs) (i32.const 2))))
            (block $pairs_done
              (loop $pair
                (br_if $pairs_done (i32.ge_u (local.get $pa) (local.get $pe)))
                (local.set $addr (i32.load (local.get $pa)))
                (local.set $sa (v128.load32_splat (i32.add (local.get $baseA) (local.get $addr))))
                (local.set $sb (v128.load32_splat (i32.add (local.get $baseB) (local.get $addr))))
                (local.set $w0 (v128.load offset=0 (local.get $pw)))
                (local.set $w1 (v128.load offset=16 (local.get $pw)))
                (local.set $w2 (v128.load offset=32 (local.get $pw)))
                (local.set $w3 (v128.load offset=48 (local.get $pw)))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.dot_i16x8_s (local.get $sa) (local.get $w0))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.dot_i16x8_s (local.get $sa) (local.get $w1))))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.dot_i16x8_s (local.get $sa) (local.get $w2))))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.dot_i16x8_s (local.get $sa) (local.get $w3))))
                (local.set $b0 (i32x4.add (local.get $b0) (i32x4.dot_i16x8_s (local.get $sb) (local.get $w0))))
                (local.set $b1 (i32x4.add (local.get $b1) (i32x4.dot_i16x8_s (local.get $sb) (local.get $w1))))
                (local.set $b2 (i32x4.add (local.get $b2) (i32x4.dot_i16x8_s (local.get $sb) (local.get $w2))))
                (local.set $b3 (i32x4.add (local.get $b3) (i32x4.dot_i16x8_s (local.get $sb) (local.get $w3))))
                (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
                (local.set $pw (i32.add (local.get $pw) (local.get $wstride)))
                (br $pair)))
            (call $emit
              (i32.add (local.get $acc)
                (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $chunk)) (i32.const 2)))
              (local.get $accumulate) (local.get $pshift)
              (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3))
            (if (local.get $two)
              (then
                (call $emit
                  (i32.add (local.get $acc)
                    (i32.shl
                      (i32.add (i32.mul (i32.add (local.get $k) (i32.const 1)) (local.get $n)) (local.get $chunk))
                      (i32.const 2)))
                  (local.get $accumulate) (local.get $pshift)
                  (local.get $b0) (local.get $b1) (local.get $b2) (local.get $b3))))
            (local.set $chunk (i32.add (local.get $chunk) (i32.const 16)))
            (br $chunk_loop)))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $pixel))))
)
