//! Coverage and gaps: policy rules as data ([`rules`]), the demand model ([`demand`]), the
//! distance interface ([`access`]: Euclidean now, walking network later) and the analysis
//! that turns them into a [`Report`].

pub mod access;
pub mod analysis;
pub mod demand;
pub mod equity;
pub mod measure;
pub mod network_access;
pub mod rules;
pub mod scenario;

pub use access::{Accessibility, DistanceMode, Euclidean, Reach};
pub use analysis::{analyze, analyze_reusing, demand_key, Options, Report, RuleResult, UnitResult};
pub use demand::{build_demand, DemandModel};
pub use network_access::NetworkAccess;
pub use rules::{Rule, RuleSet, Settings, Test};
pub use scenario::{Scenario, WalkSpeed};
