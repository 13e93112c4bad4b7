//! Stateful property testing for Rust.
//!
//! # Why
//!
//! A unit test runs one input of one shape: put a key, read it back, assert. Production runs
//! *sequences*: a put, two deletes, a get of a key that was never written, a transfer from an
//! account to itself; later, from several threads at once and at a scale no test reaches. Bugs live
//! in those sequences, and nobody writes them all by hand.
//!
//! stateprop writes them for you. You give it an obviously-correct **model** of your system (a
//! `BTreeMap` for a key-value store, a `u64` for a counter) and an enum of **operations**.
//! `#[derive(StateMachine)]` turns the enum into a state machine. stateprop generates programs of
//! operations, runs every step against your real system *and* the model, compares the answers and
//! checks your invariants after each step. When a check fails, it shrinks the program to a minimal
//! one and prints it as a `#[test]` you paste into your suite.
//!
//! # The smallest complete example
//!
//! A model of a key-value store, its operations, and the adapter that drives the real store
//! (here a `HashMap` stands in for it):
//!
//! ```
//! use stateprop::prelude::*;
//! use std::collections::{BTreeMap, HashMap};
//!
//! /// The model: obviously correct, because it is just a map.
//! #[derive(Debug, Clone, Default)]
//! struct Kv {
//!     map: BTreeMap<u8, u32>,
//! }
//!
//! /// One variant per operation. Fields are the operation's arguments.
//! #[derive(Debug, Clone, StateMachine)]
//! #[state_machine(model = Kv)]
//! enum KvOp {
//!     #[rule(weight = 3)]
//!     Put {
//!         #[strategy(0..8u8)]
//!         key: u8,
//!         value: u32,
//!     },
//!     Get {
//!         #[strategy(0..8u8)]
//!         key: u8,
//!     },
//!     #[rule(precondition = |m: &Kv| !m.map.is_empty())]
//!     Delete {
//!         #[strategy(|m: &Kv| pick(m.map.keys().copied()))]
//!         key: u8,
//!     },
//! }
//!
//! impl Model for Kv {
//!     type Op = KvOp;
//!     type Output = Option<u32>;
//!
//!     /// What a correct store answers.
//!     fn step(&mut self, op: &KvOp) -> Option<u32> {
//!         match *op {
//!             KvOp::Put { key, value } => self.map.insert(key, value),
//!             KvOp::Get { key } => self.map.get(&key).copied(),
//!             KvOp::Delete { key } => self.map.remove(&key),
//!         }
//!     }
//! }
//!
//! /// The system under test.
//! #[derive(Default)]
//! struct MyStore {
//!     table: HashMap<u8, u32>,
//! }
//!
//! impl System<Kv> for MyStore {
//!     fn apply(&mut self, op: &KvOp) -> Option<u32> {
//!         match *op {
//!             KvOp::Put { key, value } => self.table.insert(key, value),
//!             KvOp::Get { key } => self.table.get(&key).copied(),
//!             KvOp::Delete { key } => self.table.remove(&key),
//!         }
//!     }
//!
//!     fn invariant(&self, model: &Kv) -> Result<(), String> {
//!         if self.table.len() == model.map.len() {
//!             Ok(())
//!         } else {
//!             Err(format!("store holds {} keys, model {}", self.table.len(), model.map.len()))
//!         }
//!     }
//! }
//!
//! #[test]
//! fn store_matches_model() {
//!     // 50 cases keep this example quick; the default is 1,000.
//!     stateprop::check_sequential::<Kv, MyStore>(Config::default().cases(50));
//! }
//! # // Doc tests are not built with `--test`, so `#[test]` functions vanish; run the same call.
//! # fn main() {
//! #     stateprop::check_sequential::<Kv, MyStore>(Config::default().cases(50));
//! # }
//! ```
//!
//! - The [`Model`] says what every operation returns; [`System::apply`] asks the real system.
//!   An answer that differs from the model's fails the step (override [`Model::outputs_match`] when
//!   several answers are right). [`System::invariant`] runs after every step.
//! - `#[rule(weight = 3)]` makes `Put` three times as likely as a weight-1 rule; a
//!   `precondition` keeps `Delete` out of states where it makes no sense. Generation only ever
//!   picks enabled rules, so there are no rejected cases.
//! - `#[strategy(...)]` chooses a field's values: a proptest
//!   [`Strategy`](proptest::strategy::Strategy) such as `0..8u8`, or a closure that reads the
//!   current model state, like `Delete`'s: [`pick`](strategy::pick) chooses one of the keys the
//!   model holds, without copying them, and the strategy may borrow the model. A field without
//!   one gets a default: integers biased toward boundary values ([`strategy::boundary_biased`]),
//!   other types proptest's `Arbitrary`. Every attribute is described in `docs/attributes.md`.
//! - [`check_sequential`] builds a fresh model and a fresh `MyStore::default()` for every case;
//!   [`check_sequential_with`] takes a factory instead, and [`Runner`] returns the report rather
//!   than panicking.
//! - A system shared by threads implements [`ConcurrentSystem`] (`&self`) instead, or
//!   [`ClientSystem`] when each thread calls it through a client of its own (a connection, a
//!   session); [`check_concurrent`] runs a prefix, then branches on real threads, each case many times,
//!   and checks every history for linearizability against the model; a race shrinks like any
//!   failure and is pasted as a [`replay_concurrent`] test (`docs/concurrent.md`,
//!   `examples/ticket_dispenser.rs`). With the `shuttle` feature, a system written against
//!   [`sync`] runs under a controlled scheduler instead ([`Config::scheduler`]): the
//!   interleaving comes from a seed, races of a few instructions are found in every seed, and
//!   the pasted [`replay_concurrent_scheduled`] test replays the schedules.
//!   With the cargo feature `tokio`, an `async` system implements `AsyncSystem` and
//!   `check_async` runs its branches as tasks on a multi-threaded runtime
//!   (`examples/async_dispenser.rs`).
//! - A distributed system implements [`sim::Node`] for each of its nodes; [`check_simulated`]
//!   runs generated programs of client requests, network events and faults on a deterministic
//!   simulated cluster, judges the client history, shrinks the faults with the rest, and
//!   pastes a [`replay_simulated`] test (`docs/simulation.md`, `examples/replicated_register.rs`).
//!
//! # Running
//!
//! `cargo test` runs the test like any other (so does `cargo nextest run`). The [`Config`] in the
//! code sets the defaults; environment variables override it without editing the test, which is how
//! CI scales a run up or reproduces one:
//!
//! ```text
//! STATEPROP_SEED=7423697292751233 cargo test store_matches_model   # repeat a run exactly
//! STATEPROP_CASES=10000 cargo test                                 # more programs per test
//! STATEPROP_DURATION=10m cargo test store_matches_model            # generate for ten minutes
//! ```
//!
//! | Variable | Meaning | Default |
//! |---|---|---|
//! | `STATEPROP_SEED` | run seed, decimal or `0x` hex; every random choice derives from it | from the clock, printed on failure |
//! | `STATEPROP_CASES` | programs to generate ([`Config::cases`]) | 1,000 (256 for a concurrent run) |
//! | `STATEPROP_STEPS` | program length: `30`, `1..50` or `1..=50` ([`Config::steps`]) | `1..=32` |
//! | `STATEPROP_DURATION` | generate until this much time has passed, instead of counting cases | none |
//! | `STATEPROP_MAX_SHRINK_TIME` | wall-clock budget for shrinking | `60s` |
//! | `STATEPROP_MAX_SHRINK_RUNS` | most candidate programs the shrinker runs | 100000 |
//! | `STATEPROP_RERUNS` | runs of each shrink candidate and of the final program, for failures that show only sometimes; the report gives the reproduction rate ([`Config::reruns`]) | 1 |
//! | `STATEPROP_FAILURES` | keep going until this many failing cases, shrink each, report the shortest ([`Config::failures`]) | 1 |
//! | `STATEPROP_VERBOSE` | `1`: add a step-by-step trace of the minimal program to the report, and print a passing run's coverage (rules, swarm, program lengths, labels) | 0 |
//! | `STATEPROP_SWARM` | `0` turns off swarm testing (half the cases enable a random subset of the rules, the other half all of them) | on |
//! | `STATEPROP_REPORT` | also write the report as JSON to this file, or to `<test name>.json` in it if it is a directory or ends in `/` (`docs/report-schema.md`) | none |
//! | `STATEPROP_PERSIST` | `0` neither replays nor saves regression files | on |
//! | `STATEPROP_REGRESSIONS` | path of the regression file | `<test file stem>.stateprop-regressions` beside the test |
//! | `STATEPROP_STEP_TIMEOUT` | a call to [`System::apply`] running longer than this is reported as a hang | `60s` |
//! | `STATEPROP_BRANCHES` | branches of a concurrent program, 2 to 8 ([`Config::branches`]) | 2 |
//! | `STATEPROP_BRANCH_STEPS` | steps per branch of a concurrent program ([`Config::branch_steps`]) | `1..=4` |
//! | `STATEPROP_PREFIX_STEPS` | steps of a concurrent program's prefix ([`Config::prefix_steps`]) | `0..=4` |
//! | `STATEPROP_REPEATS` | runs on threads of each concurrent case and candidate ([`Config::repeats`]) | 20 |
//! | `STATEPROP_SCHEDULER` | `threads`, or `pct` / `random` under the `shuttle` feature ([`Config::scheduler`]) | `threads` |
//! | `STATEPROP_SCHEDULE_SEED` | the seed the controlled scheduler's schedules derive from ([`Config::schedule_seed`]) | 0 |
//! | `STATEPROP_SHARD` | `k/n`: run shard `k` of a campaign of `n`, the seed's cases `k-1`, `k-1+n`, ... ([`Config::shard`], [`shards`], `docs/campaigns.md`) | none |
//!
//! Durations read `500ms`, `30s`, `10m`, `1h` (a bare number is seconds, at most 10^10 s; the
//! same parser, [`units::parse_duration`], reads the `stateprop` command's options);
//! switches read `0`/`1` (or `false`/`true`, `no`/`yes`, `off`/`on`); numbers may use `_`
//! separators. A value that does not parse, or is not valid Unicode, stops the test with a
//! message naming the variable; an empty value is ignored. A run that tests nothing
//! (`STATEPROP_CASES=0`, or programs of 0 steps) passes with a warning saying so.
//!
//! A test that pins its seed, case count or lengths and asserts what they give (a test of the
//! test, a fixed-seed example) should not change meaning when CI exports `STATEPROP_SEED`:
//! [`Config::ignore_env`] makes the runner use the `Config` exactly as written. A program that
//! loops over seeds uses it too, rather than removing variables from its own environment.
//!
//! proptest's variables are honoured when the `STATEPROP_` one is not set: `PROPTEST_CASES`,
//! `PROPTEST_MAX_SHRINK_TIME` (in milliseconds, `0` meaning no limit), `PROPTEST_MAX_SHRINK_ITERS`,
//! `PROPTEST_VERBOSE`; and setting `PROPTEST_DISABLE_FAILURE_PERSISTENCE` to anything turns
//! persistence off. Long runs and campaigns split over CI machines are described in
//! `docs/campaigns.md`.
//!
//! # When a test fails
//!
//! Suppose `MyStore` kept a one-entry read cache that `Delete` forgets to clear, and the test
//! lives in `tests/kv.rs`. `cargo test` fails with this report (real output, from
//! `STATEPROP_SEED=7423697292751233 cargo test --test kv store_matches_model`; stateprop's own
//! `tests/kv.rs` is this test, and checks that the reports on this page are the ones it prints):
//!
//! ```text
//! stateprop: `store_matches_model` failed
//! stateprop: cause: postcondition failed at step 2 of 3: KvOp::Get { key: 0 } returned Some(0), model says None
//! stateprop: minimal program (3 steps, shrunk from 11 steps in 11 runs):
//! stateprop:    0. KvOp::Put { key: 0, value: 0 }
//! stateprop:    1. KvOp::Delete { key: 0 }
//! stateprop:    2. KvOp::Get { key: 0 }
//! stateprop: found by case 33
//! stateprop: seed 7423697292751233 (rerun exactly: STATEPROP_SEED=7423697292751233 STATEPROP_CASES=34 cargo test --test kv store_matches_model -- --exact)
//! stateprop: statistics: 34 cases, 473 steps; shrink: 11 runs, 6 skipped as duplicates
//! stateprop: rules: Put 251 (53%), Get 141 (30%), Delete 81 (17%)
//! stateprop: saved to tests/kv.stateprop-regressions: replayed first on every run; commit it
//! stateprop: paste this test to keep the case:
//! #[test]
//! fn regression_store_matches_model_6caf() {
//!     stateprop::replay::<Kv, MyStore>(&[
//!         KvOp::Put { key: 0, value: 0 },
//!         KvOp::Delete { key: 0 },
//!         KvOp::Get { key: 0 },
//!     ]);
//! }
//! ```
//!
//! Read it top to bottom:
//!
//! 1. **Cause**: which check failed, at which step (counted from 0) and with which operation. A
//!    postcondition failure shows the system's answer and the model's; the other causes are a
//!    broken invariant, a panic in the system, a panic in the model (a bug in the specification),
//!    a `Var` the system's outputs cannot resolve, and a hang.
//! 2. **Minimal program**: the shrunk steps, numbered as the cause numbers them. Removing any one
//!    of them makes the failure go away.
//! 3. **Seed and rerun command**: the command sets the seed and the number of cases the run got
//!    through, so it reaches the failing case even when the test's `Config` asks for fewer. If
//!    the environment had changed `STATEPROP_STEPS`, `STATEPROP_SWARM` or `STATEPROP_FAILURES`,
//!    the command sets them too. The same seed gives the same cases, the same shrink and the same
//!    report, byte for byte. One catch: saved regression cases are replayed first, so once this
//!    case is saved, the command reports it again from the file; add `STATEPROP_PERSIST=0` to
//!    repeat the generated run itself. A failure that came from the regression file needs no
//!    seed, and its report has a `rerun:` line instead (shown below). The command names the
//!    test target (`--test kv`, `--lib`, ...) and the test's full path with `--exact`, since a
//!    bare filter also runs every test whose name contains it; a run started from an example or
//!    a binary's `main` gets `cargo run --example NAME` or `cargo run --bin NAME`. Wall-clock
//!    figures are kept off the report, on a separate `stateprop: timing:` line.
//! 4. **Statistics**: cases and steps run, and how often each rule was generated. A rule near 0%
//!    over many cases points to a precondition that rarely holds.
//! 5. **Saved to**: the shrunk program was appended to the regression file beside the test.
//!    Every later run of the test replays it before generating anything, so the failure reappears
//!    at once until it is fixed. Commit the file.
//! 6. **Paste this test**: a `#[test]` that replays the program through [`replay`]. Put it in,
//!    say, `tests/regressions.rs` with the model and system in scope: it fails until the bug is
//!    fixed, then guards against its return. A test that used [`check_sequential_with`] gets a
//!    [`replay_with`] call instead. It compiles as printed (and fails in the `todo!()`); replace
//!    the `todo!()` with the factory the test uses:
//!
//!    ```text
//!    #[test]
//!    fn regression_store_matches_model_with_6caf() {
//!        stateprop::replay_with::<Kv, MyStore>(
//!            Kv::default(),
//!            || -> MyStore { todo!("build the system as the test does") },
//!            &[
//!                KvOp::Put { key: 0, value: 0 },
//!                KvOp::Delete { key: 0 },
//!                KvOp::Get { key: 0 },
//!            ],
//!        );
//!    }
//!    ```
//!
//! To watch the program run, rerun with `STATEPROP_VERBOSE=1`. Run after the failure above, the
//! case now comes from the regression file, and the report gains a trace of each step's answers
//! from both sides (an excerpt):
//!
//! ```text
//! stateprop: trace of the minimal program:
//! stateprop:   step 0: KvOp::Put { key: 0, value: 0 } -> system None, model None
//! stateprop:   step 1: KvOp::Delete { key: 0 } -> system Some(0), model Some(0)
//! stateprop:   step 2: KvOp::Get { key: 0 } -> system Some(0), model None
//! stateprop: found by replaying the case saved at tests/kv.stateprop-regressions:5
//! stateprop: rerun: cargo test --test kv store_matches_model -- --exact (saved cases are replayed before any new one)
//! ```
//!
//! The variable works for a pasted [`replay`] test too, and every step is also a `stateprop_step`
//! [`tracing`](https://docs.rs/tracing) span at trace level, for a subscriber you install.
//!
//! The regression file holds one JSON line per saved program, keyed by the test's name (its
//! format is in `docs/report-schema.md`). A saved case whose operations no longer parse, or whose
//! preconditions no longer hold after the model changed, is skipped with a message naming its line.
//! Delete a line once its case no longer matters; after renaming a test, rename its entries too.
//!
//! # Handles from earlier steps: `Var<T>`
//!
//! Many systems hand out values the test cannot predict: ids, handles, file descriptors. An
//! operation that needs one holds a [`Var<T>`](Var), a reference to the step that returned it. The
//! generator fills `Var` fields itself, choosing among the earlier steps whose output holds a `T`
//! ([`FromOutput`] says which), and a rule stays disabled until such a step exists. When the
//! operation runs, the model's copy is bound to the value *the model* returned and the system's
//! copy to the value *the system* returned:
//!
//! ```
//! use stateprop::prelude::*;
//! use std::collections::BTreeMap;
//!
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
//! struct Id(u64);
//!
//! #[derive(Debug, Clone, PartialEq)]
//! enum Out {
//!     Created(Id),
//!     Value(u32),
//! }
//!
//! /// `Var<Id>` may refer to any step that answered `Created`.
//! impl FromOutput<Out> for Id {
//!     fn from_output(output: &Out) -> Option<Id> {
//!         match output {
//!             Out::Created(id) => Some(*id),
//!             _ => None,
//!         }
//!     }
//! }
//!
//! #[derive(Debug, Clone, Default)]
//! struct Cells {
//!     cells: BTreeMap<Id, u32>,
//! }
//!
//! #[derive(Debug, Clone, StateMachine)]
//! #[state_machine(model = Cells)]
//! enum CellOp {
//!     Create { value: u32 },
//!     Read { cell: Var<Id> }, // no strategy: chosen among earlier `Create`s
//! }
//!
//! impl Model for Cells {
//!     type Op = CellOp;
//!     type Output = Out;
//!
//!     fn step(&mut self, op: &CellOp) -> Out {
//!         match op {
//!             CellOp::Create { value } => {
//!                 let id = Id(self.cells.len() as u64);
//!                 self.cells.insert(id, *value);
//!                 Out::Created(id)
//!             }
//!             CellOp::Read { cell } => Out::Value(self.cells[&**cell]),
//!         }
//!     }
//!
//!     /// The system picks its own ids, so any `Created` answers a `Create`.
//!     fn outputs_match(&self, _: &CellOp, expected: &Out, actual: &Out) -> bool {
//!         matches!((expected, actual), (Out::Created(_), Out::Created(_))) || expected == actual
//!     }
//! }
//!
//! /// The system under test numbers its cells its own way.
//! #[derive(Default)]
//! struct CellStore {
//!     cells: Vec<(Id, u32)>,
//! }
//!
//! impl System<Cells> for CellStore {
//!     fn apply(&mut self, op: &CellOp) -> Out {
//!         match op {
//!             CellOp::Create { value } => {
//!                 let id = Id(1000 + 7 * self.cells.len() as u64);
//!                 self.cells.push((id, *value));
//!                 Out::Created(id)
//!             }
//!             CellOp::Read { cell } => {
//!                 let (_, value) = self.cells.iter().find(|(id, _)| id == &**cell).unwrap();
//!                 Out::Value(*value)
//!             }
//!         }
//!     }
//! }
//!
//! stateprop::check_sequential::<Cells, CellStore>(Config::default().cases(50));
//! ```
//!
//! `FromOutput` is implemented for `T` itself, `Option<T>` and `Result<T, E>`, so a model whose
//! output is `Option<Id>` needs no impl. A report prints a var as `Var::at(3)`, the output of step
//! 3 (a var names a [`StepId`]; in a program with branches, `Var::in_branch(1, 0)` is the first
//! step of branch 1, see [`program`]); the shrinker renumbers vars as it deletes steps and never leaves one dangling, and it tries
//! pointing each var at an earlier result of its type, so that the steps that made the later
//! results can go. The `bank` example (`cargo run --example bank`) is a larger case.
//!
//! # Checking histories
//!
//! Concurrent and distributed systems are judged by their *histories*: operations with the
//! time they were invoked and returned, possibly overlapping, possibly with unknown outcomes.
//! [`history::History`] holds one, built from the same operation and output types as a
//! [`Model`], so the model that drives generation is also the specification a recorded history
//! is held to. [`check::check_linearizable_by`] decides whether some order of the operations that
//! respects real time matches the model, and explains a violation; the session-guarantee,
//! sequential-consistency and idempotency checkers live beside it, and all of them answer with
//! a [`check::Report`] whose [`check::Verdict`] is `Holds`, `Violated` or `Unknown`.
//!
//! ```
//! use stateprop::check::{check_linearizable, CheckConfig, Verdict};
//! use stateprop::history::History;
//! use stateprop::models::{CasRegister, RegisterOp, RegisterOut};
//!
//! let mut h = History::new();
//! // Client 1 writes 1 while client 2 reads; after both return, client 2 reads nothing.
//! h.push(1, RegisterOp::Write { value: 1 }, 0, 3, RegisterOut::Written);
//! h.push(2, RegisterOp::Read, 1, 2, RegisterOut::Value(Some(1)));
//! h.push(2, RegisterOp::Read, 4, 5, RegisterOut::Value(None));
//! let report = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
//! let Verdict::Violated(violation) = report.verdict else { unreachable!() };
//! assert_eq!(violation.blocked, 2); // the second read cannot see the value disappear
//! ```
//!
//! The `stateprop` command does the same for files (`stateprop check --model kv FILE`), reads
//! Jepsen and Porcupine histories ([`import`]), and draws a history as a page
//! (`stateprop render`); see the README and `docs/history-format.md`. It is its own crate
//! (`cli/` in the repository, `cargo install --path cli`), so this library carries no
//! command-line dependency.
//!
//! # Limitations
//!
//! - **Races are found by chance.** [`check_concurrent`] runs real threads, many times per case,
//!   and finds a race only when the scheduler interleaves it: a race with a window of a few
//!   instructions may go unseen, and its minimal program may not fail again when rerun (the
//!   report says so). The `shuttle` feature's controlled scheduler finds such races by seed,
//!   but only in systems written against [`sync`] (or, for multi-node systems, written as
//!   [`sim::Node`]s and run by [`check_simulated`]).
//! - **Hangs are reported, not shrunk.** A call to [`System::apply`] that outlives
//!   `STATEPROP_STEP_TIMEOUT` fails the test with the program up to that step, unshrunk, and its
//!   thread is left running, because a thread cannot be killed. The report has no seed or
//!   statistics lines and the program is not saved to the regression file; its pasteable test
//!   reproduces the hang. Only `apply` is watched: a model, invariant or factory that never
//!   returns hangs the test.
//! - **Minimal is a local minimum.** The shrinker deletes runs of steps, then single steps; it
//!   points `Var`s at earlier results; it simplifies each argument, trying its simplest value
//!   first and binary-searching only when that loses the failure; it simplifies arguments that
//!   hold the same value together (the key of a put and of a later get); then it renumbers small
//!   values to first-use order, lowers related values jointly, merges two producers of a handle
//!   into one, copies an earlier step, deletes pairs of steps, folds a step's integers into
//!   another, and replaces the failing step by another rule's simplest operation. Arguments
//!   follow their strategies: a key picked from the model moves with the key it was picked from,
//!   and a candidate never holds a value its strategy does not make where the step runs. It only
//!   ever moves to a simpler program (fewer steps,
//!   then fewer arguments away from their strategy's simplest value, then shorter `Debug` text,
//!   then smaller text), and stops when no pass still fails. A shorter failing program of
//!   another shape may still exist: the DieHard puzzle (`examples/diehard.rs`) has solutions of
//!   6 and 8 steps that pour in opposite directions, and a run with one failure and seed 15
//!   stops at the 8-step one. [`Config::failures`] (`STATEPROP_FAILURES`) shrinks several
//!   failing cases and reports the shortest (ties go to the simpler one): with 5, the same run
//!   reports six steps.
//! - **Pasted tests print fields with [`ToRust`], else with `Debug`.** The primitives, `String`,
//!   `Vec`, `Option`, `Box`, tuples, arrays and `Var` print as Rust; other field types print their
//!   `Debug` text. That is valid Rust for a struct with public fields, and for an enum once its
//!   variants are imported (`Debug` prints `Red`, not `Color::Red`), but not for, say, a `HashMap`
//!   or a type with private fields. Implement [`ToRust`] for such a type, or edit the pasted test.
//! - **Field types need serde.** The report and the regression file store operations as JSON, so
//!   every field type of an operation (other than `Var<T>`) must implement `serde::Serialize` and
//!   `serde::Deserialize`; the derive fails to compile otherwise.
//! - **No generic operation enums.** The derive rejects `enum Op<K>`; use concrete types.
#![warn(missing_docs)]
// The crate docs show the `#[test]` a user writes; a hidden `main` runs the same call.
#![allow(clippy::test_attr_in_doctest)]

// Derived code names `::stateprop`; inside this crate that is the crate itself.
extern crate self as stateprop;

mod spec;
pub use spec::{Consumed, FromOutput, Model, RuleInfo, StateMachine, System, ToRust, Var};

mod config;
pub use config::{Config, Scheduler, Shard, StepRange};

mod failure;
pub use failure::{Failure, FailureKind, HistoryViolation, IdempotencyProblem};

mod exec;
pub use exec::client::ClientSystem;
#[cfg(feature = "tokio")]
pub use exec::tasks::AsyncSystem;
pub use exec::threads::ConcurrentSystem;
#[cfg(feature = "tokio")]
pub use run::{check_async, check_async_with, replay_async, replay_async_with};
mod run;
pub use run::{
    check_concurrent, check_concurrent_with, check_sequential, check_sequential_with, replay,
    replay_concurrent, replay_concurrent_scheduled, replay_concurrent_scheduled_with,
    replay_concurrent_with, replay_with, run_program, RunResult, Runner,
};
pub use run::{check_simulated, replay_simulated};

mod shrink;

mod report;
pub use report::{
    Origin, RecordedOp, Report, RunVerdict, ShrinkStats, SimEvent, SimEventKind, SimRun, Stats,
    Undecided,
};

pub mod judge;

pub mod history;

pub mod import;

pub mod check;

pub mod render;

pub mod models;

pub mod units;

pub mod sim;

pub mod generate;
pub use generate::{program_from_unstructured, strategy};

pub mod sync;

pub mod stress;

mod catch;
mod hash;
mod persist;

pub mod program;
pub use program::{Program, Shape, StepId};

pub use stateprop_macros::StateMachine;

/// One long campaign as `n` tests, one per [`Shard`], for `cargo nextest run --partition`.
///
/// nextest splits a run by *tests* and tells a test nothing of its partition, so a campaign that
/// should use sixteen machines must be sixteen tests. `#[stateprop::shards(16)]` on a function
/// of one [`Shard`] keeps the function and adds a module of the same name with one test per
/// shard, `shard_01_of_16` to `shard_16_of_16`, each calling it with its shard. Pass the shard
/// to [`Config::sharded`]: shard `k` runs the run seed's cases `k-1`, `k-1+16`, ..., so with one
/// seed (`STATEPROP_SEED`) the shards never share a case, and a failure's rerun line names its
/// shard as well as its test.
///
/// ```
/// use stateprop::models::{Counter, CounterOp, CounterOut};
/// use stateprop::{Config, Shard, System};
///
/// #[derive(Default)]
/// struct MyCounter(i64);
/// impl System<Counter> for MyCounter {
///     fn apply(&mut self, op: &CounterOp) -> CounterOut {
///         match *op {
///             CounterOp::Add { by } => {
///                 self.0 = self.0.wrapping_add(by);
///                 CounterOut::Done
///             }
///             CounterOp::Read => CounterOut::Value(self.0),
///         }
///     }
/// }
///
/// // Four tests: counter_campaign::shard_1_of_4 ... counter_campaign::shard_4_of_4.
/// #[stateprop::shards(4)]
/// #[ignore = "a campaign: run with `cargo nextest run --run-ignored only --partition ...`"]
/// fn counter_campaign(shard: Shard) {
///     stateprop::check_sequential::<Counter, MyCounter>(Config::default().sharded(shard));
/// }
/// # counter_campaign(Shard::new(2, 4));
/// ```
///
/// `#[ignore]` and `#[should_panic]` on the function go to every shard's test. `crate = "path"`
/// after the count names a renamed `stateprop`. `docs/campaigns.md` has the CI workflow.
pub use stateprop_macros::shards;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// What most tests need: `use stateprop::prelude::*;`.
pub mod prelude {
    pub use crate::strategy::pick;
    pub use crate::{
        check_sequential, replay, Config, FromOutput, Model, StateMachine, System, Var,
    };
    pub use proptest::prelude::{any, Just, Strategy};
    pub use proptest::sample::select;
}
