;; The two passes of src/model/image/align-corners.ts (TF.js resizeBilinear with
;; alignCorners=true on float pixels, then float32 rounding and Normalize) in
;; WebAssembly; the vertical pass with 128-bit SIMD. align-corners.ts computes
;; the column table and the row schedule and keeps the JS kernel as the reference.
;;
;; Exactness: the lerps are the JS kernel's double operations in the same order,
;; a + (b - a) * f (wasm f64 arithmetic is IEEE, never fused); the float32 rounding
;; is f32.demote (round to nearest even, as a Float32Array store). Normalize is
;; f32.sub then f32.div: JS computes fround(x - m) / s in double and stores it as
;; float32, and on float32 operands a double sub or div rounded to float32 is the
;; float32 operation (53 >= 2 * 24 + 2 bits), so the bits are the same.
(module
  (memory (export "memory") 1)

  ;; Normalisation constants at byte 0: for each channel c, mean splat (f32x4) at
  ;; 32c and std splat at 32c + 16.

  ;; Horizontal lerp of one RGBA source row at `src` for `n` output columns. For
  ;; each column `cols` holds [left byte offset i32, right byte offset i32,
  ;; fraction f64]; `lv` is the double value of each 8-bit level (256 f64).
  ;; Writes three planes of n doubles (R, G, B) from `out`.
  (func (export "hrow")
    (param $src i32) (param $cols i32) (param $n i32) (param $lv i32) (param $out i32)
    (local $plane i32) (local $end i32) (local $l i32) (local $r i32) (local $cf f64) (local $a f64)
    (local.set $plane (i32.shl (local.get $n) (i32.const 3)))
    (local.set $end (i32.add (local.get $cols) (i32.shl (local.get $n) (i32.const 4))))
    (block $done
      (loop $col
        (br_if $done (i32.ge_u (local.get $cols) (local.get $end)))
        (local.set $l (i32.add (local.get $src) (i32.load (local.get $cols))))
        (local.set $r (i32.add (local.get $src) (i32.load offset=4 (local.get $cols))))
        (local.set $cf (f64.load offset=8 (local.get $cols)))
        ;; R
        (local.set $a (f64.load (i32.add (local.get $lv) (i32.shl (i32.load8_u (local.get $l)) (i32.const 3)))))
        (f64.store (local.get $out)
          (f64.add (local.get $a)
            (f64.mul
              (f64.sub
                (f64.load (i32.add (local.get $lv) (i32.shl (i32.load8_u (local.get $r)) (i32.const 3))))
                (local.get $a))
              (local.get $cf))))
        ;; G
        (local.set $a (f64.load (i32.add (local.get $lv) (i32.shl (i32.load8_u offset=1 (local.get $l)) (i32.const 3)))))
        (f64.store (i32.add (local.get $out) (local.get $plane))
          (f64.add (local.get $a)
            (f64.mul
              (f64.sub
                (f64.load (i32.add (local.get $lv) (i32.shl (i32.load8_u offset=1 (local.get $r)) (i32.const 3))))
                (local.get $a))
              (local.get $cf))))
        ;; B
        (local.set $a (f64.load (i32.add (local.get $lv) (i32.shl (i32.load8_u offset=2 (local.get $l)) (i32.const 3)))))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $plane) (i32.const 1)))
          (f64.add (local.get $a)
            (f64.mul
              (f64.sub
                (f64.load (i32.add (local.get $lv) (i32.shl (i32.load8_u offset=2 (local.get $r)) (i32.const 3))))
                (local.get $a))
              (local.get $cf))))
        (local.set $cols (i32.add (local.get $cols) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $col))))

  ;; Vertical lerp t + (b - t) * rf of two hrow outputs (`n` doubles per plane),
  ;; rounded to float32, normalised when `norm` is not 0; writes the three planes
  ;; of n floats at `out`, `plane` bytes apart. Four values at a time, then one.
  (func (export "vrow")
    (param $t i32) (param $b i32) (param $n i32) (param $rf f64) (param $norm i32)
    (param $out i32) (param $plane i32)
    (local $c i32) (local $k i32) (local $tp i32) (local $bp i32) (local $op i32)
    (local $rfv v128) (local $m v128) (local $s v128) (local $t0 v128) (local $t1 v128) (local $f v128)
    (local $tv f64) (local $x f32)
    (local.set $rfv (f64x2.splat (local.get $rf)))
    (local.set $tp (local.get $t))
    (local.set $bp (local.get $b))
    (block $planesdone
      (loop $planes
        (br_if $planesdone (i32.ge_u (local.get $c) (i32.const 3)))
        (local.set $m (v128.load (i32.shl (local.get $c) (i32.const 5))))
        (local.set $s (v128.load offset=16 (i32.shl (local.get $c) (i32.const 5))))
        (local.set $op (i32.add (local.get $out) (i32.mul (local.get $c) (local.get $plane))))
        (local.set $k (local.get $n))
        (block $quadsdone
          (loop $quads
            (br_if $quadsdone (i32.lt_s (local.get $k) (i32.const 4)))
            (local.set $t0 (v128.load (local.get $tp)))
            (local.set $t1 (v128.load offset=16 (local.get $tp)))
            (local.set $f
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                (f32x4.demote_f64x2_zero
                  (f64x2.add (local.get $t0)
                    (f64x2.mul (f64x2.sub (v128.load (local.get $bp)) (local.get $t0)) (local.get $rfv))))
                (f32x4.demote_f64x2_zero
                  (f64x2.add (local.get $t1)
                    (f64x2.mul (f64x2.sub (v128.load offset=16 (local.get $bp)) (local.get $t1)) (local.get $rfv))))))
            (if (local.get $norm)
              (then (local.set $f (f32x4.div (f32x4.sub (local.get $f) (local.get $m)) (local.get $s)))))
            (v128.store align=4 (local.get $op) (local.get $f))
            (local.set $tp (i32.add (local.get $tp) (i32.const 32)))
            (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
            (local.set $op (i32.add (local.get $op) (i32.const 16)))
            (local.set $k (i32.sub (local.get $k) (i32.const 4)))
            (br $quads)))
        (block $restdone
          (loop $rest
            (br_if $restdone (i32.le_s (local.get $k) (i32.const 0)))
            (local.set $tv (f64.load (local.get $tp)))
            (local.set $x
              (f32.demote_f64
                (f64.add (local.get $tv)
                  (f64.mul (f64.sub (f64.load (local.get $bp)) (local.get $tv)) (local.get $rf)))))
            (if (local.get $norm)
              (then (local.set $x
                (f32.div (f32.sub (local.get $x) (f32x4.extract_lane 0 (local.get $m)))
                         (f32x4.extract_lane 0 (local.get $s))))))
            (f32.store (local.get $op) (local.get $x))
            (local.set $tp (i32.add (local.get $tp) (i32.const 8)))
            (local.set $bp (i32.add (local.get $bp) (i32.const 8)))
            (local.set $op (i32.add (local.get $op) (i32.const 4)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br $rest)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $planes)))))
