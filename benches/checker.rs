//! Linearizability checker benchmark: prints per-file and total check times (parsing
//! excluded), search steps and memory, and the targets of the history-checking issue with
//! PASS/FAIL. Run: `cargo bench --bench checker`.

use stateprop::check::{check_linearizable, check_linearizable_by, CheckConfig, Report, Verdict};
use stateprop::history::History;
use stateprop::import;
use stateprop::models::{
    CasRegister, KvModel, KvOp, KvOut, RegisterOp, RegisterOut, SetModel, SetOp, SetOut,
};
use stateprop::Model;
use std::time::Duration;

fn data(path: &str) -> String {
    format!(
        "{}/../shared/data/porcupine/{path}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn verdict(r: &Report) -> &'static str {
    match r.verdict {
        Verdict::Holds => "linearizable",
        Verdict::Violated(_) => "NOT linearizable",
        _ => "unknown",
    }
}

/// Peak resident memory of this process so far (Linux), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn expected() -> Vec<(String, bool)> {
    std::fs::read_to_string(data("EXPECTED.tsv"))
        .expect("EXPECTED.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, e)| (p.to_string(), e == "true"))
        .collect()
}

/// The best of `runs` checks (the machine is shared; the best is the least disturbed).
fn best<F: FnMut() -> Report>(runs: usize, mut f: F) -> Report {
    let mut best: Option<Report> = None;
    for _ in 0..runs {
        let r = f();
        if best.as_ref().is_none_or(|b| r.elapsed < b.elapsed) {
            best = Some(r);
        }
    }
    best.expect("runs > 0")
}

/// A linearizable history of `n` operations over 10 keys and 16 clients: a real sequential
/// execution of the model whose operations' intervals are widened around their linearization
/// points, so many overlap.
fn generated(n: usize, seed: u64) -> History<KvOp, KvOut> {
    let mut rng = seed;
    let mut next = move || {
        rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut model = KvModel::default();
    let mut h = History::new();
    let mut free_at = [0u64; 16];
    let mut t = 0u64;
    let mut made = 0;
    while made < n {
        t += 10;
        let client = (next() % 16) as usize;
        if free_at[client] >= t {
            continue;
        }
        let key = format!("{}", next() % 10);
        let op = match next() % 3 {
            0 => KvOp::Get { key },
            1 => KvOp::Put {
                key,
                value: format!("{made}"),
            },
            _ => KvOp::Append {
                key,
                value: format!(" {made}"),
            },
        };
        let out = model.step(&op);
        let call = t - (next() % 10).min(t - free_at[client] - 1);
        let ret = t + next() % 60;
        free_at[client] = ret;
        h.push(client as u64, op, call, ret, out);
        made += 1;
    }
    h
}

/// Current resident memory of this process (Linux), in bytes.
fn rss_bytes() -> u64 {
    status_kib("VmRSS:") * 1024
}

/// Peak resident memory of this process so far (Linux), in bytes.
fn hwm_bytes() -> u64 {
    status_kib("VmHWM:") * 1024
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A purely sequential register history: one writer and one reader taking turns, no overlap.
fn sequential_register(n: usize) -> History<RegisterOp, RegisterOut> {
    let mut h = History::new();
    for i in 0..n as u64 {
        let (call, ret) = (2 * i, 2 * i + 1);
        if i % 2 == 0 {
            h.push(
                0,
                RegisterOp::Write { value: i as i64 },
                call,
                ret,
                RegisterOut::Written,
            );
        } else {
            let seen = Some(i as i64 - 1);
            h.push(1, RegisterOp::Read, call, ret, RegisterOut::Value(seen));
        }
    }
    h
}

/// `n` writes all concurrent with each other, then (if `read`) a read of a value none of them
/// wrote: the search must try orders until its budget ends it. Without the read, the first
/// order tried fits, but each of its `n` steps caches a key of `n` bits.
fn concurrent_writes(n: usize, read: bool) -> History<RegisterOp, RegisterOut> {
    let mut h = History::new();
    for i in 0..n as u64 {
        h.push(
            i,
            RegisterOp::Write { value: i as i64 },
            0,
            10,
            RegisterOut::Written,
        );
    }
    if read {
        let out = RegisterOut::Value(Some(-1));
        h.push(n as u64, RegisterOp::Read, 20, 21, out);
    }
    h
}

/// Runs in a fresh process (so its peak resident memory is its own): checks one history and
/// prints what it took.
fn bounds_child(what: &str, n: usize) {
    match what {
        "sequential" => {
            let h = sequential_register(n);
            let before = rss_bytes();
            let r = check_linearizable(&h, &CasRegister::default(), &CheckConfig::default());
            println!(
                "{} {:.3} {}",
                hwm_bytes().saturating_sub(before),
                r.elapsed.as_secs_f64(),
                verdict(&r)
            );
        }
        "timeout" | "timeout-no-read" => {
            let h = concurrent_writes(n, what == "timeout");
            print_timed_check(&h, &CasRegister::default());
        }
        "big-state" => {
            // A set of n values, so each step copies and hashes n of them (hundreds of
            // microseconds), and concurrent inserts with a read that cannot fit.
            let mut h = History::new();
            for i in 0..2_000u64 {
                let op = SetOp::Insert {
                    value: -(i as i64) - 1,
                };
                h.push(i, op, 0, 10, SetOut::Bool(true));
            }
            h.push(9_999, SetOp::Read, 20, 21, SetOut::Values(Vec::new()));
            let initial = SetModel::new(0..n as i64);
            print_timed_check(&h, &initial);
        }
        "keys" => {
            // Each key written and read back by its own client: n tiny partitions.
            let mut h = History::new();
            for k in 0..n as u64 {
                let key = format!("key-{k}");
                let (t, value) = (4 * k, format!("{k}"));
                let put = KvOp::Put {
                    key: key.clone(),
                    value: value.clone(),
                };
                h.push(k, put, t, t + 9, KvOut::Done);
                h.push(k, KvOp::Get { key }, t + 10, t + 11, KvOut::Value(value));
            }
            let before = rss_bytes();
            let config = CheckConfig::default().max_memory(64 << 20);
            let r =
                check_linearizable_by(&h, &KvModel::default(), &config, |op| op.key().to_string());
            println!(
                "{} {:.3} {}",
                hwm_bytes().saturating_sub(before),
                r.elapsed.as_secs_f64(),
                verdict(&r)
            );
        }
        _ => panic!("unknown child {what}"),
    }
}

/// Runs `bounds_child` in a child process and returns its line.
fn in_child(what: &str, n: usize) -> String {
    let out = std::process::Command::new(std::env::current_exe().expect("own path"))
        .args(["--bounds-child", what, &n.to_string()])
        .output()
        .expect("run child");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Memory on sequential histories and the promptness of a timeout, each measured in a fresh
/// process.
fn bounds(checks: &mut Vec<(&'static str, bool, String)>) {
    println!("\n== sequential register histories (1 writer, 1 reader, no overlap) ==");
    for n in [25_000, 50_000, 100_000] {
        let line = in_child("sequential", n);
        let mut f = line.split_whitespace();
        let grown: f64 = f.next().and_then(|x| x.parse().ok()).unwrap_or(f64::NAN);
        let secs: f64 = f.next().and_then(|x| x.parse().ok()).unwrap_or(f64::NAN);
        let v = f.next().unwrap_or("(child failed)");
        println!(
            "  {n:>7} ops  peak resident growth {:>8.1} MiB  {:>8.1} ms  {v}",
            grown / (1 << 20) as f64,
            secs * 1e3
        );
        if n == 100_000 {
            checks.push((
                "100,000 sequential operations under 64 MiB of peak resident growth",
                grown < (64 << 20) as f64,
                format!("{:.1} MiB", grown / (1 << 20) as f64),
            ));
        }
    }
    println!("\n== 86,000 keys (one put and one get each), partitioned, --max-memory 64 MiB ==");
    let line = in_child("keys", 86_000);
    let mut f = line.split_whitespace();
    let grown: f64 = f.next().and_then(|x| x.parse().ok()).unwrap_or(f64::NAN);
    let secs: f64 = f.next().and_then(|x| x.parse().ok()).unwrap_or(f64::NAN);
    let v = f.next().unwrap_or("(child failed)");
    println!(
        "  peak resident growth {:>8.1} MiB  {:>8.1} ms  {v}",
        grown / (1 << 20) as f64,
        secs * 1e3
    );
    checks.push((
        "86,000 partitions under a 64 MiB cap grow the process by less than 64 MiB",
        grown < (64 << 20) as f64,
        format!("{:.1} MiB", grown / (1 << 20) as f64),
    ));

    println!("\n== --timeout 100ms: the report's elapsed time, and the wall time of the call ==");
    // The wall time adds freeing what the search held, models' own heap included (not
    // interruptible, and proportional to memory, which the memory cap bounds).
    let mut slowest = 0f64;
    for (what, n, label) in [
        ("timeout", 200_000, "200,000 writes and an impossible read"),
        ("timeout-no-read", 200_000, "200,000 writes (linearizable)"),
        ("big-state", 20_000, "2,000 inserts into a 20,000-value set"),
    ] {
        let line = in_child(what, n);
        let mut f = line.split_whitespace();
        let hwm: f64 = f.next().and_then(|x| x.parse().ok()).unwrap_or(f64::NAN);
        let wall: f64 = f.next().and_then(|x| x.parse().ok()).unwrap_or(f64::NAN);
        let v = f.next().unwrap_or("(child failed)");
        let secs: f64 = f.next().and_then(|x| x.parse().ok()).unwrap_or(f64::NAN);
        println!(
            "  {label:<38} {:>7.1} ms (wall {:>7.1} ms)  {v}  (process peak resident {:.1} MiB)",
            secs * 1e3,
            wall * 1e3,
            hwm / (1 << 20) as f64
        );
        slowest = slowest.max(if secs.is_nan() { f64::INFINITY } else { secs });
        if what != "big-state" {
            slowest = slowest.max(if wall.is_nan() { f64::INFINITY } else { wall });
        }
    }
    checks.push((
        "a 100 ms timeout ends within 110 ms (wall time where states own no heap)",
        slowest < 0.110,
        format!("{:.1} ms", slowest * 1e3),
    ));
}

/// The speed figures only, best of 10 (for comparing builds on a shared machine):
/// `cargo bench --bench checker -- quick`.
fn quick() {
    let config = CheckConfig::default().timeout(Duration::from_secs(60));
    let mut etcd = Vec::new();
    for (path, _) in expected().iter().filter(|(p, _)| p.starts_with("jepsen/")) {
        let text = std::fs::read_to_string(data(path)).expect("read");
        if !text.trim().is_empty() {
            etcd.push(import::etcd(&text).expect("parse"));
        }
    }
    let sweep = (0..10)
        .map(|_| {
            etcd.iter()
                .map(|h| check_linearizable(h, &CasRegister::default(), &config).elapsed)
                .sum::<Duration>()
        })
        .min()
        .expect("runs");
    println!("  etcd sweep {:.1} ms", sweep.as_secs_f64() * 1e3);
    if std::env::args().any(|a| a == "etcd") {
        return;
    }
    for file in ["kv/c10-ok.txt", "kv/c10-bad.txt"] {
        let h = import::kv_edn(&std::fs::read_to_string(data(file)).expect("read")).expect("parse");
        let r = best(10, || check_linearizable(&h, &KvModel::default(), &config));
        println!(
            "  {file} as one map {:.1} ms",
            r.elapsed.as_secs_f64() * 1e3
        );
    }
    for file in ["kv/c50-ok.txt", "kv/c50-bad.txt"] {
        let h = import::kv_edn(&std::fs::read_to_string(data(file)).expect("read")).expect("parse");
        let r = best(10, || {
            check_linearizable_by(&h, &KvModel::default(), &config, |op| op.key().to_string())
        });
        println!("  {file} by key {:.1} ms", r.elapsed.as_secs_f64() * 1e3);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--bounds-child") {
        let n = args[at + 2].parse().expect("size");
        bounds_child(&args[at + 1], n);
        return;
    }
    if args.iter().any(|a| a == "bounds") {
        let mut checks = Vec::new();
        bounds(&mut checks);
        for (what, pass, figure) in checks {
            println!(
                "  [{}] {what}: {figure}",
                if pass { "PASS" } else { "FAIL" }
            );
        }
        return;
    }
    if args.iter().any(|a| a == "quick") {
        quick();
        return;
    }
    println!("stateprop checker benchmark (release build, single thread, best of 3 unless noted)");
    let config = CheckConfig::default().timeout(Duration::from_secs(60));
    let mut checks = Vec::new();
    let mut all_right = true;

    // -- etcd: every file of the corpus.
    let mut etcd_total = Duration::ZERO;
    let mut etcd_steps = 0;
    let mut slowest = Vec::new();
    for (path, want) in expected().iter().filter(|(p, _)| p.starts_with("jepsen/")) {
        let text = std::fs::read_to_string(data(path)).expect("read");
        if text.trim().is_empty() {
            continue; // etcd_095.log is empty (README)
        }
        let h = import::etcd(&text).expect("parse");
        let r = best(3, || {
            check_linearizable(&h, &CasRegister::default(), &config)
        });
        let right = matches!(r.verdict, Verdict::Holds) == *want;
        all_right &= right;
        etcd_total += r.elapsed;
        etcd_steps += r.steps;
        slowest.push((r.elapsed, path.clone(), r.steps, r.peak_bytes, right));
    }
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    println!("\n== etcd (Jepsen 2015), {} files ==", slowest.len());
    for (e, p, steps, bytes, right) in slowest.iter().take(6) {
        println!(
            "  {p:<24} {:>9.3} ms  {steps:>8} steps  cache {:>6.1} MiB  {}",
            e.as_secs_f64() * 1e3,
            *bytes as f64 / (1 << 20) as f64,
            if *right { "right" } else { "WRONG" }
        );
    }
    println!(
        "  total (sum of per-file best)  {:.1} ms, {etcd_steps} steps",
        etcd_total.as_secs_f64() * 1e3
    );
    checks.push((
        "etcd sweep under 100 ms (Porcupine: 426 ms)",
        etcd_total < Duration::from_millis(100),
        format!("{:.1} ms", etcd_total.as_secs_f64() * 1e3),
    ));

    // -- kv: partitioned by key, and c01/c10 as one map.
    println!("\n== kv (Porcupine), partitioned by key ==");
    let mut c50_bad = Duration::MAX;
    let mut c10_one_map = Vec::new();
    for (path, want) in expected().iter().filter(|(p, _)| p.starts_with("kv/")) {
        let text = std::fs::read_to_string(data(path)).expect("read");
        let h = import::kv_edn(&text).expect("parse");
        let r = best(3, || {
            check_linearizable_by(&h, &KvModel::default(), &config, |op| op.key().to_string())
        });
        let right = matches!(r.verdict, Verdict::Holds) == *want;
        all_right &= right;
        println!(
            "  {path:<16} {:>5} ops {:>9.3} ms  {:>8} steps  {} ({})",
            h.len(),
            r.elapsed.as_secs_f64() * 1e3,
            r.steps,
            verdict(&r),
            if right { "right" } else { "WRONG" }
        );
        if path == "kv/c50-bad.txt" {
            c50_bad = r.elapsed;
        }
        if path.starts_with("kv/c01") || path.starts_with("kv/c10") {
            let one = best(3, || check_linearizable(&h, &KvModel::default(), &config));
            let right = matches!(one.verdict, Verdict::Holds) == *want;
            all_right &= right;
            c10_one_map.push((path.clone(), one.elapsed, one.steps, verdict(&one), right));
        }
    }
    println!("\n== kv c01/c10 as one map (no partitioning) ==");
    for (p, e, steps, v, right) in &c10_one_map {
        println!(
            "  {p:<16} {:>9.3} ms  {steps:>8} steps  {v} ({})",
            e.as_secs_f64() * 1e3,
            if *right { "right" } else { "WRONG" }
        );
    }
    for (p, e, ..) in c10_one_map.iter().filter(|(p, ..)| p.starts_with("kv/c10")) {
        checks.push((
            if p.ends_with("ok.txt") {
                "c10-ok as one map under 300 ms (Porcupine: 1.55 s)"
            } else {
                "c10-bad as one map under 300 ms (Porcupine: 2.19 s)"
            },
            *e < Duration::from_millis(300),
            format!("{:.1} ms", e.as_secs_f64() * 1e3),
        ));
    }
    checks.push((
        "kv/c50-bad.txt decided under 1 s",
        c50_bad < Duration::from_secs(1),
        format!("{:.1} ms", c50_bad.as_secs_f64() * 1e3),
    ));

    // -- generated histories, 10 keys, 16 clients, partitioned.
    println!("\n== generated linearizable kv histories, 10 keys, 16 clients, partitioned ==");
    for n in [10_000, 100_000] {
        let h = generated(n, n as u64);
        let cap = 2u64 << 30;
        let r = best(1, || {
            check_linearizable_by(
                &h,
                &KvModel::default(),
                &CheckConfig::default()
                    .timeout(Duration::from_secs(60))
                    .max_memory(cap),
                |op| op.key().to_string(),
            )
        });
        println!(
            "  {n:>7} ops {:>9.1} ms  {:>9} steps  cache peak {:>6.1} MiB (cap {} MiB)  {}",
            r.elapsed.as_secs_f64() * 1e3,
            r.steps,
            r.peak_bytes as f64 / (1 << 20) as f64,
            cap >> 20,
            verdict(&r)
        );
        all_right &= r.verdict == Verdict::Holds;
        if n == 100_000 {
            checks.push((
                "100,000-operation partitioned history under 2 s",
                r.elapsed < Duration::from_secs(2),
                format!("{:.1} ms", r.elapsed.as_secs_f64() * 1e3),
            ));
            checks.push((
                "memory never above the configured cap",
                r.peak_bytes <= cap,
                format!(
                    "cache peak {:.1} MiB",
                    r.peak_bytes as f64 / (1 << 20) as f64
                ),
            ));
        }
    }
    // -- a tight memory cap: the hardest search must stop at it, with `Unknown`.
    let h = import::kv_edn(&std::fs::read_to_string(data("kv/c10-bad.txt")).expect("read"))
        .expect("parse");
    let cap = 8u64 << 20;
    let r = check_linearizable(
        &h,
        &KvModel::default(),
        &CheckConfig::default().max_memory(cap),
    );
    println!(
        "\n== c10-bad as one map, --max-memory 8 MiB ==\n  {} after {:.1} ms, cache peak {:.2} MiB",
        match &r.verdict {
            Verdict::Unknown(reason) => format!("unknown ({reason})"),
            _ => verdict(&r).to_string(),
        },
        r.elapsed.as_secs_f64() * 1e3,
        r.peak_bytes as f64 / (1 << 20) as f64
    );
    checks.push((
        "a tight cap (8 MiB) ends in unknown without exceeding it",
        matches!(r.verdict, Verdict::Unknown(_)) && r.peak_bytes <= cap,
        format!(
            "cache peak {:.2} MiB",
            r.peak_bytes as f64 / (1 << 20) as f64
        ),
    ));

    bounds(&mut checks);

    let rss = peak_rss_mib();
    println!("\n  process peak resident memory: {rss:.1} MiB");
    checks.push(("every verdict right", all_right, String::new()));

    println!("\n== Summary ==");
    for (what, pass, figure) in checks {
        println!(
            "  [{}] {what}: {figure}",
            if pass { "PASS" } else { "FAIL" }
        );
    }
}

/// Checks `h` with a 100 ms timeout and prints the peak memory, the wall time of the call, the
/// verdict and the time the checker says it took.
fn print_timed_check<M: Model + std::hash::Hash + Eq>(h: &History<M::Op, M::Output>, initial: &M) {
    let config = CheckConfig::default().timeout(Duration::from_millis(100));
    let t = std::time::Instant::now();
    let r = check_linearizable(h, initial, &config);
    println!(
        "{} {:.4} {} {:.4}",
        hwm_bytes(),
        t.elapsed().as_secs_f64(),
        verdict(&r),
        r.elapsed.as_secs_f64()
    );
}
