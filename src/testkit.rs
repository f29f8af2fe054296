//! Shared test and bench fixtures: one seeded random source, so every unit test,
//! integration test and benchmark that builds random cases builds the same ones on every
//! run. Not part of the product's API.

/// Uniform numbers in [0, 1) from a seeded xorshift (13, 7, 17): deterministic,
/// dependency-free, the same sequence everywhere it is used.
///
/// ```
/// let mut a = carecircle::testkit::xorshift(42);
/// let mut b = carecircle::testkit::xorshift(42);
/// let (x, y) = (a(), b());
/// assert_eq!(x, y);
/// assert!((0.0..1.0).contains(&x));
/// ```
pub fn xorshift(mut seed: u64) -> impl FnMut() -> f64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    }
}
