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

  ;; Byte offset of the window origin of the output pixel in row y, column x in the widened image
  ;; (the pixel loops step y and x along, so no pixel pays a division).
  (func $origin (param $y i32) (param $x i32) (param $n i32) (param $wp i32) (param $sh i32) (param $sw i32)
    (result i32)
    (i32.mul
      (i32.add
        (i32.mul (i32.mul (local.get $y) (local.get $sh)) (local.get $wp))
        (i32.mul (local.get $x) (local.get $sw)))
      (i32.shl (local.get $n) (i32.const 1))))

  ;; The pixel loop of a GEMM over the widened image (pack and offsets done): every output
  ;; pixel k of out_w per row reads its window from wide + origin(k), each nonzero pair z at
  ;; pdir[z] from the origin, weights at packed; ACC (+)= the sums << pshift.
  (func $core
    (param $wide i32) (param $wp i32) (param $sh i32) (param $sw i32) (param $out_w i32) (param $pixels i32)
    (param $n i32) (param $acc i32) (param $accumulate i32) (param $pshift i32)
    (param $npairs i32) (param $packed i32) (param $pdir i32)
    (local $k i32) (local $y i32) (local $x i32) (local $yb i32) (local $xb i32)
    (local $baseA i32) (local $baseB i32) (local $two i32) (local $chunk i32)
    (local $pa i32) (local $pe i32) (local $pw i32) (local $wstride i32) (local $addr i32)
    (local $sa v128) (local $sb v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $wstride (i32.shl (local.get $n) (i32.const 2)))
    (local.set $k (i32.const 0))
    (block $pixels_done
      (loop $pixel
        (br_if $pixels_done (i32.ge_u (local.get $k) (local.get $pixels)))
        (local.set $two (i32.lt_u (i32.add (local.get $k) (i32.const 1)) (local.get $pixels)))
        ;; pixel k is in row y, column x; pixel k + 1 in row yb, column xb
        (local.set $baseA
          (i32.add (local.get $wide)
            (call $origin (local.get $y) (local.get $x) (local.get $n) (local.get $wp) (local.get $sh) (local.get $sw))))
        (local.set $xb (i32.add (local.get $x) (i32.const 1)))
        (local.set $yb (local.get $y))
        (if (i32.ge_u (local.get $xb) (local.get $out_w))
          (then (local.set $xb (i32.const 0)) (local.set $yb (i32.add (local.get $y) (i32.const 1)))))
        ;; without a second pixel, B repeats A (its sums are not stored)
        (local.set $baseB
          (select
            (i32.add (local.get $wide)
              (call $origin (local.get $yb) (local.get $xb) (local.get $n) (local.get $wp) (local.get $sh) (local.get $sw)))
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
        (local.set $x (i32.add (local.get $xb) (i32.const 1)))
        (local.set $y (local.get $yb))
        (if (i32.ge_u (local.get $x) (local.get $out_w))
          (then (local.set $x (i32.const 0)) (local.set $y (i32.add (local.get $yb) (i32.const 1)))))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $pixel))))

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
    (local $passes i32)
    (local.set $passes (i32.mul (local.get $ci_blocks) (i32.mul (local.get $kh) (local.get $kw))))
    (call $widen (local.get $inp) (local.get $n) (local.get $in_h) (local.get $in_w) (local.get $ci_blocks)
      (local.get $pt) (local.get $pl) (local.get $hp) (local.get $wp) (local.get $sext) (local.get $wide))
    (call $offsets (local.get $pstart) (local.get $pact) (local.get $pdir) (local.get $n)
      (local.get $hp) (local.get $wp) (local.get $ci_blocks) (local.get $kh) (local.get $kw))
    (call $core (local.get $wide) (local.get $wp) (local.get $sh) (local.get $sw) (local.get $out_w)
      (i32.mul (local.get $out_h) (local.get $out_w)) (local.get $n) (local.get $acc) (local.get $accumulate)
      (local.get $pshift) (i32.load (i32.add (local.get $pstart) (i32.shl (local.get $passes) (i32.const 2))))
      (local.get $packed) (local.get $pdir)))

  ;; Tap-packed GEMMs (taps = 1): every array row reads the input of its own kernel tap. The
  ;; tile, widened and zero-bordered as for an ordinary GEMM (one channel block), is gathered
  ;; into one entry per (pass, pixel) in cols whose lane r is what row r reads in that pass,
  ;; times its product factor (16 for a high-nibble lane): then the GEMM is an ordinary 1 x 1
  ;; GEMM with one block per pass over out_h x out_w entries, and runs the same pixel loop.
  ;;   taps  per tap e (ntaps of them, in pass order): i32 pass, i32 byte offset of the tap's
  ;;         entry from a pixel's window origin in wide
  ;;   tmul  n i16 per tap e: lane r's factor when row r reads tap e in its pass, else 0
  (func (export "gemmTapped")
    (param $inp i32) (param $in_h i32) (param $in_w i32) (param $sh i32) (param $sw i32)
    (param $pt i32) (param $pl i32) (param $out_h i32) (param $out_w i32) (param $n i32) (param $sext i32)
    (param $acc i32) (param $accumulate i32) (param $pshift i32)
    (param $pstart i32) (param $pact i32) (param $packed i32)
    (param $wide i32) (param $hp i32) (param $wp i32) (param $pdir i32)
    (param $passes i32) (param $ntaps i32) (param $taps i32) (param $tmul i32) (param $cols i32)
    (local $pixels i32)
    (local.set $pixels (i32.mul (local.get $out_h) (local.get $out_w)))
    (call $widen (local.get $inp) (local.get $n) (local.get $in_h) (local.get $in_w) (i32.const 1)
      (local.get $pt) (local.get $pl) (local.get $hp) (local.get $wp) (local.get $sext) (local.get $wide))
    (call $gather (local.get $wide) (local.get $n) (local.get $wp) (local.get $sh) (local.get $sw)
      (local.get $out_w) (local.get $pixels) (local.get $passes) (local.get $ntaps) (local.get $taps)
      (local.get $tmul) (local.get $cols))
    (call $offsets (local.get $pstart) (local.get $pact) (local.get $pdir) (local.get $n)
      (local.get $out_h) (local.get $out_w) (local.get $passes) (i32.const 1) (i32.const 1))
    (call $core (local.get $cols) (local.get $out_w) (i32.const 1) (i32.const 1) (local.get $out_w)
      (local.get $pixels) (local.get $n) (local.get $acc) (local.get $accumulate) (local.get $pshift)
      (i32.load (i32.add (local.get $pstart) (i32.shl (local.get $passes) (i32.const 2))))
      (local.get $packed) (local.get $pdir)))

  ;; cols[(p*pixels + k)*n + r] = sum over the taps e of pass p of wide[origin(k) + off(e)][r] * tmul[e][r],
  ;; in 16-lane chunks (two v128 of i16); a pass's taps are consecutive in the table.
  (func $gather
    (param $wide i32) (param $n i32) (param $wp i32) (param $sh i32) (param $sw i32) (param $out_w i32)
    (param $pixels i32) (param $passes i32) (param $ntaps i32) (param $taps i32) (param $tmul i32) (param $cols i32)
    (local $bytes i32) (local $k i32) (local $y i32) (local $x i32) (local $org i32) (local $c i32) (local $e i32) (local $p i32)
    (local $src i32) (local $m i32) (local $dst i32) (local $v0 v128) (local $v1 v128)
    (local.set $bytes (i32.shl (local.get $n) (i32.const 1)))
    ;; a pass without taps (none is made so) reads zeros
    (memory.fill (local.get $cols) (i32.const 0)
      (i32.mul (i32.mul (local.get $passes) (local.get $pixels)) (local.get $bytes)))
    (local.set $k (i32.const 0))
    (block $pixels_done
      (loop $pixel
        (br_if $pixels_done (i32.ge_u (local.get $k) (local.get $pixels)))
        ;; pixel k is in row y, column x
        (local.set $org
          (i32.add (local.get $wide)
            (call $origin (local.get $y) (local.get $x) (local.get $n) (local.get $wp) (local.get $sh) (local.get $sw))))
        (local.set $c (i32.const 0))
        (block $chunks_done
          (loop $chunk
            (br_if $chunks_done (i32.ge_u (local.get $c) (local.get $bytes)))
            (local.set $e (i32.const 0))
            (block $taps_done
              (loop $pass
                (br_if $taps_done (i32.ge_u (local.get $e) (local.get $ntaps)))
                (local.set $p (i32.load (i32.add (local.get $taps) (i32.shl (local.get $e) (i32.const 3)))))
                (local.set $v0 (v128.const i32x4 0 0 0 0))
                (local.set $v1 (v128.const i32x4 0 0 0 0))
                (block $pass_done
                  (loop $tap
                    (br_if $pass_done (i32.ge_u (local.get $e) (local.get $ntaps)))
                    (br_if $pass_done
                      (i32.ne (local.get $p) (i32.load (i32.add (local.get $taps) (i32.shl (local.get $e) (i32.const 3))))))
                    (local.set $src
                      (i32.add (i32.add (local.get $org) (local.get $c))
                        (i32.load offset=4 (i32.add (local.get $taps) (i32.shl (local.get $e) (i32.const 3))))))
                    (local.set $m (i32.add (i32.add (local.get $tmul) (i32.mul (local.get $e) (local.get $bytes))) (local.get $c)))
                    (local.set $v0 (i16x8.add (local.get $v0) (i16x8.mul (v128.load (local.get $src)) (v128.load (local.get $m)))))
                    (local.set $v1
                      (i16x8.add (local.get $v1) (i16x8.mul (v128.load offset=16 (local.get $src)) (v128.load offset=16 (local.get $m)))))
                    (local.set $e (i32.add (local.get $e) (i32.const 1)))
                    (br $tap)))
                (local.set $dst
                  (i32.add (local.get $cols)
                    (i32.add
                      (i32.mul (i32.add (i32.mul (local.get $p) (local.get $pixels)) (local.get $k)) (local.get $bytes))
                      (local.get $c))))
                (v128.store (local.get $dst) (local.get $v0))
                (v128.store offset=16 (local.get $dst) (local.get $v1))
                (br $pass)))
            (local.set $c (i32.add (local.get $c) (i32.const 32)))
            (br $chunk)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (if (i32.ge_u (local.get $x) (local.get $out_w))
          (then (local.set $x (i32.const 0)) (local.set $y (i32.add (local.get $y) (i32.const 1)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $pixel))))

  ;; ---------------------------------------------------------------- the other units' data paths
  ;; Zero len bytes from dst (a memset: TypedArray fill on a shared memory is a slow generic path).
  (func (export "zero") (param $dst i32) (param $len i32)
    (memory.fill (local.get $dst) (i32.const 0) (local.get $len)))

  ;; With the scratchpads and the DRAM image resident in this memory (sim/kernels/resident.ts),
  ;; the fast engine runs LOAD and STORE of 4-bit lanes, REQUANT and POOL here too. Each is
  ;; bit-identical to its JavaScript loop (sim/ops/<op>.ts), the fallback and the oracle.

  ;; The largest |v| of len i32 values from src (len a multiple of 4), as an unsigned
  ;; i32 (|-2^31| = 2^31): the fast engine's no-overflow bound of an accumulating GEMM
  ;; starts from what its ACC region already holds.
  (func (export "absmax") (param $src i32) (param $len i32) (result i32)
    (local $m v128) (local $end i32)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $len) (i32.const 2))))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
        (local.set $m (i32x4.max_u (local.get $m) (i32x4.abs (v128.load (local.get $src)))))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $vec)))
    (local.set $m (i32x4.max_u (local.get $m) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m))))
    (local.set $m (i32x4.max_u (local.get $m) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $m) (local.get $m))))
    (i32x4.extract_lane 0 (local.get $m)))

  ;; LOAD of 4-bit lanes: rows x rowBytes packed bytes (stride bytes apart from src) into
  ;; contiguous lanes at dst, two per byte, low nibble first; signed: sign-extended into i8.
  (func (export "unpack4")
    (param $src i32) (param $stride i32) (param $rowBytes i32) (param $rows i32) (param $dst i32) (param $signed i32)
    (local $y i32) (local $i i32) (local $v v128) (local $b i32) (local $lo i32) (local $hi i32)
    (local.set $y (i32.const 0))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $i (i32.const 0))
        (block $vec_done
          (loop $vec
            (br_if $vec_done (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $rowBytes)))
            (local.set $v (v128.load8x8_u (i32.add (local.get $src) (local.get $i))))
            (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1)))
              (if (result v128) (local.get $signed)
                (then
                  ;; low nibble: (b << 12) >> 12; high nibble: (b << 8) >> 12 (arithmetic), as bytes
                  (v128.or
                    (v128.and (i16x8.shr_s (i16x8.shl (local.get $v) (i32.const 12)) (i32.const 12))
                      (v128.const i16x8 255 255 255 255 255 255 255 255))
                    (i16x8.shl (i16x8.shr_s (i16x8.shl (local.get $v) (i32.const 8)) (i32.const 12)) (i32.const 8))))
                (else
                  (v128.or
                    (v128.and (local.get $v) (v128.const i16x8 15 15 15 15 15 15 15 15))
                    (i16x8.shl (i16x8.shr_u (local.get $v) (i32.const 4)) (i32.const 8))))))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $vec)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $i) (local.get $rowBytes)))
            (local.set $b (i32.load8_u (i32.add (local.get $src) (local.get $i))))
            (local.set $lo (i32.and (local.get $b) (i32.const 15)))
            (local.set $hi (i32.shr_u (local.get $b) (i32.const 4)))
            (if (local.get $signed)
              (then
                (local.set $lo (i32.shr_s (i32.shl (local.get $lo) (i32.const 28)) (i32.const 28)))
                (local.set $hi (i32.shr_s (i32.shl (local.get $hi) (i32.const 28)) (i32.const 28)))))
            (i32.store8 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1))) (local.get $lo))
            (i32.store8 offset=1 (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 1))) (local.get $hi))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail)))
        (local.set $src (i32.add (local.get $src) (local.get $stride)))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $rowBytes) (i32.const 1))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $row))))

;; LOAD with replicate = g (INP): lane l of each of `entries` entries of n lanes from dst
  ;; becomes lane idx[l] of the same entry (idx: n bytes, each < 16, from the caller).
  (func (export "replicate") (param $dst i32) (param $entries i32) (param $n i32) (param $idx i32)
    (local $end i32) (local $c i32) (local $v v128)
    (local.set $end (i32.add (local.get $dst) (i32.mul (local.get $entries) (local.get $n))))
    (block $done
      (loop $entry
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $v (v128.load (local.get $dst)))
        (local.set $c (i32.const 0))
        (block $chunks_done
          (loop $chunk
            (br_if $chunks_done (i32.ge_u (local.get $c) (local.get $n)))
            (v128.store (i32.add (local.get $dst) (local.get $c))
              (i8x16.swizzle (local.get $v) (v128.load (i32.add (local.get $idx) (local.get $c)))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $chunk)))
        (local.set $dst (i32.add (local.get $dst) (local.get $n)))
        (br $entry))))

    ;; STORE of 4-bit lanes: rows x 2*rowBytes contiguous lanes from src packed two per byte
  ;; (low nibble first, values masked to 4 bits) into rows stride bytes apart from dst.
  (func (export "pack4")
    (param $src i32) (param $rowBytes i32) (param $rows i32) (param $dst i32) (param $stride i32)
    (local $y i32) (local $i i32) (local $v v128) (local $b i32)
    (local.set $y (i32.const 0))
    (block $rows_done
      (loop $row
        (br_if $rows_done (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $i (i32.const 0))
        (block $vec_done
          (loop $vec
            (br_if $vec_done (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $rowBytes)))
            ;; i16 lane = l0 | l1 << 8  ->  (l0 & 15) | (l1 & 15) << 4
            (local.set $v (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1)))))
            (v128.store64_lane 0 (i32.add (local.get $dst) (local.get $i))
              (i8x16.narrow_i16x8_u
                (v128.or
                  (v128.and (local.get $v) (v128.const i16x8 15 15 15 15 15 15 15 15))
                  (v128.and (i16x8.shr_u (local.get $v) (i32.const 4))
                    (v128.const i16x8 240 240 240 240 240 240 240 240)))
                (v128.const i32x4 0 0 0 0)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (br $vec)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $i) (local.get $rowBytes)))
            (local.set $b (i32.load16_u (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 1)))))
            (i32.store8 (i32.add (local.get $dst) (local.get $i))
              (i32.or (i32.and (local.get $b) (i32.const 15)) (i32.and (i32.shr_u (local.get $b) (i32.const 4)) (i32.const 240))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $tail)))
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $rowBytes) (i32.const 1))))
        (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $row))))

  ;; Four i32 lanes m (a window's maxima) requantized as the JavaScript does it, in doubles:
  ;; clamp(floor((m - bias) * 2^-shift), lo, hi), every step exact (|m - bias| < 2^33, the
  ;; scale a power of two); $bs points at the lanes' (bias, scale) doubles.
  (func $requant4 (param $m v128) (param $bs i32) (param $lo v128) (param $hi v128) (result v128)
    (local $q0 v128) (local $q1 v128)
    (local.set $q0
      (f64x2.min (local.get $hi) (f64x2.max (local.get $lo)
        (f64x2.floor (f64x2.mul
          (f64x2.sub (f64x2.convert_low_i32x4_s (local.get $m)) (v128.load offset=0 (local.get $bs)))
          (v128.load offset=16 (local.get $bs)))))))
    (local.set $q1
      (f64x2.min (local.get $hi) (f64x2.max (local.get $lo)
        (f64x2.floor (f64x2.mul
          (f64x2.sub
            (f64x2.convert_low_i32x4_s
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $m) (local.get $m)))
            (v128.load offset=32 (local.get $bs)))
          (v128.load offset=48 (local.get $bs)))))))
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (i32x4.trunc_sat_f64x2_s_zero (local.get $q0)) (i32x4.trunc_sat_f64x2_s_zero (local.get $q1))))

  ;; Max of a k x k window of i32 lanes (entries rowStep bytes apart in a row, in_w entries per row).
  (func $windowMax (param $first i32) (param $k i32) (param $entry i32) (param $row i32) (result v128)
    (local $m v128) (local $ky i32) (local $kx i32) (local $at i32)
    (local.set $m (v128.load (local.get $first)))
    (local.set $ky (i32.const 0))
    (block $ky_done
      (loop $ky_loop
        (br_if $ky_done (i32.ge_u (local.get $ky) (local.get $k)))
        (local.set $at (i32.add (local.get $first) (i32.mul (local.get $ky) (local.get $row))))
        (local.set $kx (i32.const 0))
        (block $kx_done
          (loop $kx_loop
            (br_if $kx_done (i32.ge_u (local.get $kx) (local.get $k)))
            (local.set $m (i32x4.max_s (local.get $m) (v128.load (local.get $at))))
            (local.set $at (i32.add (local.get $at) (local.get $entry)))
            (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
            (br $kx_loop)))
        (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
        (br $ky_loop)))
    (local.get $m))

  ;; REQUANT (n a multiple of 16): out_h x out_w windows of k x k ACC entries, s apart, from acc
  ;; (in_w entries per row) into consecutive OUT entries from out, each lane
  ;; clamp(floor((max - bias) / 2^shift), lo, hi) & mask. bias (i32) and shift (i8) are the
  ;; PARAM entry's lanes; work holds 32n bytes of (bias, scale) doubles.
  (func (export "requant")
    (param $acc i32) (param $out i32) (param $bias i32) (param $shift i32) (param $n i32)
    (param $in_w i32) (param $out_h i32) (param $out_w i32) (param $k i32) (param $s i32)
    (param $lo i32) (param $hi i32) (param $mask i32) (param $work i32)
    (local $c i32) (local $oy i32) (local $ox i32) (local $first i32) (local $entry i32) (local $row i32)
    (local $vlo v128) (local $vhi v128) (local $vmask v128) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $bs i32)
    ;; lanes c, c+1 of each group of four: bias at work + 8c (+0, +8), scale 2^-shift at +16 (+24)
    (local.set $c (i32.const 0))
    (block $lanes_done
      (loop $lane
        (br_if $lanes_done (i32.ge_u (local.get $c) (local.get $n)))
        (local.set $bs
          (i32.add (local.get $work)
            (i32.add (i32.shl (i32.shr_u (local.get $c) (i32.const 1)) (i32.const 5)) (i32.shl (i32.and (local.get $c) (i32.const 1)) (i32.const 3)))))
        (f64.store (local.get $bs) (f64.convert_i32_s (i32.load (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2))))))
        (f64.store offset=16 (local.get $bs)
          (f64.reinterpret_i64
            (i64.shl
              (i64.extend_i32_s (i32.sub (i32.const 1023) (i32.load8_s (i32.add (local.get $shift) (local.get $c)))))
              (i64.const 52))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $lane)))
    (local.set $vlo (f64x2.splat (f64.convert_i32_s (local.get $lo))))
    (local.set $vhi (f64x2.splat (f64.convert_i32_s (local.get $hi))))
    (local.set $vmask (i16x8.splat (local.get $mask)))
    (local.set $entry (i32.shl (local.get $n) (i32.const 2)))
    (local.set $row (i32.mul (local.get $in_w) (local.get $entry)))
    (local.set $oy (i32.const 0))
    (block $oy_done
      (loop $oy_loop
        (br_if $oy_done (i32.ge_u (local.get $oy) (local.get $out_h)))
        (local.set $ox (i32.const 0))
        (block $ox_done
          (loop $ox_loop
            (br_if $ox_done (i32.ge_u (local.get $ox) (local.get $out_w)))
            (local.set $first
              (i32.add (local.get $acc)
                (i32.mul
                  (i32.add (i32.mul (i32.mul (local.get $oy) (local.get $s)) (local.get $in_w)) (i32.mul (local.get $ox) (local.get $s)))
                  (local.get $entry))))
            (local.set $c (i32.const 0))
            (block $chunks_done
              (loop $chunk
                (br_if $chunks_done (i32.ge_u (local.get $c) (local.get $n)))
                (local.set $bs (i32.add (local.get $work) (i32.shl (local.get $c) (i32.const 4))))
                (local.set $r0 (call $requant4
                  (call $windowMax (i32.add (local.get $first) (i32.shl (local.get $c) (i32.const 2))) (local.get $k) (local.get $entry) (local.get $row))
                  (local.get $bs) (local.get $vlo) (local.get $vhi)))
                (local.set $r1 (call $requant4
                  (call $windowMax (i32.add (local.get $first) (i32.shl (i32.add (local.get $c) (i32.const 4)) (i32.const 2))) (local.get $k) (local.get $entry) (local.get $row))
                  (i32.add (local.get $bs) (i32.const 64)) (local.get $vlo) (local.get $vhi)))
                (local.set $r2 (call $requant4
                  (call $windowMax (i32.add (local.get $first) (i32.shl (i32.add (local.get $c) (i32.const 8)) (i32.const 2))) (local.get $k) (local.get $entry) (local.get $row))
                  (i32.add (local.get $bs) (i32.const 128)) (local.get $vlo) (local.get $vhi)))
                (local.set $r3 (call $requant4
                  (call $windowMax (i32.add (local.get $first) (i32.shl (i32.add (local.get $c) (i32.const 12)) (i32.const 2))) (local.get $k) (local.get $entry) (local.get $row))
                  (i32.add (local.get $bs) (i32.const 192)) (local.get $vlo) (local.get $vhi)))
                ;; values lie in [lo, hi] (within [-128, 255]): to i16, masked, to bytes
                (v128.store (i32.add (local.get $out) (local.get $c))
                  (i8x16.narrow_i16x8_u
                    (v128.and (i16x8.narrow_i32x4_s (local.get $r0) (local.get $r1)) (local.get $vmask))
                    (v128.and (i16x8.narrow_i32x4_s (local.get $r2) (local.get $r3)) (local.get $vmask))))
                (local.set $c (i32.add (local.get $c) (i32.const 16)))
                (br $chunk)))
            (local.set $out (i32.add (local.get $out) (local.get $n)))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (br $ox_loop)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $oy_loop))))

  ;; POOL (n a multiple of 16): max of k x k windows, s apart, of OUT entries from src (in_w
  ;; per row) into consecutive entries from dst; lanes are activation codes, sign-extended
  ;; from their bits when sext = 8 - bits > 0 is given with signed = 1; results & mask.
  (func (export "pool")
    (param $src i32) (param $dst i32) (param $n i32) (param $in_w i32) (param $out_h i32) (param $out_w i32)
    (param $k i32) (param $s i32) (param $signed i32) (param $sext i32) (param $mask i32)
    (local $oy i32) (local $ox i32) (local $c i32) (local $ky i32) (local $kx i32) (local $first i32) (local $at i32)
    (local $m v128) (local $v v128) (local $vmask v128)
    (local.set $vmask (i8x16.splat (local.get $mask)))
    (local.set $oy (i32.const 0))
    (block $oy_done
      (loop $oy_loop
        (br_if $oy_done (i32.ge_u (local.get $oy) (local.get $out_h)))
        (local.set $ox (i32.const 0))
        (block $ox_done
          (loop $ox_loop
            (br_if $ox_done (i32.ge_u (local.get $ox) (local.get $out_w)))
            (local.set $first
              (i32.add (local.get $src)
                (i32.mul
                  (i32.add (i32.mul (i32.mul (local.get $oy) (local.get $s)) (local.get $in_w)) (i32.mul (local.get $ox) (local.get $s)))
                  (local.get $n))))
            (local.set $c (i32.const 0))
            (block $chunks_done
              (loop $chunk
                (br_if $chunks_done (i32.ge_u (local.get $c) (local.get $n)))
                (local.set $m (select (v128.const i8x16 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128 -128)
                  (v128.const i32x4 0 0 0 0) (local.get $signed)))
                (local.set $ky (i32.const 0))
                (block $ky_done
                  (loop $ky_loop
                    (br_if $ky_done (i32.ge_u (local.get $ky) (local.get $k)))
                    (local.set $at
                      (i32.add (i32.add (local.get $first) (local.get $c))
                        (i32.mul (i32.mul (local.get $ky) (local.get $in_w)) (local.get $n))))
                    (local.set $kx (i32.const 0))
                    (block $kx_done
                      (loop $kx_loop
                        (br_if $kx_done (i32.ge_u (local.get $kx) (local.get $k)))
                        (local.set $v (v128.load (local.get $at)))
                        (local.set $m
                          (if (result v128) (local.get $signed)
                            (then (i8x16.max_s (local.get $m)
                              (i8x16.shr_s (i8x16.shl (local.get $v) (local.get $sext)) (local.get $sext))))
                            (else (i8x16.max_u (local.get $m) (local.get $v)))))
                        (local.set $at (i32.add (local.get $at) (local.get $n)))
                        (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
                        (br $kx_loop)))
                    (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
                    (br $ky_loop)))
                (v128.store (i32.add (local.get $dst) (local.get $c)) (v128.and (local.get $m) (local.get $vmask)))
                (local.set $c (i32.add (local.get $c) (i32.const 16)))
                (br $chunk)))
            (local.set $dst (i32.add (local.get $dst) (local.get $n)))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (br $ox_loop)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $oy_loop))))
)
