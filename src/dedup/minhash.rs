//! MinHash signatures and their LSH bands.

use crate::text::{mix64, stable_hash};

/// Hash functions in a signature.
pub const PERMUTATIONS: usize = 128;
/// LSH bands (the last `PERMUTATIONS - BANDS * ROWS` values are in none).
pub const BANDS: usize = 42;
/// Signature values per band.
pub const ROWS: usize = 3;
const _: () = assert!(BANDS * ROWS <= PERMUTATIONS);

/// Seed of the hash family. Part of the stored format: changing it (or
/// [`PERMUTATIONS`], [`BANDS`], the shingle size or the normalization)
/// invalidates every stored fingerprint.
const SEED: u64 = 0x6b75_6169_6261_6f31; // "kuaibao1"

/// The hash family's coefficients, `a` (odd) and `b` in separate arrays so
/// the signature loop reads both as vectors.
struct Coeffs {
    a: [u64; PERMUTATIONS],
    b: [u64; PERMUTATIONS],
}

static COEFFS: std::sync::LazyLock<Coeffs> = std::sync::LazyLock::new(|| {
    let mut state = SEED;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(state)
    };
    let mut coeffs = Coeffs {
        a: [0; PERMUTATIONS],
        b: [0; PERMUTATIONS],
    };
    // Drawn in (a, b) pairs: the order is part of the stored format.
    for (a, b) in coeffs.a.iter_mut().zip(coeffs.b.iter_mut()) {
        *a = next() | 1;
        *b = next();
    }
    coeffs
});

/// The minimum of each hash function over `shingles`. Inlined into each
/// target-specific copy below, where it compiles to vector multiplies.
#[inline(always)]
fn minimums(shingles: &[u64], coeffs: &Coeffs) -> [u64; PERMUTATIONS] {
    let mut mins = [u64::MAX; PERMUTATIONS];
    for &x in shingles {
        for ((m, &a), &b) in mins.iter_mut().zip(&coeffs.a).zip(&coeffs.b) {
            *m = (*m).min(a.wrapping_mul(x).wrapping_add(b));
        }
    }
    mins
}

/// [`minimums`] with AVX-512's 64-bit vector multiply (eight lanes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn minimums_avx512(shingles: &[u64], coeffs: &Coeffs) -> [u64; PERMUTATIONS] {
    minimums(shingles, coeffs)
}

/// [`minimums`] with AVX2 (four lanes; the 64-bit multiply is built from
/// 32-bit ones).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn minimums_avx2(shingles: &[u64], coeffs: &Coeffs) -> [u64; PERMUTATIONS] {
    minimums(shingles, coeffs)
}

/// [`minimums`] with the widest vectors this CPU has: fingerprinting was
/// the poller's largest single cost, and the release build targets every
/// x86-64 CPU. Integer arithmetic: every copy gives the same signature.
fn signature_minimums(shingles: &[u64]) -> [u64; PERMUTATIONS] {
    let coeffs = &*COEFFS;
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the features it was compiled for are present.
            return unsafe { minimums_avx512(shingles, coeffs) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { minimums_avx2(shingles, coeffs) };
        }
    }
    minimums(shingles, coeffs)
}

/// A story's fingerprint: its MinHash signature and the size of the shingle
/// set it was computed from (needed to turn an estimated Jaccard into an
/// estimated containment).
#[derive(Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Number of distinct shingles.
    pub shingles: u32,
    /// Minimum of each hash function over the shingles (upper 32 bits).
    pub minhash: [u32; PERMUTATIONS],
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fingerprint")
            .field("shingles", &self.shingles)
            .field("minhash[..4]", &&self.minhash[..4])
            .finish()
    }
}

impl Fingerprint {
    /// Bytes of [`Fingerprint::to_blob`].
    pub const BLOB_LEN: usize = PERMUTATIONS * 4;

    /// The signature of a shingle set (see [`super::shingle::shingles`]).
    ///
    /// Hash `i` of shingle `x` is `(a_i·x + b_i) mod 2^64`, keeping the upper
    /// 32 bits: the multiply-add-shift universal family. `x` is already a
    /// well-mixed 64-bit hash, and this family is several times faster than
    /// `(a·x+b) mod p` with a 61-bit prime (no 128-bit product, and the loop
    /// vectorizes), which matters for a million-item backfill.
    pub fn from_shingles(shingles: &[u64]) -> Fingerprint {
        let mins = signature_minimums(shingles);
        Fingerprint {
            shingles: u32::try_from(shingles.len()).unwrap_or(u32::MAX),
            minhash: std::array::from_fn(|i| (mins[i] >> 32) as u32),
        }
    }

    /// The LSH band keys: band `i` hashes signature values
    /// `i*ROWS..(i+1)*ROWS` with the band number, so equal keys in one band
    /// mean those `ROWS` values agree. Two stories with Jaccard `s` share at
    /// least one band with probability `1 - (1 - s^3)^42`: 0.68 at s = 0.3,
    /// 0.94 at 0.4, 0.996 at 0.5; 0.13 at 0.15 (shared boilerplate),
    /// 4·10⁻⁵ at 0.01 (unrelated articles of one field).
    /// An empty text has no bands.
    pub fn bands(&self) -> Vec<(u8, i64)> {
        if self.shingles == 0 {
            return Vec::new();
        }
        (0..BANDS)
            .map(|band| {
                let mut bytes = [0u8; 1 + ROWS * 4];
                bytes[0] = band as u8;
                for (r, v) in self.minhash[band * ROWS..(band + 1) * ROWS]
                    .iter()
                    .enumerate()
                {
                    bytes[1 + r * 4..5 + r * 4].copy_from_slice(&v.to_le_bytes());
                }
                (band as u8, stable_hash(&bytes) as i64)
            })
            .collect()
    }

    /// Estimated Jaccard similarity: the share of agreeing signature values.
    pub fn jaccard(&self, other: &Fingerprint) -> f64 {
        if self.shingles == 0 || other.shingles == 0 {
            return 0.0;
        }
        let agree = self
            .minhash
            .iter()
            .zip(other.minhash.iter())
            .filter(|(a, b)| a == b)
            .count();
        agree as f64 / PERMUTATIONS as f64
    }

    /// Estimated containment |A∩B| / min(|A|,|B|), from the estimated
    /// Jaccard J and the set sizes: |A∩B| = J·(|A|+|B|)/(1+J).
    pub fn containment(&self, other: &Fingerprint) -> f64 {
        let j = self.jaccard(other);
        let (a, b) = (f64::from(self.shingles), f64::from(other.shingles));
        if a == 0.0 || b == 0.0 {
            return 0.0;
        }
        (j * (a + b) / (1.0 + j) / a.min(b)).min(1.0)
    }

    /// Little-endian signature values, [`Fingerprint::BLOB_LEN`] bytes.
    pub fn to_blob(&self) -> Vec<u8> {
        self.minhash.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// The inverse of [`Fingerprint::to_blob`]; `None` for a blob of the wrong length.
    pub fn from_blob(shingles: u32, blob: &[u8]) -> Option<Fingerprint> {
        if blob.len() != Self::BLOB_LEN {
            return None;
        }
        let mut minhash = [0u32; PERMUTATIONS];
        for (v, chunk) in minhash.iter_mut().zip(blob.chunks_exact(4)) {
            *v = u32::from_le_bytes(chunk.try_into().ok()?);
        }
        Some(Fingerprint { shingles, minhash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::shingle::{normalize, shingles};

    #[test]
    fn estimates_track_exact_similarity() {
        let base: String =
            "人力资源社会保障部印发通知开展专业技术人才管理服务改革试点工作利用两年时间".repeat(3)
                + "各省份专业技术人才工作管理部门要高度重视精心组织建立试点实施工作推进机制";
        let a = shingles(&normalize(&base), 5);
        let half: String = base.chars().take(base.chars().count() / 2).collect();
        let b = shingles(&normalize(&half), 5);
        let (fa, fb) = (
            Fingerprint::from_shingles(&a),
            Fingerprint::from_shingles(&b),
        );
        assert!(fa.containment(&fb) > 0.8, "{}", fa.containment(&fb));
        assert_eq!(
            Fingerprint::from_blob(fa.shingles, &fa.to_blob()),
            Some(fa.clone())
        );
        assert_eq!(fa.bands().len(), BANDS);
        assert!(fa.bands().iter().zip(fb.bands()).any(|(x, y)| *x == y));
    }

    #[test]
    fn every_vector_width_computes_the_portable_signature() {
        let shingles: Vec<u64> = (0..1_000u64).map(crate::text::mix64).collect();
        let portable = minimums(&shingles, &COEFFS);
        assert_eq!(signature_minimums(&shingles), portable);
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: checked just above.
                assert_eq!(unsafe { minimums_avx2(&shingles, &COEFFS) }, portable);
            }
            if std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                // SAFETY: checked just above.
                assert_eq!(unsafe { minimums_avx512(&shingles, &COEFFS) }, portable);
            }
        }
    }
}

#[cfg(test)]
mod golden {
    use crate::dedup::{DedupConfig, fingerprint};

    /// Stored fingerprints must compare with new ones: if this changes, the
    /// stored tables need a rebuild (and this value an update, knowingly).
    #[test]
    fn fingerprint_is_stable_across_versions() {
        let fp = fingerprint(
            "人力资源社会保障部印发通知，开展专业技术人才管理服务改革试点工作。",
            &DedupConfig::default(),
        );
        assert_eq!(fp.shingles, 27);
        assert_eq!(
            &fp.minhash[..4],
            &[237417360, 3643088, 138914948, 282668936]
        );
        assert_eq!(fp.bands()[0], (0, -511793634466661528));
    }
}
