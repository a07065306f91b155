//! Two-parameter Weibull life-data analysis (pure): maximum-likelihood β
//! and η with right-censored suspensions, Fisher-matrix confidence bounds,
//! B10 life, reliability at an age, and a probability-plot table with
//! Johnson's adjusted ranks and Bernard's median ranks. Method and worked
//! example: docs/FRACAS.md, "Weibull analysis"; checked against the
//! NIST/SEMATECH e-Handbook §8.4.1.3 in `weibull_tests.rs`.
//!
//! The β equation of the profile likelihood is solved by bisection (it is
//! increasing in β); the normal quantile of the bounds comes from `statrs`.

use statrs::distribution::{ContinuousCDF, Normal};

/// Why a data set cannot be fitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeibullError {
    #[error("at least two failures at different ages are needed, got {0} failure(s)")]
    TooFewFailures(usize),
    #[error("an age must be a positive finite number")]
    BadAge,
    #[error("confidence must be above 0 and below 1")]
    BadConfidence,
}

/// One observation: an age at failure, or at suspension (still running).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub age: f64,
    pub failed: bool,
    /// How many units share it.
    pub count: u64,
}

impl Observation {
    pub fn failure(age: f64) -> Self {
        Self {
            age,
            failed: true,
            count: 1,
        }
    }

    pub fn suspension(age: f64, count: u64) -> Self {
        Self {
            age,
            failed: false,
            count,
        }
    }
}

/// A value with its lower and upper confidence bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounded {
    pub value: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The maximum-likelihood fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub beta: f64,
    pub eta: f64,
    pub failures: u64,
    pub suspensions: u64,
    pub log_likelihood: f64,
    /// Var β, Var η, Cov(β, η): the inverse of the local Fisher matrix.
    pub var_beta: f64,
    pub var_eta: f64,
    pub cov: f64,
}

/// Sums over all observations of (t/η)^β, × ln(t/η), × ln²(t/η).
fn sums(data: &[Observation], beta: f64, eta: f64) -> (f64, f64, f64) {
    data.iter().fold((0.0, 0.0, 0.0), |(a, b, c), o| {
        let n = o.count as f64;
        let l = (o.age / eta).ln();
        let p = (o.age / eta).powf(beta) * n;
        (a + p, b + p * l, c + p * l * l)
    })
}

/// The profile equation g(β) = Σt^β ln t / Σt^β − 1/β − mean ln t_fail.
/// Ages are scaled by the largest so the powers stay finite.
fn profile(data: &[Observation], beta: f64, mean_ln_fail: f64) -> f64 {
    let (s, sl, _) = sums(data, beta, 1.0);
    sl / s - 1.0 / beta - mean_ln_fail
}

/// Fits β and η by maximum likelihood. Ages are in any unit (the result
/// is in the same unit); a failure at age 0 must be given a small positive
/// age by the caller.
pub fn fit(data: &[Observation]) -> Result<Fit, WeibullError> {
    if data.iter().any(|o| !(o.age.is_finite() && o.age > 0.0)) {
        return Err(WeibullError::BadAge);
    }
    let failed: Vec<&Observation> = data.iter().filter(|o| o.failed && o.count > 0).collect();
    let r: u64 = failed.iter().map(|o| o.count).sum();
    let distinct = failed
        .iter()
        .any(|o| (o.age - failed[0].age).abs() > f64::EPSILON * o.age);
    if r < 2 || !distinct {
        return Err(WeibullError::TooFewFailures(
            usize::try_from(r).unwrap_or(0),
        ));
    }
    let scale = data.iter().map(|o| o.age).fold(0.0, f64::max);
    let scaled: Vec<Observation> = data
        .iter()
        .map(|o| Observation {
            age: o.age / scale,
            ..*o
        })
        .collect();
    let rf = r as f64;
    let mean_ln = failed
        .iter()
        .map(|o| o.count as f64 * (o.age / scale).ln())
        .sum::<f64>()
        / rf;
    // g rises from −∞ (β → 0) to a positive limit: bracket, then bisect.
    let (mut lo, mut hi) = (1e-3, 1.0);
    while profile(&scaled, hi, mean_ln) < 0.0 && hi < 1e4 {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if profile(&scaled, mid, mean_ln) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    let beta = 0.5 * (lo + hi);
    let (s, _, _) = sums(&scaled, beta, 1.0);
    let eta = scale * (s / rf).powf(1.0 / beta);
    Ok(information(data, beta, eta, rf))
}

/// The log-likelihood and the inverse of the local Fisher matrix at (β, η).
fn information(data: &[Observation], beta: f64, eta: f64, r: f64) -> Fit {
    let (p, pl, pll) = sums(data, beta, eta);
    let sum_ln_fail: f64 = data
        .iter()
        .filter(|o| o.failed)
        .map(|o| o.count as f64 * o.age.ln())
        .sum();
    let log_likelihood = r * (beta.ln() - beta * eta.ln()) + (beta - 1.0) * sum_ln_fail - p;
    // Minus the second derivatives of the log-likelihood.
    let f_bb = r / (beta * beta) + pll;
    let f_ee = -(r * beta) / (eta * eta) + beta * (beta + 1.0) / (eta * eta) * p;
    let f_be = r / eta - (p + beta * pl) / eta;
    let det = f_bb * f_ee - f_be * f_be;
    let suspensions = data.iter().filter(|o| !o.failed).map(|o| o.count).sum();
    Fit {
        beta,
        eta,
        failures: r as u64,
        suspensions,
        log_likelihood,
        var_beta: f_ee / det,
        var_eta: f_bb / det,
        cov: -f_be / det,
    }
}

/// The two-sided standard normal quantile for `confidence` (0.9 → 1.645).
pub fn z(confidence: f64) -> Result<f64, WeibullError> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(WeibullError::BadConfidence);
    }
    Normal::new(0.0, 1.0)
        .map(|n| n.inverse_cdf(0.5 + confidence / 2.0))
        .map_err(|_| WeibullError::BadConfidence)
}

impl Fit {
    /// β with Fisher-matrix bounds (log-transformed: always positive).
    pub fn beta_bounds(&self, z: f64) -> Bounded {
        let k = (z * self.var_beta.sqrt() / self.beta).exp();
        Bounded {
            value: self.beta,
            lower: self.beta / k,
            upper: self.beta * k,
        }
    }

    /// η with Fisher-matrix bounds (log-transformed).
    pub fn eta_bounds(&self, z: f64) -> Bounded {
        let k = (z * self.var_eta.sqrt() / self.eta).exp();
        Bounded {
            value: self.eta,
            lower: self.eta / k,
            upper: self.eta * k,
        }
    }

    /// R(t) = exp(−(t/η)^β), bounded through u = β(ln t − ln η).
    pub fn reliability(&self, age: f64, z: f64) -> Bounded {
        let (b, e) = (self.beta, self.eta);
        let u = b * (age.ln() - e.ln());
        let (du_db, du_de) = (u / b, -b / e);
        let var = du_db * du_db * self.var_beta
            + du_de * du_de * self.var_eta
            + 2.0 * du_db * du_de * self.cov;
        let sd = var.max(0.0).sqrt();
        let r = |u: f64| (-(u.exp())).exp();
        Bounded {
            value: r(u),
            lower: r(u + z * sd),
            upper: r(u - z * sd),
        }
    }

    /// The age by which a share `p` (0.1 for B10) has failed, bounded
    /// through ln T = ln η + ln(−ln(1−p)) / β.
    pub fn life(&self, p: f64, z: f64) -> Bounded {
        let (b, e) = (self.beta, self.eta);
        let q = (-(1.0 - p).ln()).ln();
        let ln_t = e.ln() + q / b;
        let (d_db, d_de) = (-q / (b * b), 1.0 / e);
        let var =
            d_db * d_db * self.var_beta + d_de * d_de * self.var_eta + 2.0 * d_db * d_de * self.cov;
        let sd = var.max(0.0).sqrt();
        Bounded {
            value: ln_t.exp(),
            lower: (ln_t - z * sd).exp(),
            upper: (ln_t + z * sd).exp(),
        }
    }

    /// Unreliability F(t) = 1 − R(t), the fitted line of the plot.
    pub fn unreliability(&self, age: f64) -> f64 {
        1.0 - (-(age / self.eta).powf(self.beta)).exp()
    }
}

/// One failure on the probability plot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotPoint {
    pub age: f64,
    /// Johnson's adjusted rank (the order number, suspensions accounted for).
    pub adjusted_rank: f64,
    /// Bernard's approximation of the median rank, (i − 0.3) / (N + 0.4).
    pub median_rank: f64,
    /// Weibull paper coordinates: x = ln t, y = ln(−ln(1 − F)).
    pub x: f64,
    pub y: f64,
}

/// The probability-plot table: every failure in age order (suspensions at
/// the same age come after the failures), each with its adjusted rank
/// i = i_prev + (N + 1 − i_prev) / (1 + units at or beyond it − 1), i.e.
/// (reverse rank × i_prev + N + 1) / (reverse rank + 1).
pub fn plot(data: &[Observation]) -> Vec<PlotPoint> {
    let mut sorted: Vec<&Observation> = data.iter().filter(|o| o.count > 0).collect();
    sorted.sort_by(|a, b| a.age.total_cmp(&b.age).then(b.failed.cmp(&a.failed)));
    let n: u64 = sorted.iter().map(|o| o.count).sum();
    let nf = n as f64;
    let mut remaining = n;
    let mut rank = 0.0;
    let mut out = Vec::new();
    for o in sorted {
        if !o.failed {
            remaining -= o.count;
            continue;
        }
        for _ in 0..o.count {
            let reverse = remaining as f64;
            rank = (reverse * rank + nf + 1.0) / (reverse + 1.0);
            let median_rank = (rank - 0.3) / (nf + 0.4);
            out.push(PlotPoint {
                age: o.age,
                adjusted_rank: rank,
                median_rank,
                x: o.age.ln(),
                y: (-(1.0 - median_rank).ln()).ln(),
            });
            remaining -= 1;
        }
    }
    out
}
