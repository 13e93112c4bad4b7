//! stateprop and the `lincheck` crate side by side on the same races and the same correct
//! counter: how often each finds the race over a number of seeds, how long it takes, how large
//! the scenario it reports is, and how often it reports a correct system.
//!
//! `cargo run --release --manifest-path peers/lincheck/Cargo.toml [-- --seeds N]`

mod systems;
mod tools;

use systems::{on_loom, Counter, Tickets};
use tools::Outcome;

/// One line of the table: a system, a tool, and the outcome of every seed.
struct Row {
    system: &'static str,
    tool: &'static str,
    correct: bool,
    outcomes: Vec<Outcome>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

fn ms(value: Option<f64>) -> String {
    value.map_or("-".into(), |s| format!("{:.1} ms", s * 1e3))
}

fn print_row(row: &Row) {
    let found: Vec<&Outcome> = row.outcomes.iter().filter(|o| o.found).collect();
    let seeds = row.outcomes.len();
    let verdict = if row.correct {
        format!("false reports {}/{seeds}", found.len())
    } else {
        format!("found {}/{seeds}", found.len())
    };
    let find = median(found.iter().map(|o| o.find.as_secs_f64()).collect());
    let total = median(found.iter().map(|o| o.total.as_secs_f64()).collect());
    let sizes: Vec<usize> = found.iter().map(|o| o.size).collect();
    let size = match (sizes.iter().min(), sizes.iter().max()) {
        (Some(lo), Some(hi)) => {
            let med = median(sizes.iter().map(|&s| s as f64).collect()).unwrap_or(0.0);
            format!("{med:.0} ({lo}-{hi})")
        }
        _ => "-".into(),
    };
    let two = found
        .iter()
        .filter(|o| o.size == 2 && o.parallel == 2)
        .count();
    let racing = found.iter().filter(|o| o.writers >= 2).count();
    let cases = median(row.outcomes.iter().map(|o| o.cases as f64).collect()).unwrap_or(0.0);
    let wall: f64 = row.outcomes.iter().map(|o| o.total.as_secs_f64()).sum();
    println!(
        "{:<34} {:<30} {:<18} {:>10} {:>11} {:>9} {:>8} {:>9} {:>7.0} {:>8.2}",
        row.system,
        row.tool,
        verdict,
        ms(find),
        ms(total),
        size,
        format!("{two}/{}", found.len()),
        format!("{racing}/{}", found.len()),
        cases,
        wall
    );
    // The smallest scenario reported, so the sizes can be read, not only counted.
    if let Some(o) = found.iter().min_by_key(|o| o.size) {
        println!("    smallest reported: {}", o.scenario);
    }
}

fn main() {
    let mut seeds = 20u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().map(|n| n.parse())) {
            ("--seeds", Some(Ok(n))) => seeds = n,
            _ => {
                eprintln!("peers: usage: [--seeds N] (default 20)");
                std::process::exit(2);
            }
        }
    }
    type Run = fn(u64) -> Outcome;
    use systems as s;
    use tools::{lincheck as lc, stateprop as sp};
    const LC_LOOM: &str = "lincheck, loom atomics";
    const LC_STD: &str = "lincheck, std atomics";
    const SP: &str = "stateprop threads, std atomics";
    // A table reads better one row a line.
    #[rustfmt::skip]
    let plan: [(&str, &str, bool, Run); 14] = [
        ("ticket: load; store", LC_LOOM, false, lc::<on_loom::RacyDispenser>),
        ("ticket: load; store", LC_STD, false, lc::<s::TightDispenser>),
        ("ticket: load; yield; store", LC_STD, false, lc::<s::RacyDispenser>),
        ("ticket: load; store", SP, false, sp::<Tickets, s::TightDispenser>),
        ("ticket: load; yield; store", SP, false, sp::<Tickets, s::RacyDispenser>),
        ("counter: load; store(v+by)", LC_LOOM, false, lc::<on_loom::RacyCounter>),
        ("counter: load; store(v+by)", LC_STD, false, lc::<s::TightCounter>),
        ("counter: load; yield; store(v+by)", LC_STD, false, lc::<s::RacyCounter>),
        ("counter: load; store(v+by)", SP, false, sp::<Counter, s::TightCounter>),
        ("counter: load; yield; store(v+by)", SP, false, sp::<Counter, s::RacyCounter>),
        ("correct counter: fetch_add; load", LC_LOOM, true, lc::<on_loom::AtomicCounter>),
        ("correct counter: fetch_add; load", SP, true, sp::<Counter, s::AtomicCounter>),
        ("correct ticket: fetch_add", LC_LOOM, true, lc::<on_loom::AtomicDispenser>),
        ("correct ticket: fetch_add", SP, true, sp::<Tickets, s::AtomicDispenser>),
    ];
    println!(
        "peers: {seeds} seeds (0..{seeds}) per row; times are medians over the seeds that \
         reported a failure; size = operations in the reported scenario, median (min-max)"
    );
    println!(
        "{:<34} {:<30} {:<18} {:>10} {:>11} {:>9} {:>8} {:>9} {:>7} {:>8}",
        "system",
        "tool",
        "verdict",
        "to find",
        "to report",
        "size",
        "exact 2",
        "2 writers",
        "cases",
        "wall s"
    );
    let start = std::time::Instant::now();
    for (system, tool, correct, run) in plan {
        let outcomes = (0..seeds).map(run).collect();
        print_row(&Row {
            system,
            tool,
            correct,
            outcomes,
        });
    }
    println!(
        "peers: the whole comparison took {:.1} s",
        start.elapsed().as_secs_f64()
    );
}
