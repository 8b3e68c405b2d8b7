;; One fused Adam update over float32 tensors living in the tfjs wasm backend's own memory (imported), so
;; nothing is copied: see fused-adam.ts. Compiled to adam.wasm by `npm run build:wasm`; both are committed.
;;
;; The arithmetic is the tensor implementation's, op for op in float32 (src/train/optimizer.ts), so both
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
)
