//! Scoring against annotations, with the definitions of mir_eval 0.8
//! (onset and beat F-measure, Cemgil, CMLt/AMLt continuity, tempo accuracy).
//! Cross-checked against `../shared/tools/peer_eval.py` on the same outputs.

/// Maximum matching of `est` to `reference` events within `window` seconds.
/// Both must be sorted. Returns index pairs (reference, estimate).
///
/// With equal windows on a line, matching each reference to the earliest
/// still-free estimate within reach gives a maximum matching (the same size
/// mir_eval's bipartite matcher finds).
pub fn match_events(reference: &[f64], est: &[f64], window: f64) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut j = 0;
    for (i, &r) in reference.iter().enumerate() {
        while j < est.len() && est[j] < r - window - 1e-12 {
            j += 1;
        }
        if j < est.len() && (est[j] - r).abs() <= window + 1e-12 {
            pairs.push((i, j));
            j += 1;
        }
    }
    pairs
}

/// F-measure of `est` against `reference` with a ±`window` s tolerance.
pub fn f_measure(reference: &[f64], est: &[f64], window: f64) -> f64 {
    if reference.is_empty() || est.is_empty() {
        return 0.0;
    }
    let m = match_events(reference, est, window).len() as f64;
    let p = m / est.len() as f64;
    let r = m / reference.len() as f64;
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// Median signed error (estimate − reference, seconds) of matched events.
pub fn median_offset(reference: &[f64], est: &[f64], window: f64) -> Option<f64> {
    let mut d: Vec<f64> = match_events(reference, est, window)
        .into_iter()
        .map(|(i, j)| est[j] - reference[i])
        .collect();
    if d.is_empty() {
        return None;
    }
    d.sort_by(f64::total_cmp);
    let n = d.len();
    Some(if n % 2 == 1 {
        d[n / 2]
    } else {
        0.5 * (d[n / 2 - 1] + d[n / 2])
    })
}

/// The value at quantile `p` (0..1, nearest rank) of `v`, sorted here;
/// `None` when empty.
pub fn percentile(v: &[f64], p: f64) -> Option<f64> {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let i = ((s.len().checked_sub(1)?) as f64 * p.clamp(0.0, 1.0)).round() as usize;
    s.get(i).copied()
}

/// Drops beats before `t` seconds (mir_eval's `trim_beats`).
pub fn trim(beats: &[f64], t: f64) -> Vec<f64> {
    beats.iter().copied().filter(|&b| b >= t).collect()
}

/// The five metrical variations of a reference beat sequence that AMLt
/// accepts: as is, off-beat, double tempo, half tempo (odd), half tempo (even).
fn variations(reference: &[f64]) -> Vec<Vec<f64>> {
    let n = reference.len();
    let mut double = Vec::with_capacity(2 * n);
    for i in 0..n {
        double.push(reference[i]);
        if i + 1 < n {
            double.push(0.5 * (reference[i] + reference[i + 1]));
        }
    }
    let offbeat: Vec<f64> = double.iter().skip(1).step_by(2).copied().collect();
    let half_odd: Vec<f64> = reference.iter().step_by(2).copied().collect();
    let half_even: Vec<f64> = reference.iter().skip(1).step_by(2).copied().collect();
    vec![reference.to_vec(), offbeat, double, half_odd, half_even]
}

/// Cemgil accuracy (σ = 40 ms) on the reference as annotated.
pub fn cemgil(reference: &[f64], est: &[f64]) -> f64 {
    if reference.is_empty() || est.is_empty() {
        return 0.0;
    }
    let sigma = 0.04;
    let acc: f64 = reference
        .iter()
        .map(|&b| {
            let d = est
                .iter()
                .map(|&e| (b - e).abs())
                .fold(f64::INFINITY, f64::min);
            (-(d * d) / (2.0 * sigma * sigma)).exp()
        })
        .sum();
    acc / (0.5 * (est.len() + reference.len()) as f64)
}

/// Continuity scores (CMLc, CMLt, AMLc, AMLt), thresholds 17.5 %.
pub fn continuity(reference: &[f64], est: &[f64]) -> (f64, f64, f64, f64) {
    if reference.len() <= 1 || est.len() <= 1 {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let thr = 0.175;
    let mut cont = Vec::new();
    let mut total = Vec::new();
    for r in variations(reference) {
        let n = r.len().max(est.len());
        let mut used = vec![false; n];
        let mut ok = vec![false; n];
        for m in 0..est.len() {
            let (nearest, min_diff) = r
                .iter()
                .enumerate()
                .map(|(i, &x)| (i, (est[m] - x).abs()))
                .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
            if used[nearest] {
                continue;
            }
            let (ref_int, est_int) = if m == 0 || nearest == 0 {
                let ri = if nearest + 1 < r.len() {
                    r[nearest + 1] - r[nearest]
                } else {
                    r[nearest] - r[nearest - 1]
                };
                let ei = if m + 1 < est.len() {
                    est[m + 1] - est[m]
                } else {
                    est[m] - est[m - 1]
                };
                (ri, ei)
            } else {
                (r[nearest] - r[nearest - 1], est[m] - est[m - 1])
            };
            let (phase, period) = if ref_int == 0.0 {
                (
                    if min_diff == 0.0 { 1.0 } else { f64::INFINITY },
                    if est_int == 0.0 { 0.0 } else { f64::INFINITY },
                )
            } else {
                ((min_diff / ref_int).abs(), (1.0 - est_int / ref_int).abs())
            };
            if phase < thr && period < thr {
                used[nearest] = true;
                ok[m] = true;
            }
        }
        let mut longest = 0usize;
        let mut run = 0usize;
        for &s in &ok {
            if s {
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
        }
        cont.push(longest as f64 / n as f64);
        total.push(ok.iter().filter(|&&s| s).count() as f64 / n as f64);
    }
    let max = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    (cont[0], total[0], max(&cont), max(&total))
}

/// Tempo accuracy: (Acc1 within 4 %, Acc2 also at ×2, ×3, ×½, ×⅓).
pub fn tempo_accuracy(reference_bpm: f64, est_bpm: f64) -> (f64, f64) {
    if !(est_bpm.is_finite() && est_bpm > 0.0) {
        return (0.0, 0.0);
    }
    let within = |k: f64| (est_bpm - reference_bpm * k).abs() <= 0.04 * reference_bpm * k;
    let acc1 = if within(1.0) { 1.0 } else { 0.0 };
    let acc2 = if [1.0, 2.0, 3.0, 0.5, 1.0 / 3.0].iter().any(|&k| within(k)) {
        1.0
    } else {
        0.0
    };
    (acc1, acc2)
}

/// Beat scores of one clip.
#[derive(Clone, Copy, Debug, Default)]
pub struct BeatScores {
    /// F-measure, ±70 ms.
    pub f: f64,
    /// Cemgil accuracy.
    pub cemgil: f64,
    /// Correct metrical level, total.
    pub cmlt: f64,
    /// Any metrical level, total.
    pub amlt: f64,
    /// Median signed offset (s) of matched beats.
    pub offset: Option<f64>,
}

/// Scores beats the way `peer_eval.py` does: trims the first `trim_s`
/// seconds from both sequences (pass 0 for clips shorter than 20 s).
pub fn score_beats(reference: &[f64], est: &[f64], trim_s: f64) -> BeatScores {
    let r = trim(reference, trim_s);
    let e = trim(est, trim_s);
    if r.is_empty() || e.is_empty() {
        return BeatScores::default();
    }
    let (_, cmlt, _, amlt) = continuity(&r, &e);
    BeatScores {
        f: f_measure(&r, &e, 0.07),
        cemgil: cemgil(&r, &e),
        cmlt,
        amlt,
        offset: median_offset(&r, &e, 0.07),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_shifted_beats() {
        let r: Vec<f64> = (0..20).map(|i| 1.0 + 0.5 * f64::from(i)).collect();
        let s = score_beats(&r, &r, 0.0);
        assert_eq!((s.f, s.cmlt, s.amlt), (1.0, 1.0, 1.0));
        assert!((s.cemgil - 1.0).abs() < 1e-12);
        // Off-beat: wrong for CML, right for AML.
        let off: Vec<f64> = r.iter().map(|b| b + 0.25).collect();
        let s = score_beats(&r, &off, 0.0);
        assert_eq!(s.f, 0.0);
        assert_eq!(s.cmlt, 0.0);
        assert!(s.amlt > 0.9);
        // Double tempo estimate: half precision.
        let dbl: Vec<f64> = (0..40).map(|i| 1.0 + 0.25 * f64::from(i)).collect();
        let s = score_beats(&r, &dbl, 0.0);
        assert!((s.f - 2.0 * 0.5 / 1.5).abs() < 0.03, "{}", s.f);
    }

    #[test]
    fn onset_matching_is_one_to_one() {
        let r = [1.0, 1.04, 2.0];
        let e = [1.02, 3.0];
        assert_eq!(match_events(&r, &e, 0.05).len(), 1);
        assert!((f_measure(&r, &e, 0.05) - 0.4).abs() < 1e-12);
        assert_eq!(median_offset(&r, &e, 0.05), Some(1.02 - 1.0));
    }

    #[test]
    fn tempo_octaves() {
        assert_eq!(tempo_accuracy(120.0, 123.0), (1.0, 1.0));
        assert_eq!(tempo_accuracy(120.0, 240.0), (0.0, 1.0));
        assert_eq!(tempo_accuracy(120.0, 180.0), (0.0, 0.0));
        assert_eq!(tempo_accuracy(120.0, f64::NAN), (0.0, 0.0));
    }
}
