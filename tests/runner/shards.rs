//! Campaign shards: which cases a shard runs, and that a sharded failure's rerun line replays it.

use crate::kv::{BuggyStore, Kv, KvOp};
use crate::GoodStore;
use stateprop::{Config, Origin, Runner, Shard, System};
use std::sync::{Arc, Mutex};

/// The good store, recording each case's program: the factory opens a new one per case.
struct Recording {
    store: GoodStore,
    programs: Arc<Mutex<Vec<Vec<String>>>>,
}

impl System<Kv> for Recording {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        self.programs
            .lock()
            .unwrap()
            .last_mut()
            .unwrap()
            .push(format!("{op:?}"));
        self.store.apply(op)
    }
}

/// The programs of a passing run, one per case, in the order they ran, as `Debug` text.
fn programs(config: Config) -> Vec<Vec<String>> {
    let programs = Arc::new(Mutex::new(Vec::new()));
    let factory = {
        let programs = programs.clone();
        move || {
            programs.lock().unwrap().push(Vec::new());
            Recording {
                store: GoodStore::default(),
                programs: programs.clone(),
            }
        }
    };
    let config = config.ignore_env().persist(false).seed(0x5eed);
    let result = Runner::<Kv>::new(config).run(factory);
    assert!(!result.failed(), "{}", result.report.text());
    let programs = programs.lock().unwrap().clone();
    assert_eq!(programs.len() as u64, result.report.stats.cases);
    programs
}

#[test]
fn shards_of_one_seed_are_disjoint_slices_that_make_up_the_unsharded_run() {
    let (n, cases) = (3u32, 40u64);
    let whole = programs(Config::default().cases(cases * u64::from(n)));
    // Generated programs repeat now and then; compare by case index, not as sets.
    let mut covered = vec![0; whole.len()];
    for k in 1..=n {
        let shard = programs(Config::default().cases(cases).shard(k, n));
        assert_eq!(shard.len() as u64, cases);
        for (j, program) in shard.iter().enumerate() {
            let index = (k - 1) as usize + j * n as usize;
            assert_eq!(program, &whole[index], "shard {k}/{n}, its case {j}");
            covered[index] += 1;
        }
    }
    // Every case of the unsharded run, each in exactly one shard.
    assert!(covered.iter().all(|&c| c == 1), "{covered:?}");
    // The environment's `k/n` and the code's are the same shard.
    let vars = |name: &str| (name == "STATEPROP_SHARD").then(|| "2/3".to_string());
    let from_env = Config::default().with_vars(vars).unwrap();
    assert_eq!(from_env.shard, Some(Shard::new(2, 3)));
    // One shard of one is the whole run.
    let one = programs(Config::default().cases(cases).shard(1, 1));
    assert_eq!(one, whole[..cases as usize]);
}

#[test]
fn a_sharded_failure_is_found_in_the_shard_and_named_by_its_run_index() {
    let config = |k| Config::default().ignore_env().seed(11).shard(k, 4);
    for k in 1..=4 {
        let report = crate::buggy_kv(config(k)).report;
        let Some(Origin::Generated { case, .. }) = report.origin else {
            panic!("{}", report.text())
        };
        assert_eq!(case % 4, u64::from(k - 1), "{}", report.text());
        // The shard ran its own cases up to the failing one, and no other.
        assert_eq!(report.stats.cases, case / 4 + 1, "{}", report.text());
        assert!(
            report.text().contains(&format!("STATEPROP_SHARD={k}/4 ")),
            "{}",
            report.text()
        );
    }
}

// The children of the tests below: ignored, run in a child process with the environment given.

#[test]
#[ignore = "run as a child process by the shard tests"]
fn child_buggy_kv() {
    stateprop::check_sequential::<Kv, BuggyStore>(Config::default());
}

/// A campaign in three tests (`buggy_campaign::shard_1_of_3` ...), as a user writes one.
#[stateprop::shards(3)]
#[ignore = "run as a child process by the shard tests"]
fn buggy_campaign(shard: Shard) {
    stateprop::check_sequential::<Kv, BuggyStore>(Config::default().sharded(shard));
}

/// Runs this test binary's test `name` (exactly, ignored ones too) with `vars` and no other
/// `STATEPROP_*` variable; its stderr.
fn child(name: &str, vars: &[(String, String)]) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command.args([
        "--ignored",
        "--exact",
        name,
        "--nocapture",
        "--test-threads=1",
    ]);
    for name in Config::VARIABLES {
        command.env_remove(name);
    }
    command.env("STATEPROP_PERSIST", "0");
    command.envs(vars.iter().map(|(k, v)| (k, v)));
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "the buggy store passed: {stderr}");
    stderr
}

/// The report's `rerun exactly:` line split into its variables and its command.
fn rerun_line(stderr: &str) -> (Vec<(String, String)>, String) {
    let line = stderr
        .lines()
        .find_map(|l| l.split_once("(rerun exactly: ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no rerun line: {stderr}"));
    let line = line.strip_suffix(')').unwrap();
    let mut vars = Vec::new();
    let mut words = line.split(' ');
    let mut command = Vec::new();
    for word in words.by_ref() {
        match word.split_once('=') {
            Some((k, v)) if k.starts_with("STATEPROP_") => vars.push((k.into(), v.into())),
            _ => {
                command.push(word);
                break;
            }
        }
    }
    command.extend(words);
    (vars, command.join(" "))
}

/// `stateprop: found by case N`, the minimal program and the cause: what a replay must repeat.
fn finding(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.starts_with("stateprop: found by case")
                || l.starts_with("stateprop: cause:")
                || l.starts_with("stateprop:   ")
        })
        .collect()
}

fn var(vars: &[(String, String)], name: &str) -> Option<String> {
    vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn the_rerun_line_of_a_shard_from_the_environment_replays_the_failure() {
    let env = [
        ("STATEPROP_SEED".to_string(), "23".to_string()),
        ("STATEPROP_SHARD".to_string(), "2/3".to_string()),
    ];
    let first = child("shards::child_buggy_kv", &env);
    let (vars, command) = rerun_line(&first);
    assert_eq!(
        command,
        "cargo test --test runner shards::child_buggy_kv -- --exact"
    );
    assert_eq!(var(&vars, "STATEPROP_SHARD").as_deref(), Some("2/3"));
    assert_eq!(var(&vars, "STATEPROP_SEED").as_deref(), Some("23"));
    let found = finding(&first);
    let case: u64 = found
        .iter()
        .find_map(|l| l.strip_prefix("stateprop: found by case "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(case % 3, 1, "{first}");
    // The case count is the shard's own: without the shard it would name other cases.
    let cases: u64 = var(&vars, "STATEPROP_CASES").unwrap().parse().unwrap();
    assert_eq!(cases, case / 3 + 1, "{first}");
    let again = child("shards::child_buggy_kv", &vars);
    assert_eq!(finding(&again), found, "{again}");
}

#[test]
fn the_rerun_line_of_a_shard_test_replays_the_failure() {
    let env = [("STATEPROP_SEED".to_string(), "20261121".to_string())];
    let test = "shards::buggy_campaign::shard_3_of_3";
    let first = child(test, &env);
    // docs/campaigns.md quotes this run's two lines.
    let docs = std::fs::read_to_string("docs/campaigns.md").unwrap();
    for line in first
        .lines()
        .filter(|l| l.starts_with("stateprop: found by case") || l.contains("(rerun exactly: "))
    {
        assert!(docs.contains(line), "docs/campaigns.md lacks {line:?}");
    }
    let (vars, command) = rerun_line(&first);
    assert_eq!(
        command,
        format!("cargo test --test runner {test} -- --exact")
    );
    assert_eq!(var(&vars, "STATEPROP_SHARD").as_deref(), Some("3/3"));
    let found = finding(&first);
    let case: u64 = found
        .iter()
        .find_map(|l| l.strip_prefix("stateprop: found by case "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(case % 3, 2, "{first}");
    let again = child(test, &vars);
    assert_eq!(finding(&again), found, "{again}");
}

#[test]
fn the_shards_attribute_writes_one_test_per_shard() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--list", "--ignored", "shards::buggy_campaign::"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    let tests: Vec<&str> = list.lines().filter(|l| l.ends_with(": test")).collect();
    assert_eq!(
        tests,
        [
            "shards::buggy_campaign::shard_1_of_3: test",
            "shards::buggy_campaign::shard_2_of_3: test",
            "shards::buggy_campaign::shard_3_of_3: test",
        ],
        "{list}"
    );
}

/// A correct store, except that it never returns from a get of key 3.
#[derive(Default)]
struct HangsOnGet3(GoodStore);

impl System<Kv> for HangsOnGet3 {
    fn apply(&mut self, op: &KvOp) -> Option<u32> {
        if let KvOp::Get { key: 3 } = op {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
        self.0.apply(op)
    }
}

#[test]
fn a_sharded_hang_counts_the_shards_own_cases_for_the_rerun() {
    let config = Config::default()
        .ignore_env()
        .seed(5)
        .persist(false)
        .shard(2, 5)
        .step_timeout(std::time::Duration::from_millis(300));
    let report = Runner::<Kv>::new(config)
        .run_default::<HangsOnGet3>()
        .report;
    let text = report.text();
    let Some(Origin::Generated { case, .. }) = report.origin else {
        panic!("{text}")
    };
    assert_eq!(case % 5, 1, "{text}");
    assert_eq!(report.stats.cases, case / 5 + 1, "{text}");
    assert!(
        text.contains(&format!(
            "STATEPROP_CASES={} STATEPROP_SHARD=2/5 ",
            case / 5 + 1
        )),
        "{text}"
    );
}
