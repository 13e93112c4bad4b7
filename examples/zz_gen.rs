#[path = "support/kv.rs"]
#[allow(dead_code)]
mod kv;
use kv::{Kv, KvOp};
use proptest::test_runner::{Config as PC, RngAlgorithm, TestRng, TestRunner};
use stateprop::{Gen, StateMachine};
fn main() {
    let mut runner = TestRunner::new_with_rng(PC::default(), TestRng::from_seed(RngAlgorithm::XorShift, &[7u8; 16]));
    let mut model = Kv::default();
    for k in 0..4 { model.map.insert(k, 1); }
    let n = 20_000_000u64;
    for rule in 0..3 {
        let t = std::time::Instant::now();
        let mut acc = 0u64;
        for _ in 0..n {
            let mut gen = Gen::<Kv>::new(&mut runner, &[], None);
            let op = KvOp::generate(rule, &model, &mut gen).unwrap();
            acc = acc.wrapping_add(match op { KvOp::Put{key,value} => key as u64 + value as u64, KvOp::Get{key} => key as u64, KvOp::Delete{key} => key as u64 });
        }
        println!("rule {rule}: {:.1} ns/op ({acc})", t.elapsed().as_nanos() as f64 / n as f64);
    }
    let t = std::time::Instant::now();
    let mut acc = 0u64;
    for _ in 0..n { acc = acc.wrapping_add(runner.rng().next_u64()); }
    println!("TestRng next_u64: {:.1} ns ({acc})", t.elapsed().as_nanos() as f64 / n as f64);
    extra(&mut runner);
    extra2(&mut runner);
}
use proptest::prelude::Rng;
#[allow(dead_code)]
fn bench<S: proptest::strategy::Strategy>(name: &str, s: S, runner: &mut TestRunner) where S::Value: Into<u64> {
    use proptest::strategy::ValueTree;
    let n = 20_000_000u64;
    let t = std::time::Instant::now();
    let mut acc = 0u64;
    for _ in 0..n { acc = acc.wrapping_add(s.new_tree(runner).unwrap().current().into()); }
    println!("{name}: {:.1} ns ({acc})", t.elapsed().as_nanos() as f64 / n as f64);
}
pub fn extra(runner: &mut TestRunner) {
    bench("Range<u8> 0..8", 0..8u8, runner);
    bench("Range<u32> 0..1000", 0..1000u32, runner);
    bench("Boundary<u32>", stateprop::strategy::boundary_biased::<u32>(), runner);
    bench("any::<u32>", proptest::prelude::any::<u32>(), runner);
    let t = std::time::Instant::now(); let mut acc = 0u64;
    for _ in 0..20_000_000u64 { acc = acc.wrapping_add(runner.rng().next_u32() as u64); }
    println!("TestRng next_u32: {:.1} ns ({acc})", t.elapsed().as_nanos() as f64 / 2e7);
}
pub fn extra2(runner: &mut TestRunner) {
    let n = 20_000_000u64;
    let t = std::time::Instant::now(); let mut acc = 0u64;
    for _ in 0..n {
        let mut gen = Gen::<Kv>::new(runner, &[], None);
        acc = acc.wrapping_add(gen.arg("key", &(0..8u8)).unwrap() as u64);
    }
    println!("Gen::arg 0..8: {:.1} ns ({acc})", t.elapsed().as_nanos() as f64 / n as f64);
    let t = std::time::Instant::now(); let mut acc = 0u64;
    for _ in 0..n {
        let mut gen = Gen::<Kv>::new(runner, &[], None);
        acc = acc.wrapping_add(stateprop::__private::arg::<Kv, u8, _>(&mut gen, "key", 0..8u8).unwrap() as u64);
    }
    println!("__private::arg 0..8: {:.1} ns ({acc})", t.elapsed().as_nanos() as f64 / n as f64);
}
