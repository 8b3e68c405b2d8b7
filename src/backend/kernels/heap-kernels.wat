;; Kernels over float32 tensors living in the tfjs wasm backend's own memory (imported), so nothing is
;; copied: see heap-kernels.ts. Compiled to heap-kernels.wasm (and heap-kernels-shared.wasm, for the
;; threaded build's shared memory) by `npm run build:wasm`; all three files are committed.
;;
;; adam — one fused Adam update (fused-adam.ts). The arithmetic is the tensor implementation's, op for op in float32 (src/train/optimizer.ts), so both
;; give the same bits:
;;   g = grad + wd·p;  m' = m·b1 + g·c1;  v' = v·b2 + (g·g)·c2;  d = √v' / s2 + eps;  p' = p − (m' / d)·lr
;; m and v are updated in place; p' goes to `out` (a fresh tensor, so convolution caches keyed by the
;; weights' tensor never see stale weights).
(module
  (import "env" "memory" (memory 1))

  (func (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $out i32) (param $n i32) (param $hasGrad i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $wd f32) (param $s2 f32) (param $eps f32) (param $lr f32)
    (local $i i32) (local $end4 i32) (local $o i32)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $pv v128) (local $d v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $ps f32)
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    ;; four at a time
    (block $done4
      (loop $loop4
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $pv (v128.load (i32.add (local.get $p) (local.get $o))))
        (local.set $gv (f32x4.mul (local.get $pv) (f32x4.splat (local.get $wd))))
        (if (local.get $hasGrad)
          (then (local.set $gv (f32x4.add (v128.load (i32.add (local.get $g) (local.get $o))) (local.get $gv)))))
        (local.set $mv (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $o))) (f32x4.splat (local.get $b1)))
          (f32x4.mul (local.get $gv) (f32x4.splat (local.get $c1)))))
        (local.set $vv (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $o))) (f32x4.splat (local.get $b2)))
          (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (f32x4.splat (local.get $c2)))))
        (local.set $d (f32x4.add
          (f32x4.div (f32x4.sqrt (local.get $vv)) (f32x4.splat (local.get $s2)))
          (f32x4.splat (local.get $eps))))
        (v128.store (i32.add (local.get $m) (local.get $o)) (local.get $mv))
        (v128.store (i32.add (local.get $v) (local.get $o)) (local.get $vv))
        (v128.store (i32.add (local.get $out) (local.get $o))
          (f32x4.sub (local.get $pv) (f32x4.mul (f32x4.div (local.get $mv) (local.get $d)) (f32x4.splat (local.get $lr)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $loop4)))
    ;; the rest, one at a time, same operations
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (local.set $ps (f32.load (i32.add (local.get $p) (local.get $o))))
        (local.set $gs (f32.mul (local.get $ps) (local.get $wd)))
        (if (local.get $hasGrad)
          (then (local.set $gs (f32.add (f32.load (i32.add (local.get $g) (local.get $o))) (local.get $gs)))))
        (local.set $ms (f32.add
          (f32.mul (f32.load (i32.add (local.get $m) (local.get $o))) (local.get $b1))
          (f32.mul (local.get $gs) (local.get $c1))))
        (local.set $vs (f32.add
          (f32.mul (f32.load (i32.add (local.get $v) (local.get $o))) (local.get $b2))
          (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $c2))))
        (f32.store (i32.add (local.get $m) (local.get $o)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $o)) (local.get $vs))
        (f32.store (i32.add (local.get $out) (local.get $o))
          (f32.sub (local.get $ps)
            (f32.mul
              (f32.div (local.get $ms) (f32.add (f32.div (f32.sqrt (local.get $vs)) (local.get $s2)) (local.get $eps)))
              (local.get $lr))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $loop))))

  ;; transpose — dst[j·dstStride + i] = src[i·srcStride + j] for i < rows, j < cols (f32; wasm-scope.ts: a
  ;; whole matrix has srcStride = cols and dstStride = rows, a block of its rows the whole matrix's). 4×4 blocks
  ;; transposed in registers with shuffles, walked in strips of 64 columns so the 64 destination rows being
  ;; written stay in cache; the ragged right and bottom edges one value at a time.
  (func (export "transpose") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $srcStride i32) (param $dstStride i32)
    (local $rows4 i32) (local $cols4 i32) (local $jb i32) (local $jend i32) (local $i i32) (local $j i32)
    (local $rowBytes i32) (local $colBytes i32) (local $s i32) (local $d i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $rowBytes (i32.shl (local.get $srcStride) (i32.const 2)))
    (local.set $colBytes (i32.shl (local.get $dstStride) (i32.const 2)))
    (block $jbdone
      (loop $jbloop
        (br_if $jbdone (i32.ge_u (local.get $jb) (local.get $cols4)))
        (local.set $jend (select (local.get $cols4) (i32.add (local.get $jb) (i32.const 64))
          (i32.gt_u (i32.add (local.get $jb) (i32.const 64)) (local.get $cols4))))
        (local.set $i (i32.const 0))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $rows4)))
            (local.set $j (local.get $jb))
            (block $jdone
              (loop $jloop
                (br_if $jdone (i32.ge_u (local.get $j) (local.get $jend)))
                (local.set $s (i32.add (local.get $src)
                  (i32.shl (i32.add (i32.mul (local.get $i) (local.get $srcStride)) (local.get $j)) (i32.const 2))))
                (local.set $r0 (v128.load (local.get $s)))
                (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $rowBytes))))
                (local.set $r2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $rowBytes) (i32.const 1)))))
                (local.set $r3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $rowBytes) (i32.const 3)))))
                ;; t0 = r0[0] r1[0] r0[1] r1[1], t1 = r0[2] r1[2] r0[3] r1[3], t2/t3 likewise for r2, r3
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
                (local.set $d (i32.add (local.get $dst)
                  (i32.shl (i32.add (i32.mul (local.get $j) (local.get $dstStride)) (local.get $i)) (i32.const 2))))
                (v128.store (local.get $d)
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $d) (local.get $colBytes))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (v128.store (i32.add (local.get $d) (i32.shl (local.get $colBytes) (i32.const 1)))
                  (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (v128.store (i32.add (local.get $d) (i32.mul (local.get $colBytes) (i32.const 3)))
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $jloop)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $iloop)))
        (local.set $jb (i32.add (local.get $jb) (i32.const 64)))
        (br $jbloop)))
    ;; right edge: columns [cols4, cols) of every row
    (local.set $i (i32.const 0))
    (block $redone
      (loop $reloop
        (br_if $redone (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $j (local.get $cols4))
        (block $rjdone
          (loop $rjloop
            (br_if $rjdone (i32.ge_u (local.get $j) (local.get $cols)))
            (f32.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $dstStride)) (local.get $i)) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $srcStride)) (local.get $j)) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $rjloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $reloop)))
    ;; bottom edge: rows [rows4, rows) of columns [0, cols4)
    (local.set $i (local.get $rows4))
    (block $bedone
      (loop $beloop
        (br_if $bedone (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $bjdone
          (loop $bjloop
            (br_if $bjdone (i32.ge_u (local.get $j) (local.get $cols4)))
            (f32.store
              (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $dstStride)) (local.get $i)) (i32.const 2)))
              (f32.load (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $srcStride)) (local.get $j)) (i32.const 2)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $bjloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $beloop))))

  ;; im2col — transposed im2col (heap-layout.ts): cols[(ti·kw + tj)·C + ch, (b·outH + i)·outW + j] =
  ;; xT[ch, b, offH + ti + i·sH, offW + tj + j·sW], zero outside the input. xT: [C, N, H, W]. Whole rows are
  ;; copied (memory.copy) when sW = 1, which is what makes it cheaper than JavaScript on small maps.
  (func (export "im2col")
    (param $xT i32) (param $cols i32) (param $c i32) (param $n i32) (param $h i32) (param $w i32)
    (param $kh i32) (param $kw i32) (param $offH i32) (param $offW i32) (param $sH i32) (param $sW i32)
    (param $outH i32) (param $outW i32)
    (local $ti i32) (local $tj i32) (local $ch i32) (local $b i32) (local $i i32) (local $j i32)
    (local $off i32) (local $jLo i32) (local $jHi i32) (local $r i32) (local $at i32) (local $src i32) (local $rowBytes i32)
    (local.set $at (local.get $cols))
    (local.set $rowBytes (i32.shl (local.get $outW) (i32.const 2)))
    (local.set $ti (i32.const 0))
    (block $tidone (loop $tiloop
      (br_if $tidone (i32.ge_s (local.get $ti) (local.get $kh)))
      (local.set $tj (i32.const 0))
      (block $tjdone (loop $tjloop
        (br_if $tjdone (i32.ge_s (local.get $tj) (local.get $kw)))
        ;; output columns whose input column off + j·sW lies in [0, W): [jLo, jHi)
        (local.set $off (i32.add (local.get $offW) (local.get $tj)))
        (local.set $jLo (i32.const 0))
        (block $lodone (loop $loloop
          (br_if $lodone (i32.ge_s (local.get $jLo) (local.get $outW)))
          (br_if $lodone (i32.ge_s (i32.add (local.get $off) (i32.mul (local.get $jLo) (local.get $sW))) (i32.const 0)))
          (local.set $jLo (i32.add (local.get $jLo) (i32.const 1)))
          (br $loloop)))
        (local.set $jHi (local.get $jLo))
        (block $hidone (loop $hiloop
          (br_if $hidone (i32.ge_s (local.get $jHi) (local.get $outW)))
          (br_if $hidone (i32.ge_s (i32.add (local.get $off) (i32.mul (local.get $jHi) (local.get $sW))) (local.get $w)))
          (local.set $jHi (i32.add (local.get $jHi) (i32.const 1)))
          (br $hiloop)))
        (local.set $ch (i32.const 0))
        (block $chdone (loop $chloop
          (br_if $chdone (i32.ge_s (local.get $ch) (local.get $c)))
          (local.set $b (i32.const 0))
          (block $bdone (loop $bloop
            (br_if $bdone (i32.ge_s (local.get $b) (local.get $n)))
            (local.set $i (i32.const 0))
            (block $idone (loop $iloop
              (br_if $idone (i32.ge_s (local.get $i) (local.get $outH)))
              (local.set $r (i32.add (i32.add (local.get $offH) (local.get $ti)) (i32.mul (local.get $i) (local.get $sH))))
              (if (i32.or (i32.or (i32.lt_s (local.get $r) (i32.const 0)) (i32.ge_s (local.get $r) (local.get $h)))
                          (i32.ge_s (local.get $jLo) (local.get $jHi)))
                (then (memory.fill (local.get $at) (i32.const 0) (local.get $rowBytes)))
                (else
                  (memory.fill (local.get $at) (i32.const 0) (i32.shl (local.get $jLo) (i32.const 2)))
                  (memory.fill (i32.add (local.get $at) (i32.shl (local.get $jHi) (i32.const 2))) (i32.const 0)
                    (i32.shl (i32.sub (local.get $outW) (local.get $jHi)) (i32.const 2)))
                  ;; source of column j: plane (ch, b), row r, column off + j·sW
                  (local.set $src (i32.add (local.get $xT) (i32.shl
                    (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $ch) (local.get $n)) (local.get $b)) (local.get $h)) (local.get $r)) (local.get $w))
                      (local.get $off))
                    (i32.const 2))))
                  (if (i32.eq (local.get $sW) (i32.const 1))
                    (then (memory.copy
                      (i32.add (local.get $at) (i32.shl (local.get $jLo) (i32.const 2)))
                      (i32.add (local.get $src) (i32.shl (local.get $jLo) (i32.const 2)))
                      (i32.shl (i32.sub (local.get $jHi) (local.get $jLo)) (i32.const 2))))
                    (else
                      (local.set $j (local.get $jLo))
                      (block $jdone (loop $jloop
                        (br_if $jdone (i32.ge_s (local.get $j) (local.get $jHi)))
                        (f32.store (i32.add (local.get $at) (i32.shl (local.get $j) (i32.const 2)))
                          (f32.load (i32.add (local.get $src) (i32.shl (i32.mul (local.get $j) (local.get $sW)) (i32.const 2)))))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br $jloop)))))))
              (local.set $at (i32.add (local.get $at) (local.get $rowBytes)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $iloop)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $bloop)))
          (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
          (br $chloop)))
        (local.set $tj (i32.add (local.get $tj) (i32.const 1)))
        (br $tjloop)))
      (local.set $ti (i32.add (local.get $ti) (i32.const 1)))
      (br $tiloop))))

  ;; maxPoolGrad — dx[argmax of each window] += dy (max-pool-grad.ts), NHWC, c a multiple of 4, dx zeroed by the
  ;; caller. Four channels at a time: the window's running maximum and the address where it was found, replaced
  ;; only by a strictly greater value (the first maximum in row-major window order, as the cpu backend picks).
  (func (export "maxPoolGrad")
    (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $ho i32) (param $wo i32) (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)
    (local $b i32) (local $i i32) (local $j i32) (local $ch i32) (local $r i32) (local $col i32)
    (local $rs i32) (local $re i32) (local $cs i32) (local $ce i32) (local $a i32) (local $at i32) (local $lane i32)
    (local $best v128) (local $idx v128) (local $v v128) (local $mask v128)
    (block $bdone (loop $bloop
      (br_if $bdone (i32.ge_s (local.get $b) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $idone (loop $iloop
        (br_if $idone (i32.ge_s (local.get $i) (local.get $ho)))
        (local.set $rs (i32.sub (i32.mul (local.get $i) (local.get $sh)) (local.get $top)))
        (local.set $re (i32.add (local.get $rs) (local.get $fh)))
        (if (i32.lt_s (local.get $rs) (i32.const 0)) (then (local.set $rs (i32.const 0))))
        (if (i32.gt_s (local.get $re) (local.get $h)) (then (local.set $re (local.get $h))))
        (local.set $j (i32.const 0))
        (block $jdone (loop $jloop
          (br_if $jdone (i32.ge_s (local.get $j) (local.get $wo)))
          (local.set $cs (i32.sub (i32.mul (local.get $j) (local.get $sw)) (local.get $left)))
          (local.set $ce (i32.add (local.get $cs) (local.get $fw)))
          (if (i32.lt_s (local.get $cs) (i32.const 0)) (then (local.set $cs (i32.const 0))))
          (if (i32.gt_s (local.get $ce) (local.get $w)) (then (local.set $ce (local.get $w))))
          (local.set $ch (i32.const 0))
          (block $chdone (loop $chloop
            (br_if $chdone (i32.ge_s (local.get $ch) (local.get $c)))
            (local.set $best (f32x4.splat (f32.const -inf)))
            (local.set $idx (i32x4.splat (i32.const -1)))
            (local.set $r (local.get $rs))
            (block $rdone (loop $rloop
              (br_if $rdone (i32.ge_s (local.get $r) (local.get $re)))
              (local.set $col (local.get $cs))
              (block $cdone (loop $cloop
                (br_if $cdone (i32.ge_s (local.get $col) (local.get $ce)))
                (local.set $a (i32.add (local.get $x) (i32.shl
                  (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $r)) (local.get $w)) (local.get $col)) (local.get $c))
                    (local.get $ch)) (i32.const 2))))
                (local.set $v (v128.load (local.get $a)))
                (local.set $mask (f32x4.gt (local.get $v) (local.get $best)))
                (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $mask)))
                (local.set $idx (v128.bitselect
                  (i32x4.add (i32x4.splat (local.get $a)) (v128.const i32x4 0 4 8 12)) (local.get $idx) (local.get $mask)))
                (local.set $col (i32.add (local.get $col) (i32.const 1)))
                (br $cloop)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $rloop)))
            ;; scatter the four lanes: dx at the same offset from dx as the maximum's from x
            (local.set $lane (i32.const 0))
            (block $ldone (loop $lloop
              (br_if $ldone (i32.ge_u (local.get $lane) (i32.const 4)))
              (local.set $a (i32x4.extract_lane 0 (local.get $idx)))
              (if (i32.ne (local.get $a) (i32.const -1))
                (then
                  (local.set $at (i32.add (local.get $dx) (i32.sub (local.get $a) (local.get $x))))
                  (f32.store (local.get $at) (f32.add (f32.load (local.get $at))
                    (f32.load (i32.add (local.get $dy) (i32.shl (local.get $lane) (i32.const 2))))))))
              (local.set $idx (i8x16.shuffle 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2 3 (local.get $idx) (local.get $idx)))
              (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
              (br $lloop)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
            (br $chloop)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $jloop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iloop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bloop))))
)
