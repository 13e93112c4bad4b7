//! Parallel programs keep every precondition in every interleaving of their branches: a stack
//! whose `Pop` needs an element, run on a correct concurrent stack, never fails, and a saved
//! program where some interleaving pops an empty stack is refused by name. Likewise a prefix
//! descriptor one branch closes (`#[consumes]`) is named by no other branch.
//!
//! Before generation searched the interleavings, `prefix [Push] ; [Pop] ‖ [Pop]` was a possible
//! case: each branch alone can pop, but when both run, the second pop meets an empty model, which
//! here panics (as a model that trusts its precondition may), so the checker could not judge a
//! correct stack's history (undecided), and a model answering instead would have failed it.

use crate::pinned;
use stateprop::generate::validate_program;
use stateprop::prelude::*;
use stateprop::{ConcurrentSystem, Program, Runner};
use std::sync::Mutex;

/// A stack model trusting its precondition: popping an empty one is a bug in the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Stack {
    items: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Stack)]
pub enum StackOp {
    Push {
        #[strategy(0..4u32)]
        value: u32,
    },
    /// Heavier than a push, so branches often compete for the last element.
    #[rule(weight = 3, precondition = |m: &Stack| !m.items.is_empty())]
    Pop,
}

impl Model for Stack {
    type Op = StackOp;
    type Output = Option<u32>;

    fn step(&mut self, op: &StackOp) -> Option<u32> {
        match *op {
            StackOp::Push { value } => {
                self.items.push(value);
                None
            }
            StackOp::Pop => Some(
                self.items
                    .pop()
                    .expect("the precondition promises an element"),
            ),
        }
    }
}

/// A correct concurrent stack.
#[derive(Default)]
struct MutexStack(Mutex<Vec<u32>>);

impl ConcurrentSystem<Stack> for MutexStack {
    fn apply(&self, op: &StackOp) -> Option<u32> {
        let mut items = self.0.lock().unwrap();
        match *op {
            StackOp::Push { value } => {
                items.push(value);
                None
            }
            StackOp::Pop => items.pop(),
        }
    }
}

#[test]
fn a_correct_stack_whose_pop_needs_an_element_passes_on_threads() {
    for (seed, branches) in [(91, 2), (92, 3)] {
        let config = pinned(seed)
            .cases(400)
            .branches(branches)
            .prefix_steps(0..=2);
        let result = Runner::<Stack>::new(config).run_concurrent_default::<MutexStack>();
        let report = &result.report;
        assert!(!result.failed(), "{branches} branches:\n{}", report.text());
        assert_eq!(report.stats.cases, 400);
        // A model panicking in the checker leaves a history undecided rather than failed: a
        // case this test would otherwise pass without judging it.
        assert!(
            report.stats.undecided.is_empty(),
            "{branches} branches:\n{}",
            report.text()
        );
        // Pops were generated, so branches did compete for elements.
        let pops = report.stats.rules.iter().find(|(name, _)| *name == "Pop");
        assert!(
            pops.is_some_and(|(_, n)| *n > 100),
            "{:?}",
            report.stats.rules
        );
    }
}

#[test]
fn a_saved_program_where_an_interleaving_pops_an_empty_stack_is_refused() {
    let push = |value| StackOp::Push { value };
    let racing = Program::parallel(vec![push(1)], vec![vec![StackOp::Pop], vec![StackOp::Pop]]);
    let message = validate_program(&Stack::default(), &racing).unwrap_err();
    assert!(
        message.starts_with("branch 1 step 0, StackOp::Pop, is not enabled in model state"),
        "{message}"
    );
    assert!(message.contains("branch 0 step 0 before it"), "{message}");
    assert!(message.contains("every interleaving"), "{message}");

    // A later push in the second branch does not help: it may run after both pops.
    let late = Program::parallel(
        vec![push(1)],
        vec![vec![StackOp::Pop], vec![StackOp::Pop, push(2)]],
    );
    assert!(validate_program(&Stack::default(), &late).is_err());

    // Two elements, or a branch that pushes before it pops, keep every interleaving runnable.
    let enough = Program::parallel(
        vec![push(1), push(2)],
        vec![vec![StackOp::Pop], vec![StackOp::Pop]],
    );
    validate_program(&Stack::default(), &enough).unwrap();
    let own = Program::parallel(
        vec![push(1)],
        vec![vec![StackOp::Pop], vec![push(2), StackOp::Pop]],
    );
    validate_program(&Stack::default(), &own).unwrap();
}

/// An account whose withdrawals draw an amount up to the balance: the strategy, not a
/// precondition, ties the step to the state, and the model trusts it (an overdraft panics).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Account {
    balance: u32,
}

impl Default for Account {
    fn default() -> Self {
        Account { balance: 10 }
    }
}

#[derive(Debug, Clone, StateMachine)]
#[state_machine(model = Account)]
pub enum AccountOp {
    Withdraw {
        #[strategy(|m: &Account| 0..=m.balance)]
        amount: u32,
    },
    Read,
}

impl Model for Account {
    type Op = AccountOp;
    type Output = u32;
    fn step(&mut self, op: &AccountOp) -> u32 {
        if let AccountOp::Withdraw { amount } = *op {
            self.balance = self.balance.checked_sub(amount).expect("an overdraft");
        }
        self.balance
    }
}

/// A correct account: the same contract, atomic under a lock.
struct LockedAccount(Mutex<u32>);

impl Default for LockedAccount {
    fn default() -> Self {
        LockedAccount(Mutex::new(10))
    }
}

impl ConcurrentSystem<Account> for LockedAccount {
    fn apply(&self, op: &AccountOp) -> u32 {
        let mut balance = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let AccountOp::Withdraw { amount } = *op {
            *balance = balance.saturating_sub(amount);
        }
        *balance
    }
}

#[test]
fn amounts_drawn_from_the_balance_stay_drawable_in_every_interleaving() {
    // Two branches each withdrawing most of the balance: without the search, one order
    // overdraws the model and the history is left undecided.
    let result =
        Runner::<Account>::new(pinned(3).cases(200)).run_concurrent_default::<LockedAccount>();
    let report = &result.report;
    assert!(!result.failed(), "{}", report.text());
    assert!(report.stats.undecided.is_empty(), "{}", report.text());
}

/// A descriptor table whose close uses its handle up (`#[consumes]`): the model keeps only the
/// open descriptors and trusts that no step names a closed one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Table {
    next: u32,
    open: std::collections::BTreeMap<u32, u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fd(u32);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TableOut {
    Opened(Fd),
    Value(u32),
    Done,
    /// A closed descriptor: what the correct table answers, and the model never expects.
    BadFd,
}

impl FromOutput<TableOut> for Fd {
    fn from_output(output: &TableOut) -> Option<Fd> {
        match output {
            TableOut::Opened(fd) => Some(*fd),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, StateMachine)]
#[state_machine(model = Table)]
pub enum TableOp {
    Open,
    #[rule(weight = 2)]
    Write {
        fd: Var<Fd>,
        #[strategy(0..4u32)]
        value: u32,
    },
    #[rule(weight = 2)]
    Read {
        fd: Var<Fd>,
    },
    #[rule(weight = 2)]
    Close {
        #[consumes]
        fd: Var<Fd>,
    },
}

impl Model for Table {
    type Op = TableOp;
    type Output = TableOut;
    fn step(&mut self, op: &TableOp) -> TableOut {
        let open = "`#[consumes]` keeps closed descriptors out";
        match op {
            TableOp::Open => {
                self.next += 1;
                self.open.insert(self.next, 0);
                TableOut::Opened(Fd(self.next))
            }
            TableOp::Write { fd, value } => {
                *self.open.get_mut(&fd.0).expect(open) = *value;
                TableOut::Done
            }
            TableOp::Read { fd } => TableOut::Value(*self.open.get(&fd.0).expect(open)),
            // As in examples/resource_table.rs: closing needs nothing of the descriptor, so the
            // model does not check it is open (no step the generator makes closes it twice).
            TableOp::Close { fd } => {
                self.open.remove(&fd.0);
                TableOut::Done
            }
        }
    }
}

/// A correct concurrent table: a closed descriptor is refused.
#[derive(Default)]
struct LockedTable(Mutex<Table>);

impl ConcurrentSystem<Table> for LockedTable {
    fn apply(&self, op: &TableOp) -> TableOut {
        let mut table = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match op {
            TableOp::Open => {
                table.next += 1;
                let fd = table.next;
                table.open.insert(fd, 0);
                TableOut::Opened(Fd(fd))
            }
            TableOp::Write { fd, value } => match table.open.get_mut(&fd.0) {
                Some(slot) => {
                    *slot = *value;
                    TableOut::Done
                }
                None => TableOut::BadFd,
            },
            TableOp::Read { fd } => table
                .open
                .get(&fd.0)
                .map_or(TableOut::BadFd, |v| TableOut::Value(*v)),
            TableOp::Close { fd } => match table.open.remove(&fd.0) {
                Some(_) => TableOut::Done,
                None => TableOut::BadFd,
            },
        }
    }
}

#[test]
fn a_correct_table_whose_close_consumes_passes_on_threads() {
    // Before `#[consumes]` held across branches, two branches could close one prefix
    // descriptor: the table answers the second close `BadFd`, which no order of the model
    // explains (a read or write of it after another branch's close made the model panic, which
    // the interleaving search already refused).
    for (seed, branches) in [(31, 2), (32, 3)] {
        let config = pinned(seed)
            .cases(300)
            .branches(branches)
            .prefix_steps(1..=4);
        let result = Runner::<Table>::new(config).run_concurrent_default::<LockedTable>();
        let report = &result.report;
        assert!(!result.failed(), "{branches} branches:\n{}", report.text());
        assert_eq!(report.stats.cases, 300);
        assert!(
            report.stats.undecided.is_empty(),
            "{branches} branches:\n{}",
            report.text()
        );
        let closes = report.stats.rules.iter().find(|(name, _)| *name == "Close");
        assert!(
            closes.is_some_and(|(_, n)| *n > 100),
            "{:?}",
            report.stats.rules
        );
    }
}

#[test]
fn a_saved_program_closing_a_descriptor_another_branch_uses_is_refused() {
    let close = TableOp::Close { fd: Var::at(0) };
    let read = TableOp::Read { fd: Var::at(0) };
    let with = |branches| Program::parallel(vec![TableOp::Open], branches);
    // Two closes of one descriptor: the model never panics, so only `#[consumes]` tells.
    let message = validate_program(
        &Table::default(),
        &with(vec![vec![close.clone()], vec![close.clone()]]),
    )
    .unwrap_err();
    assert!(
        message.starts_with(
            "branch 1 step 0, TableOp::Close { fd: Var::at(0) }, has a `Var` naming step 0, \
             whose result branch 0 step 0, in another branch, uses up"
        ),
        "{message}"
    );
    assert!(
        message.contains("unavailable to every other branch"),
        "{message}"
    );
    // A read, then another branch's close of what it reads.
    let message = validate_program(
        &Table::default(),
        &with(vec![vec![read.clone()], vec![close.clone()]]),
    )
    .unwrap_err();
    assert!(
        message.starts_with(
            "branch 1 step 0, TableOp::Close { fd: Var::at(0) }, uses up the result of step 0 \
             with a `#[consumes]` field, and branch 0 step 0, in another branch, names it too"
        ),
        "{message}"
    );
    // Each branch alone is fine, two reads are, and so is a branch reading then closing.
    for branches in [
        vec![vec![close.clone()]],
        vec![vec![read.clone()], vec![read.clone()]],
        vec![vec![read.clone(), close.clone()], vec![TableOp::Open]],
    ] {
        validate_program(&Table::default(), &with(branches)).unwrap();
    }
}
