;; Our f32 GEMM, C[m, n] (+)= A[m, k] · B[k, n] (+ bias, ReLU), on the tfjs wasm backend's memory (gemm.ts).
;; Compiled by `npm run build:wasm` into four committed binaries: plain SIMD128 (multiply, then add) and
;; relaxed SIMD (`f32x4.relaxed_madd`, a fused multiply-add where the CPU has one), each for the single-threaded
;; build's memory and the threaded build's shared memory (scripts/wat.ts derives the variants from this text).
;;
;; A is reached through an indirection buffer: row i of A is `taps` segments of `ch` floats, segment t starting
;; at the address ind[i·taps + t]. A plain matrix has one segment per row; a convolution has one per filter tap
;; (or filter row), pointing at the input pixels it meets (or at a zero row for padding), so im2col never
;; materialises (k = taps·ch, in the filter's [kh, kw, Cin] order). Each block of A (mc rows × kc) is packed
;; into the thread's buffer in groups of 4 rows, k-major, just before use.
;; B is packed once per call into panels of 8 columns (panel p: k rows of 8 floats, zero past column n), or, for
;; products with few rows (where a panel would be used only a few times), read in place.
;;
;; Micro-kernel: a 4×8 tile of C in 8 v128 accumulators (then stored to a scratch tile, and from there to C); per step of k, 4 broadcast loads of A, 2 vector loads
;; of B, 8 multiply-adds, 2 pointer increments. V8 keeps 15 xmm registers for wasm and loads all operands of a
;; step before the arithmetic, so 8 accumulators + 2 B vectors + 4 broadcasts (+1 product for mul+add) is what
;; fits without spilling (3×12 spills in the plain variant, 6×8 in both). Packed A (one pointer instead of four
;; row pointers to advance) measured 18–25 % faster than A read in place.
;;
;; Blocking (gemm.ts sizes it from the caches): k in blocks of `kc` (a block's B micro-panel, kc·32 bytes,
;; stays in L1 while every row tile of the chunk streams past it), C in chunks of mc rows × nc columns (the
;; chunk's packed A block, mc·kc floats, stays in L2 across the chunk's column panels).
;;
;; Threads (threaded build): every thread calls gemmJob on the same job record. B panels are packed first,
;; shared out by an atomic counter; a barrier waits for the last; then the chunks are shared out the same way.
;; Every element of C is summed in the same order whatever the thread count, so results do not depend on it.
(module
  (import "env" "memory" (memory 1))

  ;; Job record (byte offsets), written by gemm.ts:
  ;;   0 ind  4 taps  8 ch  12 m  16 n  20 b  24 ldb (bytes)  28 packed B  32 c  36 ldc (bytes)  40 bias (0: none)
  ;;   44 flags (1 accumulate into C, 2 add bias, 4 ReLU, 8 read B in place instead of packing it)  48 kc  52 mc  56 nc
  ;;   60 next panel to pack  64 panels packed  68 next chunk (counters, zero at the start)
  ;;   72 A buffers (one per thread: mc·kc floats, then a 128-byte tile)  76 bytes per A buffer  80 offset of the tile
  ;;   84 job kind: 0 for a GEMM (the element-wise and row-sum jobs below use the same record and workers)

  ;; ind[i] = a + i·rowBytes: the indirection buffer of a plain row-major matrix.
  (func (export "rowIndirection") (param $a i32) (param $rowBytes i32) (param $m i32) (param $ind i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $ind) (i32.shl (local.get $m) (i32.const 2))))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $ind) (local.get $end)))
        (i32.store (local.get $ind) (local.get $a))
        (local.set $ind (i32.add (local.get $ind) (i32.const 4)))
        (local.set $a (i32.add (local.get $a) (local.get $rowBytes)))
        (br $loop))))

  ;; The indirection buffer of an NHWC convolution: row (b, i, j), segment (ti, tj) → the address of
  ;; x[b, offH + i·sH + ti, offW + j·sW + tj, 0], or `zero` (at least c zero floats) outside x.
  (func (export "convIndirection")
    (param $x i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $kh i32) (param $kw i32) (param $offH i32) (param $offW i32) (param $sH i32) (param $sW i32)
    (param $outH i32) (param $outW i32) (param $zero i32) (param $ind i32)
    (local $b i32) (local $i i32) (local $j i32) (local $ti i32) (local $tj i32)
    (local $r i32) (local $col i32) (local $pix i32) (local $rowOk i32) (local $rowBase i32)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (block $bdone (loop $bloop
      (br_if $bdone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $idone (loop $iloop
        (br_if $idone (i32.ge_s (local.get $i) (local.get $outH)))
        (local.set $j (i32.const 0))
        (block $jdone (loop $jloop
          (br_if $jdone (i32.ge_s (local.get $j) (local.get $outW)))
          (local.set $ti (i32.const 0))
          (block $tidone (loop $tiloop
            (br_if $tidone (i32.ge_s (local.get $ti) (local.get $kh)))
            (local.set $r (i32.add (i32.add (local.get $offH) (i32.mul (local.get $i) (local.get $sH))) (local.get $ti)))
            (local.set $rowOk (i32.and (i32.ge_s (local.get $r) (i32.const 0)) (i32.lt_s (local.get $r) (local.get $h))))
            (local.set $rowBase (i32.add (local.get $x)
              (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $r)) (local.get $w)) (local.get $pix))))
            (local.set $tj (i32.const 0))
            (block $tjdone (loop $tjloop
              (br_if $tjdone (i32.ge_s (local.get $tj) (local.get $kw)))
              (local.set $col (i32.add (i32.add (local.get $offW) (i32.mul (local.get $j) (local.get $sW))) (local.get $tj)))
              (i32.store (local.get $ind)
                (select
                  (i32.add (local.get $rowBase) (i32.mul (local.get $col) (local.get $pix)))
                  (local.get $zero)
                  (i32.and (local.get $rowOk)
                    (i32.and (i32.ge_s (local.get $col) (i32.const 0)) (i32.lt_s (local.get $col) (local.get $w))))))
              (local.set $ind (i32.add (local.get $ind) (i32.const 4)))
              (local.set $tj (i32.add (local.get $tj) (i32.const 1)))
              (br $tjloop)))
            (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
            (br $tiloop)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $jloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bloop))))

  ;; Pack panels [p0, p1) of B (k rows of n floats, ldb bytes apart) to dst: panel p at dst + p·k·32, row r of
  ;; the panel = B[r, 8p .. 8p+7], zero past column n.
  (func $packB (param $b i32) (param $ldb i32) (param $k i32) (param $n i32) (param $dst i32) (param $p0 i32) (param $p1 i32)
    (local $src i32) (local $out i32) (local $end i32) (local $nv i32) (local $j i32)
    (block $pdone (loop $ploop
      (br_if $pdone (i32.ge_u (local.get $p0) (local.get $p1)))
      (local.set $src (i32.add (local.get $b) (i32.shl (local.get $p0) (i32.const 5))))
      (local.set $out (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $p0) (local.get $k)) (i32.const 5))))
      (local.set $end (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 5))))
      (local.set $nv (i32.sub (local.get $n) (i32.shl (local.get $p0) (i32.const 3))))
      (if (i32.ge_s (local.get $nv) (i32.const 8))
        (then
          (block $kdone (loop $kloop
            (br_if $kdone (i32.ge_u (local.get $out) (local.get $end)))
            (v128.store (local.get $out) (v128.load (local.get $src)))
            (v128.store offset=16 (local.get $out) (v128.load offset=16 (local.get $src)))
            (local.set $src (i32.add (local.get $src) (local.get $ldb)))
            (local.set $out (i32.add (local.get $out) (i32.const 32)))
            (br $kloop))))
        (else
          (block $kdone (loop $kloop
            (br_if $kdone (i32.ge_u (local.get $out) (local.get $end)))
            (v128.store (local.get $out) (v128.const i32x4 0 0 0 0))
            (v128.store offset=16 (local.get $out) (v128.const i32x4 0 0 0 0))
            (local.set $j (i32.const 0))
            (block $jdone (loop $jloop
              (br_if $jdone (i32.ge_s (local.get $j) (local.get $nv)))
              (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
                (f32.load (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2)))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jloop)))
            (local.set $src (i32.add (local.get $src) (local.get $ldb)))
            (local.set $out (i32.add (local.get $out) (i32.const 32)))
            (br $kloop)))))
      (local.set $p0 (i32.add (local.get $p0) (i32.const 1)))
      (br $ploop))))

  ;; Store rows [0, mr) and columns [0, nr) of the 4×8 values at `tile` (row-major), value by value.
  (func $storePartial (param $tile i32) (param $c i32) (param $ldc i32) (param $mr i32) (param $nr i32) (param $fl i32) (param $bias i32)
    (local $i i32) (local $j i32) (local $x f32) (local $cp i32)
    (if (i32.gt_u (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
    (if (i32.gt_u (local.get $nr) (i32.const 8)) (then (local.set $nr (i32.const 8))))
    (block $idone (loop $iloop
      (br_if $idone (i32.ge_u (local.get $i) (local.get $mr)))
      (local.set $j (i32.const 0))
      (block $jdone (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $nr)))
        (local.set $x (f32.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 3)) (local.get $j)) (i32.const 2)))))
        (local.set $cp (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $j) (i32.const 2))))
        (if (i32.and (local.get $fl) (i32.const 1)) (then (local.set $x (f32.add (local.get $x) (f32.load (local.get $cp))))))
        (if (i32.and (local.get $fl) (i32.const 2))
          (then (local.set $x (f32.add (local.get $x) (f32.load (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))))))))
        (if (i32.and (local.get $fl) (i32.const 4)) (then (local.set $x (f32.max (local.get $x) (f32.const 0)))))
        (f32.store (local.get $cp) (local.get $x))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jloop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $iloop))))

  ;; Pack one group of 4 rows of A for one block of k: for each of the `nt` segments from t0 on, cc floats from
  ;; coff bytes into the segment, written k-major (4 floats per step of k, one per row) at dst. r0..r3 point at
  ;; the rows' segment t0 in the indirection buffer (a row past the edge repeats another; it is never stored).
  ;; Four steps of k at a time: a 4×4 block transposed in registers.
  (func $packA (param $r0 i32) (param $r1 i32) (param $r2 i32) (param $r3 i32) (param $nt i32) (param $coff i32) (param $cc i32) (param $dst i32)
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $end4 i32) (local $end i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (loop $seg
      (local.set $p0 (i32.add (i32.load (local.get $r0)) (local.get $coff)))
      (local.set $p1 (i32.add (i32.load (local.get $r1)) (local.get $coff)))
      (local.set $p2 (i32.add (i32.load (local.get $r2)) (local.get $coff)))
      (local.set $p3 (i32.add (i32.load (local.get $r3)) (local.get $coff)))
      (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $cc) (i32.const 4))))
      (local.set $end4 (i32.add (local.get $dst) (i32.shl (i32.and (local.get $cc) (i32.const -4)) (i32.const 4))))
      (block $done4 (loop $four
        (br_if $done4 (i32.ge_u (local.get $dst) (local.get $end4)))
        (local.set $v0 (v128.load (local.get $p0)))
        (local.set $v1 (v128.load (local.get $p1)))
        (local.set $v2 (v128.load (local.get $p2)))
        (local.set $v3 (v128.load (local.get $p3)))
        ;; t0 = v0[0] v1[0] v0[1] v1[1], t1 = v0[2] v1[2] v0[3] v1[3], t2/t3 likewise for v2, v3
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v0) (local.get $v1)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v0) (local.get $v1)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $v2) (local.get $v3)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $v2) (local.get $v3)))
        (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store offset=16 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (v128.store offset=32 (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store offset=48 (local.get $dst) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 16)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
        (local.set $p2 (i32.add (local.get $p2) (i32.const 16)))
        (local.set $p3 (i32.add (local.get $p3) (i32.const 16)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 64)))
        (br $four)))
      (block $done (loop $one
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (f32.store (local.get $dst) (f32.load (local.get $p0)))
        (f32.store offset=4 (local.get $dst) (f32.load (local.get $p1)))
        (f32.store offset=8 (local.get $dst) (f32.load (local.get $p2)))
        (f32.store offset=12 (local.get $dst) (f32.load (local.get $p3)))
        (local.set $p0 (i32.add (local.get $p0) (i32.const 4)))
        (local.set $p1 (i32.add (local.get $p1) (i32.const 4)))
        (local.set $p2 (i32.add (local.get $p2) (i32.const 4)))
        (local.set $p3 (i32.add (local.get $p3) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (br $one)))
      (local.set $r0 (i32.add (local.get $r0) (i32.const 4)))
      (local.set $r1 (i32.add (local.get $r1) (i32.const 4)))
      (local.set $r2 (i32.add (local.get $r2) (i32.const 4)))
      (local.set $r3 (i32.add (local.get $r3) (i32.const 4)))
      (local.set $nt (i32.sub (local.get $nt) (i32.const 1)))
      (br_if $seg (local.get $nt))))

  ;; A 4×8 tile of C over one block of kb steps of k: pa is the block's packed A group (4 floats per step), pb its
  ;; first row of 8 B values, the next one bstride bytes further (32 in a packed panel, B's row length when B is
  ;; read in place). The sums go to the 128 bytes at `tile` (storeTile moves them to C).
  (func $micro
    (param $pa i32) (param $kb i32) (param $pb i32) (param $bstride i32) (param $tile i32)
    (local $end i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $s v128)
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $kb) (i32.const 4))))
    (loop $k
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      ;; madd: the relaxed variant turns each (f32x4.add (local.get $c) (f32x4.mul (local.get $s) (local.get $b)))
      ;; into (f32x4.relaxed_madd (local.get $s) (local.get $b) (local.get $c))
      (local.set $s (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=4 (local.get $pa)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=8 (local.get $pa)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $s (v128.load32_splat offset=12 (local.get $pa)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $s) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $s) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
      (local.set $pb (i32.add (local.get $pb) (local.get $bstride)))
      (br_if $k (i32.lt_u (local.get $pa) (local.get $end))))
    ;; Only stores after the loop: with anything more here (branches, calls, C and bias loads), V8's register
    ;; allocator spilled an accumulator inside the loop.
    (v128.store (local.get $tile) (local.get $c00))
    (v128.store offset=16 (local.get $tile) (local.get $c01))
    (v128.store offset=32 (local.get $tile) (local.get $c10))
    (v128.store offset=48 (local.get $tile) (local.get $c11))
    (v128.store offset=64 (local.get $tile) (local.get $c20))
    (v128.store offset=80 (local.get $tile) (local.get $c21))
    (v128.store offset=96 (local.get $tile) (local.get $c30))
    (v128.store offset=112 (local.get $tile) (local.get $c31)))

  ;; Store a tile (4×8 values at `tile`, row-major) to C: each value (+ C) (+ bias), then ReLU; a whole tile
  ;; four lanes at a time, a ragged one (mr < 4 rows or nr < 8 columns) value by value.
  (func $storeTile (param $tile i32) (param $c i32) (param $ldc i32) (param $mr i32) (param $nr i32) (param $fl i32) (param $bias i32)
    (local $i i32) (local $v0 v128) (local $v1 v128) (local $b0 v128) (local $b1 v128)
    (if (i32.or (i32.lt_u (local.get $mr) (i32.const 4)) (i32.lt_u (local.get $nr) (i32.const 8)))
      (then
        (call $storePartial (local.get $tile) (local.get $c) (local.get $ldc) (local.get $mr) (local.get $nr) (local.get $fl) (local.get $bias))
        (return)))
    (if (i32.and (local.get $fl) (i32.const 2))
      (then
        (local.set $b0 (v128.load (local.get $bias)))
        (local.set $b1 (v128.load offset=16 (local.get $bias)))))
    (loop $row
      (local.set $v0 (v128.load (local.get $tile)))
      (local.set $v1 (v128.load offset=16 (local.get $tile)))
      (if (i32.and (local.get $fl) (i32.const 1))
        (then
          (local.set $v0 (f32x4.add (local.get $v0) (v128.load (local.get $c))))
          (local.set $v1 (f32x4.add (local.get $v1) (v128.load offset=16 (local.get $c))))))
      (if (i32.and (local.get $fl) (i32.const 2))
        (then
          (local.set $v0 (f32x4.add (local.get $v0) (local.get $b0)))
          (local.set $v1 (f32x4.add (local.get $v1) (local.get $b1)))))
      (if (i32.and (local.get $fl) (i32.const 4))
        (then
          (local.set $v0 (f32x4.max (local.get $v0) (v128.const f32x4 0 0 0 0)))
          (local.set $v1 (f32x4.max (local.get $v1) (v128.const f32x4 0 0 0 0)))))
      (v128.store (local.get $c) (local.get $v0))
      (v128.store offset=16 (local.get $c) (local.get $v1))
      (local.set $tile (i32.add (local.get $tile) (i32.const 32)))
      (local.set $c (i32.add (local.get $c) (local.get $ldc)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $row (i32.lt_u (local.get $i) (i32.const 4)))))

  ;; C[m0:m1, n0:n1] of job J over all of k (n0 a multiple of 8; m1 − m0 ≤ mc), with this thread's A buffer.
  (func $chunk (param $J i32) (param $apack i32) (param $m0 i32) (param $m1 i32) (param $n0 i32) (param $n1 i32)
    (local $ind i32) (local $taps i32) (local $ch i32) (local $m i32) (local $n i32) (local $pb i32) (local $c i32)
    (local $ldc i32) (local $bias i32) (local $flags i32) (local $kc i32) (local $k i32)
    (local $t0 i32) (local $c0 i32) (local $nt i32) (local $cc i32) (local $ccBlock i32) (local $first i32) (local $last i32)
    (local $fl i32) (local $jr i32) (local $ir i32) (local $panel i32) (local $row i32) (local $segBytes i32)
    (local $b i32) (local $ldb i32) (local $inPlace i32) (local $bstride i32) (local $kb i32) (local $groupBytes i32)
    (local $cp i32) (local $tile i32)
    (local.set $ind (i32.load offset=0 (local.get $J)))
    (local.set $taps (i32.load offset=4 (local.get $J)))
    (local.set $ch (i32.load offset=8 (local.get $J)))
    (local.set $m (i32.load offset=12 (local.get $J)))
    (local.set $n (i32.load offset=16 (local.get $J)))
    (local.set $pb (i32.load offset=28 (local.get $J)))
    (local.set $c (i32.load offset=32 (local.get $J)))
    (local.set $ldc (i32.load offset=36 (local.get $J)))
    (local.set $bias (i32.load offset=40 (local.get $J)))
    (local.set $flags (i32.load offset=44 (local.get $J)))
    (local.set $kc (i32.load offset=48 (local.get $J)))
    (local.set $b (i32.load offset=20 (local.get $J)))
    (local.set $ldb (i32.load offset=24 (local.get $J)))
    (local.set $inPlace (i32.and (local.get $flags) (i32.const 8)))
    (local.set $tile (i32.add (local.get $apack) (i32.load offset=80 (local.get $J))))
    (local.set $k (i32.mul (local.get $taps) (local.get $ch)))
    (local.set $segBytes (i32.shl (local.get $taps) (i32.const 2)))
    ;; k blocks: long segments split into near-equal parts of at most kc; short ones grouped, whole taps at a time
    (if (i32.ge_s (local.get $ch) (local.get $kc))
      (then
        (local.set $ccBlock (i32.div_u (i32.add (local.get $ch) (i32.sub (local.get $kc) (i32.const 1))) (local.get $kc)))
        (local.set $ccBlock (i32.div_u (i32.add (local.get $ch) (i32.sub (local.get $ccBlock) (i32.const 1))) (local.get $ccBlock)))
        (local.set $nt (i32.const 1)))
      (else
        (local.set $ccBlock (local.get $ch))
        (local.set $nt (i32.div_u (local.get $kc) (local.get $ch)))))
    (local.set $first (i32.const 1))
    (loop $kblock
      (local.set $cc (select (local.get $ccBlock) (i32.sub (local.get $ch) (local.get $c0))
        (i32.lt_s (local.get $ccBlock) (i32.sub (local.get $ch) (local.get $c0)))))
      (if (i32.gt_s (i32.add (local.get $t0) (local.get $nt)) (local.get $taps))
        (then (local.set $nt (i32.sub (local.get $taps) (local.get $t0)))))
      (local.set $kb (i32.mul (local.get $nt) (local.get $cc)))
      (local.set $groupBytes (i32.shl (local.get $kb) (i32.const 4)))
      (local.set $last (i32.and
        (i32.eq (i32.add (local.get $t0) (local.get $nt)) (local.get $taps))
        (i32.eq (i32.add (local.get $c0) (local.get $cc)) (local.get $ch))))
      (local.set $fl (i32.or
        (select (i32.and (local.get $flags) (i32.const 1)) (i32.const 1) (local.get $first))
        (select (i32.and (local.get $flags) (i32.const 6)) (i32.const 0) (local.get $last))))
      ;; pack the chunk's rows for this block, 4 at a time; rows past m1 repeat the group's first row
      (local.set $ir (local.get $m0))
      (local.set $panel (local.get $apack))
      (block $pdone (loop $ploop
        (br_if $pdone (i32.ge_s (local.get $ir) (local.get $m1)))
        (local.set $row (i32.add (local.get $ind)
          (i32.shl (i32.add (i32.mul (local.get $ir) (local.get $taps)) (local.get $t0)) (i32.const 2))))
        (call $packA
          (local.get $row)
          (select (i32.add (local.get $row) (local.get $segBytes)) (local.get $row)
            (i32.lt_s (i32.add (local.get $ir) (i32.const 1)) (local.get $m1)))
          (select (i32.add (local.get $row) (i32.shl (local.get $segBytes) (i32.const 1))) (local.get $row)
            (i32.lt_s (i32.add (local.get $ir) (i32.const 2)) (local.get $m1)))
          (select (i32.add (local.get $row) (i32.mul (local.get $segBytes) (i32.const 3))) (local.get $row)
            (i32.lt_s (i32.add (local.get $ir) (i32.const 3)) (local.get $m1)))
          (local.get $nt) (i32.shl (local.get $c0) (i32.const 2)) (local.get $cc) (local.get $panel))
        (local.set $panel (i32.add (local.get $panel) (local.get $groupBytes)))
        (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
        (br $ploop)))
      (local.set $jr (local.get $n0))
      (block $jdone (loop $jloop
        (br_if $jdone (i32.ge_s (local.get $jr) (local.get $n1)))
        ;; B in place (all but a ragged last panel, which is packed as panel 0) or packed
        (if (i32.and (i32.ne (local.get $inPlace) (i32.const 0)) (i32.le_s (i32.add (local.get $jr) (i32.const 8)) (local.get $n)))
          (then
            (local.set $bstride (local.get $ldb))
            (local.set $panel (i32.add (i32.add (local.get $b) (i32.shl (local.get $jr) (i32.const 2)))
              (i32.mul (i32.add (i32.mul (local.get $t0) (local.get $ch)) (local.get $c0)) (local.get $ldb)))))
          (else
            (local.set $bstride (i32.const 32))
            (local.set $panel (i32.add (local.get $pb)
              (i32.shl (i32.add (i32.mul (select (i32.const 0) (i32.shr_u (local.get $jr) (i32.const 3)) (local.get $inPlace)) (local.get $k))
                                (i32.add (i32.mul (local.get $t0) (local.get $ch)) (local.get $c0))) (i32.const 5))))))
        (local.set $ir (local.get $m0))
        (local.set $row (local.get $apack))
        (block $idone (loop $iloop
          (br_if $idone (i32.ge_s (local.get $ir) (local.get $m1)))
          (local.set $cp (i32.add (local.get $c) (i32.add (i32.mul (local.get $ir) (local.get $ldc)) (i32.shl (local.get $jr) (i32.const 2)))))
          (call $micro (local.get $row) (local.get $kb) (local.get $panel) (local.get $bstride) (local.get $tile))
          (call $storeTile (local.get $tile) (local.get $cp) (local.get $ldc)
            (i32.sub (local.get $m1) (local.get $ir)) (i32.sub (local.get $n) (local.get $jr)) (local.get $fl)
            (i32.add (local.get $bias) (i32.shl (local.get $jr) (i32.const 2))))
          (local.set $row (i32.add (local.get $row) (local.get $groupBytes)))
          (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
          (br $iloop)))
        (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
        (br $jloop)))
      (local.set $first (i32.const 0))
      ;; next block
      (if (i32.ge_s (local.get $ch) (local.get $kc))
        (then
          (local.set $c0 (i32.add (local.get $c0) (local.get $cc)))
          (if (i32.ge_s (local.get $c0) (local.get $ch))
            (then (local.set $c0 (i32.const 0)) (local.set $t0 (i32.add (local.get $t0) (i32.const 1))))))
        (else (local.set $t0 (i32.add (local.get $t0) (local.get $nt)))))
      (br_if $kblock (i32.lt_s (local.get $t0) (local.get $taps)))))

  ;; Element-wise job (kind 1): out[i] = op(a[i], b[i]) for i < n, in chunks of `chunk` floats (a multiple of 4)
  ;; shared out by the counter at 68; with a row length `inner` > 0, b is one row broadcast over a's rows
  ;; (out[i] = op(a[i], b[i mod inner]); chunks are then whole rows). Record: 0 a  4 b  8 out  12 n  16 op
  ;; 20 chunk  24 inner  68 next chunk  84 kind.
  ;; op 1 add, 2 multiply, 3 ReLU of a (max(x, 0): NaN stays NaN, −0 becomes 0), 4 step of a (x > 0 ? 1 : 0, NaN stays NaN):
  ;; what the cpu backend computes, so that the result does not depend on the kernel or the thread count.
  (func $elementwiseJob (param $J i32)
    (local $n i32) (local $chunk i32) (local $total i32) (local $idx i32) (local $i0 i32) (local $i1 i32) (local $inner i32)
    (local.set $inner (i32.load offset=24 (local.get $J)))
    (local.set $n (i32.load offset=12 (local.get $J)))
    (local.set $chunk (i32.load offset=20 (local.get $J)))
    (local.set $total (i32.div_u (i32.add (local.get $n) (i32.sub (local.get $chunk) (i32.const 1))) (local.get $chunk)))
    (block $alldone (loop $next
      (local.set $idx (i32.atomic.rmw.add offset=68 (local.get $J) (i32.const 1)))
      (br_if $alldone (i32.ge_u (local.get $idx) (local.get $total)))
      (local.set $i0 (i32.mul (local.get $idx) (local.get $chunk)))
      (local.set $i1 (select (local.get $n) (i32.add (local.get $i0) (local.get $chunk))
        (i32.gt_u (i32.add (local.get $i0) (local.get $chunk)) (local.get $n))))
      (if (local.get $inner)
        (then
          ;; row by row, b's one row each time
          (block $rows (loop $row
            (br_if $rows (i32.ge_u (local.get $i0) (local.get $i1)))
            (call $elementwise (i32.load offset=16 (local.get $J))
              (i32.add (i32.load offset=0 (local.get $J)) (i32.shl (local.get $i0) (i32.const 2)))
              (i32.load offset=4 (local.get $J))
              (i32.add (i32.load offset=8 (local.get $J)) (i32.shl (local.get $i0) (i32.const 2)))
              (local.get $inner))
            (local.set $i0 (i32.add (local.get $i0) (local.get $inner)))
            (br $row))))
        (else
          (call $elementwise (i32.load offset=16 (local.get $J))
            (i32.add (i32.load offset=0 (local.get $J)) (i32.shl (local.get $i0) (i32.const 2)))
            (i32.add (i32.load offset=4 (local.get $J)) (i32.shl (local.get $i0) (i32.const 2)))
            (i32.add (i32.load offset=8 (local.get $J)) (i32.shl (local.get $i0) (i32.const 2)))
            (i32.sub (local.get $i1) (local.get $i0)))))
      (br $next))))

  ;; `count` floats of op(a, b) to out (byte addresses), four lanes at a time, the last < 4 one by one.
  (func $elementwise (param $op i32) (param $a i32) (param $b i32) (param $out i32) (param $count i32)
    (local $end i32) (local $end4 i32) (local $x v128) (local $s f32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
    (local.set $end4 (i32.add (local.get $out) (i32.shl (i32.and (local.get $count) (i32.const -4)) (i32.const 2))))
    (block $tail
      (block $step (block $relu (block $mul (block $add
        (br_table $add $add $mul $relu $step $tail (local.get $op)))
        ;; add
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $out) (local.get $end4)))
          (v128.store (local.get $out) (f32x4.add (v128.load (local.get $a)) (v128.load (local.get $b))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (br $l)))
        (br $tail))
        ;; multiply
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $out) (local.get $end4)))
          (v128.store (local.get $out) (f32x4.mul (v128.load (local.get $a)) (v128.load (local.get $b))))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (br $l)))
        (br $tail))
        ;; ReLU
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $out) (local.get $end4)))
          (local.set $x (v128.load (local.get $a)))
          (v128.store (local.get $out) (f32x4.max (local.get $x) (v128.const f32x4 0 0 0 0)))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (local.set $out (i32.add (local.get $out) (i32.const 16)))
          (br $l)))
        (br $tail))
      ;; step
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $out) (local.get $end4)))
        (local.set $x (v128.load (local.get $a)))
        (v128.store (local.get $out)
          (v128.bitselect (local.get $x)
            (v128.and (f32x4.gt (local.get $x) (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))
            (f32x4.ne (local.get $x) (local.get $x))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $l))))
    ;; the last count mod 4 values
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
      (local.set $s (f32.load (local.get $a)))
      (f32.store (local.get $out)
        (if (result f32) (i32.eq (local.get $op) (i32.const 1))
          (then (f32.add (local.get $s) (f32.load (local.get $b))))
          (else (if (result f32) (i32.eq (local.get $op) (i32.const 2))
            (then (f32.mul (local.get $s) (f32.load (local.get $b))))
            (else (if (result f32) (i32.eq (local.get $op) (i32.const 3))
              (then (f32.max (local.get $s) (f32.const 0)))
              (else (select (local.get $s)
                (select (f32.const 1) (f32.const 0) (f32.gt (local.get $s) (f32.const 0)))
                (f32.ne (local.get $s) (local.get $s))))))))))
      (local.set $a (i32.add (local.get $a) (i32.const 4)))
      (local.set $b (i32.add (local.get $b) (i32.const 4)))
      (local.set $out (i32.add (local.get $out) (i32.const 4)))
      (br $l))))

  ;; Row-sum job (kind 2): partial[c] = Σ of rows [c·rpc, (c+1)·rpc) of x [rows, inner], each chunk of rows
  ;; shared out by the counter at 68 (the caller adds the partials up in a fixed order, so neither the
  ;; result nor its bits depend on the thread count). Record: 0 x  4 rows  8 inner  12 partials  16 rpc
  ;; 68 next chunk  84 kind.
  (func $rowSumJob (param $J i32)
    (local $x i32) (local $rows i32) (local $inner i32) (local $rpc i32) (local $total i32) (local $idx i32)
    (local $r i32) (local $r1 i32) (local $p i32) (local $pend i32) (local $pend4 i32) (local $q i32) (local $src i32)
    (local.set $x (i32.load offset=0 (local.get $J)))
    (local.set $rows (i32.load offset=4 (local.get $J)))
    (local.set $inner (i32.load offset=8 (local.get $J)))
    (local.set $rpc (i32.load offset=16 (local.get $J)))
    (local.set $total (i32.div_u (i32.add (local.get $rows) (i32.sub (local.get $rpc) (i32.const 1))) (local.get $rpc)))
    (block $alldone (loop $next
      (local.set $idx (i32.atomic.rmw.add offset=68 (local.get $J) (i32.const 1)))
      (br_if $alldone (i32.ge_u (local.get $idx) (local.get $total)))
      (local.set $r (i32.mul (local.get $idx) (local.get $rpc)))
      (local.set $r1 (select (local.get $rows) (i32.add (local.get $r) (local.get $rpc))
        (i32.gt_u (i32.add (local.get $r) (local.get $rpc)) (local.get $rows))))
      (local.set $p (i32.add (i32.load offset=12 (local.get $J)) (i32.shl (i32.mul (local.get $idx) (local.get $inner)) (i32.const 2))))
      (local.set $pend (i32.add (local.get $p) (i32.shl (local.get $inner) (i32.const 2))))
      (local.set $pend4 (i32.add (local.get $p) (i32.shl (i32.and (local.get $inner) (i32.const -4)) (i32.const 2))))
      ;; the chunk's first row, then each further row added on
      (memory.copy (local.get $p) (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $inner)) (i32.const 2)))
        (i32.shl (local.get $inner) (i32.const 2)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (block $rdone (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $r1)))
        (local.set $src (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $inner)) (i32.const 2))))
        (local.set $q (local.get $p))
        (block $vdone (loop $vloop
          (br_if $vdone (i32.ge_u (local.get $q) (local.get $pend4)))
          (v128.store (local.get $q) (f32x4.add (v128.load (local.get $q)) (v128.load (local.get $src))))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (local.set $src (i32.add (local.get $src) (i32.const 16)))
          (br $vloop)))
        (block $sdone (loop $sloop
          (br_if $sdone (i32.ge_u (local.get $q) (local.get $pend)))
          (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (f32.load (local.get $src))))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))
          (local.set $src (i32.add (local.get $src) (i32.const 4)))
          (br $sloop)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rloop)))
      (br $next))))

  ;; Run job J (see the records above; kind at 84: 0 GEMM, 1 element-wise, 2 row sums) with every thread that
  ;; calls this on it.
  (func (export "gemmJob") (param $J i32) (param $tid i32)
    (local $n i32) (local $m i32) (local $panels i32) (local $p i32) (local $e i32) (local $done i32)
    (local $mc i32) (local $nc i32) (local $nMc i32) (local $total i32) (local $idx i32) (local $ic i32) (local $jc i32)
    (if (i32.load offset=84 (local.get $J))
      (then
        (if (i32.eq (i32.load offset=84 (local.get $J)) (i32.const 1))
          (then (call $elementwiseJob (local.get $J)))
          (else (call $rowSumJob (local.get $J))))
        (return)))
    (local.set $m (i32.load offset=12 (local.get $J)))
    (local.set $n (i32.load offset=16 (local.get $J)))
    (local.set $panels (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3)))
    ;; B read in place: only a ragged last panel is packed (a thread's last one, so none reads past B's end)
    (if (i32.and (i32.load offset=44 (local.get $J)) (i32.const 8))
      (then
        (local.set $panels (i32.and (local.get $n) (i32.const 7)))
        (if (local.get $panels)
          (then
            (call $packB (i32.add (i32.load offset=20 (local.get $J)) (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
              (i32.load offset=24 (local.get $J)) (i32.mul (i32.load offset=4 (local.get $J)) (i32.load offset=8 (local.get $J)))
              (local.get $panels) (i32.load offset=28 (local.get $J)) (i32.const 0) (i32.const 1))))
        (local.set $panels (i32.const 0))))
    ;; pack B, four panels per grab
    (block $packed (loop $pack
      (local.set $p (i32.atomic.rmw.add offset=60 (local.get $J) (i32.const 4)))
      (br_if $packed (i32.ge_u (local.get $p) (local.get $panels)))
      (local.set $e (select (local.get $panels) (i32.add (local.get $p) (i32.const 4))
        (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $panels))))
      (call $packB (i32.load offset=20 (local.get $J)) (i32.load offset=24 (local.get $J))
        (i32.mul (i32.load offset=4 (local.get $J)) (i32.load offset=8 (local.get $J)))
        (local.get $n) (i32.load offset=28 (local.get $J)) (local.get $p) (local.get $e))
      (local.set $done (i32.add (i32.atomic.rmw.add offset=64 (local.get $J) (i32.sub (local.get $e) (local.get $p)))
        (i32.sub (local.get $e) (local.get $p))))
      (if (i32.ge_u (local.get $done) (local.get $panels))
        (then (drop (memory.atomic.notify offset=64 (local.get $J) (i32.const -1)))))
      (br $pack)))
    ;; barrier: every panel packed (only another thread can still be packing, so a single thread never waits)
    (block $ready (loop $wait
      (local.set $done (i32.atomic.load offset=64 (local.get $J)))
      (br_if $ready (i32.ge_u (local.get $done) (local.get $panels)))
      (drop (memory.atomic.wait32 offset=64 (local.get $J) (local.get $done) (i64.const 200000)))
      (br $wait)))
    ;; chunks, row blocks innermost so that threads share the column block's packed B in cache
    (local.set $mc (i32.load offset=52 (local.get $J)))
    (local.set $nc (i32.load offset=56 (local.get $J)))
    (local.set $nMc (i32.div_u (i32.add (local.get $m) (i32.sub (local.get $mc) (i32.const 1))) (local.get $mc)))
    (local.set $total (i32.mul (local.get $nMc)
      (i32.div_u (i32.add (local.get $n) (i32.sub (local.get $nc) (i32.const 1))) (local.get $nc))))
    (block $alldone (loop $next
      (local.set $idx (i32.atomic.rmw.add offset=68 (local.get $J) (i32.const 1)))
      (br_if $alldone (i32.ge_u (local.get $idx) (local.get $total)))
      (local.set $jc (i32.mul (i32.div_u (local.get $idx) (local.get $nMc)) (local.get $nc)))
      (local.set $ic (i32.mul (i32.rem_u (local.get $idx) (local.get $nMc)) (local.get $mc)))
      (call $chunk (local.get $J)
        (i32.add (i32.load offset=72 (local.get $J)) (i32.mul (local.get $tid) (i32.load offset=76 (local.get $J))))
        (local.get $ic) (select (local.get $m) (i32.add (local.get $ic) (local.get $mc))
          (i32.gt_u (i32.add (local.get $ic) (local.get $mc)) (local.get $m)))
        (local.get $jc) (select (local.get $n) (i32.add (local.get $jc) (local.get $nc))
          (i32.gt_u (i32.add (local.get $jc) (local.get $nc)) (local.get $n))))
      (br $next))))
)
