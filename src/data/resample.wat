;; PIL-exact bilinear resampling and input normalisation with WebAssembly SIMD (see resample.ts).
;; Compiled to resample.wasm by `npm run build:wasm` (scripts/build-wasm.ts, wabt); both files are committed.
;;
;; Fixed-point arithmetic as Pillow's Resample.c for 8-bit images: 22-bit weights, accumulators start at
;; 1 << 21, result = clamp(sum >> 22, 0, 255). Sums stay below 2^31 (255 · 2^22 + 2^21), so i32 lanes are exact.
;; Buffers need 16 bytes of slack after their end: loads and stores run over by up to one vector.
(module
  (memory (export "memory") 1)

  ;; Horizontal pass: `rows` source rows starting at row `rowFrom` of the RGB image at `src` (`srcStride` bytes
  ;; per row) → `outW` pixels per row at `out` (8-bit, RGB). Output pixel x reads `count[x]` pixels from column
  ;; `first[x]` with weights `weights[x·ksize …]` (i32 arrays).
  (func (export "horizontal")
    (param $src i32) (param $srcStride i32) (param $rowFrom i32) (param $rows i32)
    (param $first i32) (param $count i32) (param $weights i32) (param $ksize i32)
    (param $outW i32) (param $out i32)
    (local $y i32) (local $x i32) (local $row i32) (local $p i32) (local $pend i32) (local $kp i32)
    (local $acc v128) (local $v v128)
    (local.set $row (i32.add (local.get $src) (i32.mul (local.get $rowFrom) (local.get $srcStride))))
    (block $ydone
      (loop $yloop
        (br_if $ydone (i32.ge_u (local.get $y) (local.get $rows)))
        (local.set $x (i32.const 0))
        (block $xdone
          (loop $xloop
            (br_if $xdone (i32.ge_u (local.get $x) (local.get $outW)))
            (local.set $p (i32.add (local.get $row)
              (i32.mul (i32.load (i32.add (local.get $first) (i32.shl (local.get $x) (i32.const 2)))) (i32.const 3))))
            (local.set $pend (i32.add (local.get $p)
              (i32.mul (i32.load (i32.add (local.get $count) (i32.shl (local.get $x) (i32.const 2)))) (i32.const 3))))
            (local.set $kp (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $x) (local.get $ksize)) (i32.const 2))))
            (local.set $acc (i32x4.splat (i32.const 2097152)))
            ;; Two taps per step: 8 bytes [R0 G0 B0 R1 G1 B1 ..] rearranged to [R0 G0 B0 0 R1 G1 B1 0] (the
            ;; fourth lane of each half is never stored), widened, times the two weights.
            (block $t2done
              (loop $t2loop
                (br_if $t2done (i32.ge_s (i32.add (local.get $p) (i32.const 3)) (local.get $pend)))
                (local.set $v (i16x8.extend_low_i8x16_u
                  (i8x16.shuffle 0 1 2 3 3 4 5 6 0 0 0 0 0 0 0 0 (v128.load64_zero (local.get $p)) (v128.const i32x4 0 0 0 0))))
                (local.set $acc (i32x4.add (local.get $acc)
                  (i32x4.add
                    (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $v)) (i32x4.splat (i32.load (local.get $kp))))
                    (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $v)) (i32x4.splat (i32.load offset=4 (local.get $kp)))))))
                (local.set $p (i32.add (local.get $p) (i32.const 6)))
                (local.set $kp (i32.add (local.get $kp) (i32.const 8)))
                (br $t2loop)))
            ;; An odd last tap: [R, G, B, next R] · weight.
            (if (i32.lt_u (local.get $p) (local.get $pend))
              (then
                (local.set $acc (i32x4.add (local.get $acc)
                  (i32x4.mul
                    (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
                    (i32x4.splat (i32.load (local.get $kp))))))))
            (local.set $v (i32x4.shr_s (local.get $acc) (i32.const 22)))
            (local.set $v (i16x8.narrow_i32x4_s (local.get $v) (local.get $v)))
            (local.set $v (i8x16.narrow_i16x8_u (local.get $v) (local.get $v)))
            ;; Four bytes out; the fourth is overwritten by the next pixel (or lands in the slack).
            (i32.store (local.get $out) (i32x4.extract_lane 0 (local.get $v)))
            (local.set $out (i32.add (local.get $out) (i32.const 3)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $xloop)))
        (local.set $row (i32.add (local.get $row) (local.get $srcStride)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yloop))))

  ;; Vertical pass: rows of `stride` bytes at `mid` (row 0 = source row `rowFrom`) → `outH` rows at `out`.
  ;; Output row y reads `count[y]` rows from row `first[y]` with weights `weights[y·ksize …]`. 16 bytes at a
  ;; time; a row's last vector may run into the next row, which is written afterwards, or into the slack.
  (func (export "vertical")
    (param $mid i32) (param $stride i32) (param $rowFrom i32) (param $outH i32)
    (param $first i32) (param $count i32) (param $weights i32) (param $ksize i32) (param $out i32)
    (local $y i32) (local $i i32) (local $r0 i32) (local $p i32) (local $n i32) (local $t i32)
    (local $kbase i32) (local $kp i32) (local $o i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $v v128) (local $k v128) (local $lo v128) (local $hi v128)
    (block $ydone
      (loop $yloop
        (br_if $ydone (i32.ge_u (local.get $y) (local.get $outH)))
        (local.set $r0 (i32.add (local.get $mid) (i32.mul
          (i32.sub (i32.load (i32.add (local.get $first) (i32.shl (local.get $y) (i32.const 2)))) (local.get $rowFrom))
          (local.get $stride))))
        (local.set $n (i32.load (i32.add (local.get $count) (i32.shl (local.get $y) (i32.const 2)))))
        (local.set $kbase (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $y) (local.get $ksize)) (i32.const 2))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $y) (local.get $stride))))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $stride)))
            (local.set $a0 (i32x4.splat (i32.const 2097152)))
            (local.set $a1 (local.get $a0))
            (local.set $a2 (local.get $a0))
            (local.set $a3 (local.get $a0))
            (local.set $p (i32.add (local.get $r0) (local.get $i)))
            (local.set $kp (local.get $kbase))
            (local.set $t (i32.const 0))
            (block $tdone
              (loop $tloop
                (br_if $tdone (i32.ge_u (local.get $t) (local.get $n)))
                (local.set $v (v128.load (local.get $p)))
                (local.set $k (i32x4.splat (i32.load (local.get $kp))))
                (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
                (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
                (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $k))))
                (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $k))))
                (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $k))))
                (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $k))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $kp (i32.add (local.get $kp) (i32.const 4)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $tloop)))
            (v128.store (i32.add (local.get $o) (local.get $i))
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (i32x4.shr_s (local.get $a1) (i32.const 22)))
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (i32x4.shr_s (local.get $a3) (i32.const 22)))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $iloop)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yloop))))

;; Normalise `pixels` RGB pixels at `rgb` into f32 at `out`: out[3i + c] = f32(byte) · a_c + b_c, where the
  ;; constants at `consts` are [a0 a1 a2 a0, a1 a2 a0 a1, a2 a0 a1 a2, b…same pattern] (4 pixels = 12 values
  ;; = 3 vectors). `bgr` ≠ 0 swaps R and B first. Four pixels per step; the last 0–3 one at a time.
  (func (export "normalize")
    (param $rgb i32) (param $pixels i32) (param $bgr i32) (param $consts i32) (param $out i32)
    (local $i i32) (local $end4 i32) (local $v v128) (local $lo v128) (local $hi v128) (local $c i32) (local $k i32) (local $b i32)
    (local.set $end4 (i32.and (local.get $pixels) (i32.const -4)))
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
        ;; 16 bytes: 4 pixels and 4 bytes of the next (ignored; the buffer has slack)
        (local.set $v (v128.load (local.get $rgb)))
        (if (local.get $bgr)
          (then (local.set $v (i8x16.shuffle 2 1 0 5 4 3 8 7 6 11 10 9 12 13 14 15 (local.get $v) (local.get $v)))))
        (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
        (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
        (v128.store (local.get $out) (f32x4.add
          (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $lo))) (v128.load (local.get $consts)))
          (v128.load offset=48 (local.get $consts))))
        (v128.store offset=16 (local.get $out) (f32x4.add
          (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $lo))) (v128.load offset=16 (local.get $consts)))
          (v128.load offset=64 (local.get $consts))))
        (v128.store offset=32 (local.get $out) (f32x4.add
          (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $hi))) (v128.load offset=32 (local.get $consts)))
          (v128.load offset=80 (local.get $consts))))
        (local.set $rgb (i32.add (local.get $rgb) (i32.const 12)))
        (local.set $out (i32.add (local.get $out) (i32.const 48)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop4)))
    ;; the remaining pixels: channel c reads source byte c (or 2 − c for BGR)
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $pixels)))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $c) (i32.const 3)))
            (local.set $b (select (i32.sub (i32.const 2) (local.get $c)) (local.get $c) (local.get $bgr)))
            (local.set $k (i32.add (local.get $consts) (i32.shl (local.get $c) (i32.const 2))))
            (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
              (f32.add
                (f32.mul (f32.convert_i32_u (i32.load8_u (i32.add (local.get $rgb) (local.get $b)))) (f32.load (local.get $k)))
                (f32.load offset=48 (local.get $k))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $cloop)))
        (local.set $rgb (i32.add (local.get $rgb) (i32.const 3)))
        (local.set $out (i32.add (local.get $out) (i32.const 12)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loop))))
)
