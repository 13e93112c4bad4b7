//! The DieHard water-jug puzzle, solved by stateprop's search and shrinker.
//!
//! A 3-gallon jug and a 5-gallon jug, a tap and a drain: measure exactly 4 gallons. We state the
//! (false) claim "the big jug never holds 4 gallons" as an invariant; stateprop generates pouring
//! programs until one breaks the claim, and the shrinker cuts it down to a minimal solution.
//! The puzzle has two solutions that pour in opposite directions: 6 steps through the big jug,
//! 8 through the small one. No change of a step or two turns the longer into the shorter, so a
//! run that first finds the 8-step one keeps it (seed 15 does). Several failing programs are
//! therefore shrunk and the shortest wins (`Config::failures(5)`), which is the 6-step solution.
//!
//! Run it with `cargo run --example diehard`.

use stateprop::prelude::*;
use stateprop::Runner;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Jugs {
    pub small: u8, // holds 3
    pub big: u8,   // holds 5
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Jugs)]
pub enum Pour {
    FillSmall,
    FillBig,
    EmptySmall,
    EmptyBig,
    SmallIntoBig,
    BigIntoSmall,
}

impl Model for Jugs {
    type Op = Pour;
    type Output = ();

    fn step(&mut self, op: &Pour) {
        match op {
            Pour::FillSmall => self.small = 3,
            Pour::FillBig => self.big = 5,
            Pour::EmptySmall => self.small = 0,
            Pour::EmptyBig => self.big = 0,
            Pour::SmallIntoBig => {
                let moved = self.small.min(5 - self.big);
                self.small -= moved;
                self.big += moved;
            }
            Pour::BigIntoSmall => {
                let moved = self.big.min(3 - self.small);
                self.big -= moved;
                self.small += moved;
            }
        }
    }
}

/// Nothing real to test here: the "system" only checks the claim against the model's state.
#[derive(Default)]
pub struct Claim;

impl System<Jugs> for Claim {
    fn apply(&mut self, _op: &Pour) {}

    fn invariant(&self, jugs: &Jugs) -> Result<(), String> {
        if jugs.big == 4 {
            Err(format!("the big jug holds 4 gallons ({jugs:?})"))
        } else {
            Ok(())
        }
    }
}

/// The example's settings (`tests/docs` runs them with other seeds and failure counts, to check
/// what the crate docs say of it).
pub fn config() -> Config {
    Config::default()
        .steps(1..=30)
        .cases(10_000)
        .failures(5)
        .persist(false)
}

fn main() {
    let result = Runner::<Jugs>::new(config()).run_default::<Claim>();
    println!("{}", result.report.text());
    if !result.failed() {
        eprintln!("stateprop: no solution found");
        std::process::exit(1);
    }
    println!("stateprop: solution in {} steps:", result.minimal.len());
    let mut jugs = Jugs::default();
    for op in &result.minimal {
        jugs.step(op);
        println!(
            "stateprop:   {op:?} -> small {}, big {}",
            jugs.small, jugs.big
        );
    }
}
