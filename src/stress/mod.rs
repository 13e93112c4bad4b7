//! Scale-true stress runs: progress while a run goes, and the JSON result each run leaves for
//! the next to be compared with.

mod progress;
pub use progress::{Progress, ProgressMode, CHECK_EVERY, DEFAULT_LINE_INTERVAL};

mod result;
pub use result::{
    GrowthSource, MemoryGrowth, ResultError, RuleLatency, StressResult, Verdict, FORMAT_VERSION,
};

mod compare;
pub use compare::{compare, Comparison, MetricKind, Row, Tolerances};
