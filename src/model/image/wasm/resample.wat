;; The two separable passes of Pillow's 8-bit convolution resize (Resample.c,
;; ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc) with 128-bit SIMD.
;; src/model/image/resample.ts computes the coefficient tables (doubles, Pillow's
;; rounding), lays them out as below, and keeps the pure JS port as the reference.
;;
;; Exactness: products and sums are i32 lanes that wrap exactly like Pillow's int
;; (and the JS port's Math.imul / |0); every accumulator starts at 1 << 21
;; (PRECISION_BITS 22, round half up); clip8 = (acc >> 22) saturated to 0..255 by
;; a signed i32->i16 then an unsigned i16->u8 saturating narrow.
;;
;; Both passes write packed RGB and may store up to 15 bytes past their output and
;; read up to 15 bytes past their input: the caller leaves that much slack after
;; each region and lays the rows out in order, so the spill lands on bytes that are
;; written later or never read.
(module
  (memory (export "memory") 1)

  ;; Horizontal pass over `rows` RGBA rows `stride` bytes apart, starting at `src`;
  ;; writes `ww` packed RGB pixels per row to `out`. For each output pixel `tab`
  ;; holds [byte offset in the row, tap pairs n, 2n coefficients] (i32); an odd
  ;; tap count is padded with a zero coefficient, so taps go two at a time: one
  ;; 8-byte load is two RGBA pixels, widened to i16x8, each half to i32x4.
  (func (export "hpass")
    (param $src i32) (param $stride i32) (param $rows i32) (param $ww i32)
    (param $tab i32) (param $out i32)
    (local $x i32) (local $rec i32) (local $p i32) (local $n i32)
    (local $acc v128) (local $px v128)
    (block $done
      (loop $row
        (br_if $done (i32.le_s (local.get $rows) (i32.const 0)))
        (local.set $rec (local.get $tab))
        (local.set $x (local.get $ww))
        (block $rowdone
          (loop $col
            (br_if $rowdone (i32.le_s (local.get $x) (i32.const 0)))
            (local.set $p (i32.add (local.get $src) (i32.load (local.get $rec))))
            (local.set $n (i32.load offset=4 (local.get $rec)))
            (local.set $rec (i32.add (local.get $rec) (i32.const 8)))
            (local.set $acc (v128.const i32x4 0x200000 0x200000 0x200000 0x200000))
            (block $tapsdone
              (loop $taps
                (br_if $tapsdone (i32.le_s (local.get $n) (i32.const 0)))
                (local.set $px (v128.load8x8_u align=1 (local.get $p)))
                (local.set $acc
                  (i32x4.add (local.get $acc)
                    (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $px))
                               (v128.load32_splat (local.get $rec)))))
                (local.set $acc
                  (i32x4.add (local.get $acc)
                    (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $px))
                               (v128.load32_splat offset=4 (local.get $rec)))))
                (local.set $p (i32.add (local.get $p) (i32.const 8)))
                (local.set $rec (i32.add (local.get $rec) (i32.const 8)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $taps)))
            (local.set $acc (i32x4.shr_s (local.get $acc) (i32.const 22)))
            (local.set $acc (i16x8.narrow_i32x4_s (local.get $acc) (local.get $acc)))
            ;; 4 bytes R G B x; the next pixel overwrites x.
            (i32.store align=1 (local.get $out)
              (i32x4.extract_lane 0 (i8x16.narrow_i16x8_u (local.get $acc) (local.get $acc))))
            (local.set $out (i32.add (local.get $out) (i32.const 3)))
            (local.set $x (i32.sub (local.get $x) (i32.const 1)))
            (br $col)))
        (local.set $src (i32.add (local.get $src) (local.get $stride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; Vertical pass: input rows `stride` bytes apart from `in`; writes `wh` output
  ;; rows of `rowBytes` bytes (packed RGB) to `out`. For each output row `tab`
  ;; holds [byte offset of its first input row, tap count n, n coefficients].
  ;; One coefficient per row applies to every byte, so 16 bytes go at a time.
  (func (export "vpass")
    (param $in i32) (param $stride i32) (param $rowBytes i32) (param $wh i32)
    (param $tab i32) (param $out i32)
    (local $base i32) (local $cnt i32) (local $c i32) (local $p i32) (local $kp i32) (local $n i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $v v128) (local $half v128) (local $k v128)
    (block $done
      (loop $row
        (br_if $done (i32.le_s (local.get $wh) (i32.const 0)))
        (local.set $base (i32.add (local.get $in) (i32.load (local.get $tab))))
        (local.set $cnt (i32.load offset=4 (local.get $tab)))
        (local.set $tab (i32.add (local.get $tab) (i32.const 8)))
        (local.set $c (i32.const 0))
        (block $rowdone
          (loop $chunk
            (br_if $rowdone (i32.ge_s (local.get $c) (local.get $rowBytes)))
            (local.set $a0 (v128.const i32x4 0x200000 0x200000 0x200000 0x200000))
            (local.set $a1 (local.get $a0))
            (local.set $a2 (local.get $a0))
            (local.set $a3 (local.get $a0))
            (local.set $p (i32.add (local.get $base) (local.get $c)))
            (local.set $kp (local.get $tab))
            (local.set $n (local.get $cnt))
            (block $tapsdone
              (loop $taps
                (br_if $tapsdone (i32.le_s (local.get $n) (i32.const 0)))
                (local.set $v (v128.load align=1 (local.get $p)))
                (local.set $k (v128.load32_splat (local.get $kp)))
                (local.set $half (i16x8.extend_low_i8x16_u (local.get $v)))
                (local.set $a0 (i32x4.add (local.get $a0)
                  (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $half)) (local.get $k))))
                (local.set $a1 (i32x4.add (local.get $a1)
                  (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $half)) (local.get $k))))
                (local.set $half (i16x8.extend_high_i8x16_u (local.get $v)))
                (local.set $a2 (i32x4.add (local.get $a2)
                  (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $half)) (local.get $k))))
                (local.set $a3 (i32x4.add (local.get $a3)
                  (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $half)) (local.get $k))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $kp (i32.add (local.get $kp) (i32.const 4)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $taps)))
            (v128.store align=1 (i32.add (local.get $out) (local.get $c))
              (i8x16.narrow_i16x8_u
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22))
                                      (i32x4.shr_s (local.get $a1) (i32.const 22)))
                (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22))
                                      (i32x4.shr_s (local.get $a3) (i32.const 22)))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $chunk)))
        (local.set $tab (i32.add (local.get $tab) (i32.shl (local.get $cnt) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
        (local.set $wh (i32.sub (local.get $wh) (i32.const 1)))
        (br $row)))))
