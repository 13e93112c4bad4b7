//! The simulator benchmark of issue 10 ("Speed and the peers"): the same six-host
//! primary-backup register, heartbeats every 10 ms, in stateprop's simulator and in turmoil
//! (madsim needs `--cfg madsim` for its whole build, so it is the crate `peers/madsim`;
//! `peers/sim/run.sh` runs both). A measurement, not a test: see `README.md`.
//!
//! `cargo run --release -- [simulated seconds]` (default 600).

mod on_stateprop;
mod on_turmoil;
mod workload;

fn main() {
    let sim_secs = workload::sim_secs_arg();
    println!(
        "six hosts (primary, 4 backups, client), heartbeats every 10 ms, {sim_secs} s simulated, \
         median of {} runs:",
        workload::RUNS
    );
    workload::measure("turmoil", "(1 ms tick)", || on_turmoil::run(sim_secs));
    workload::measure("stateprop", "(trace hashed, as a case runs)", || {
        on_stateprop::run(sim_secs, false)
    });
    workload::measure(
        "stateprop",
        "(trace kept as text, as a report's rerun)",
        || on_stateprop::run(sim_secs, true),
    );
    on_stateprop::cases(2_000);
}
